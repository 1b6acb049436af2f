"""Build an offline stand-in for the Hugging Face Hub, so the full profile can be rehearsed without a network.

    python scripts/ci/build_standin_hub.py                       # -> outputs/standin-hub/ (ignored by git)
    python scripts/ci/build_standin_hub.py --out DIR --layers 2 --scale 0.05
    HF_HOME=outputs/standin-hub HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 COURSE_PROFILE=full python ...

What it writes (the layouts transformers 5.23 and datasets 5.2 read in offline mode):

- Models: for every model id a notebook's config cell names (``*_ID = "owner/name"`` in the cell tagged
  ``parameters``; ``--models`` overrides), ``hub/models--OWNER--NAME/snapshots/<40 hex>/`` with ``refs/main``
  naming that snapshot. The config is the model's real one from ``helpers.models.MODELS`` - same vocabulary, widths,
  heads and module names - with only the DEPTH shrunk (``--layers``, default 2), and random weights (seeded).
  The tokenizer is a byte-level BPE of the real vocabulary size (49,152 for SmolLM2) with the real special tokens
  at their real ids, BOS/EOS/pad/UNK and chat template as recorded in ``ModelSpec``: a byte-level BPE is trained
  on the stand-in dialogues, then extended with merges of existing tokens until it has the real size.
- Dataset: Anthropic/hh-rlhf as prepared Arrow files under ``datasets/Anthropic___hh-rlhf/default/0.0.0/<hash>/``.
  datasets 5.2 in offline mode does not read hub-cache jsonl files; it only falls back to this prepared cache. The
  rows keep the real layout: four subsets one after another in each split (harmless-base, helpful-base,
  helpful-online, helpful-rejection-sampled), ``chosen``/``rejected`` whole dialogues sharing everything up to the
  last "\\n\\nAssistant:". ``--scale`` sets the size relative to the real splits (160,800 train / 8,552 test rows):
  default 0.05 (8,040 / 428). About 10% are long multi-turn dialogues (well over 512 tokens), so the truncation
  paths run, and about 0.5% are malformed the ways real rows are (no final answer, no assistant turn).

Deterministic: the same arguments give the same files (seeded text, weights and snapshot hashes). The content is
generated here from word lists; nothing is copied from the real dataset or models.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import runpy
import shutil
import sys
import tempfile
import time
from pathlib import Path

try:
    from tools import notebook
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

ROOT = notebook.ROOT

DEFAULT_OUT = ROOT / "outputs" / "standin-hub"
BUILDER_VERSION = "1"   # bump when the layout or content changes: the snapshot hashes change with it
SUBSETS = {  # rows in the real Anthropic/hh-rlhf (train, test), in the order the real splits list them
    "harmless-base": (42_537, 2_312),
    "helpful-base": (43_835, 2_354),
    "helpful-online": (22_007, 1_137),
    "helpful-rejection-sampled": (52_421, 2_749),
}
LONG_SHARE = 0.10        # long multi-turn dialogues (beyond 512 tokens)
MALFORMED_SHARE = 0.005  # rows that do not parse, as in the real data

_WORDS = ("the a an this that my your our some any every water time people way day man woman child world life hand "
          "part place case week company system program question work government number night point home room mother "
          "area money story fact month lot right study book eye job word business issue side kind head house service "
          "friend father power hour game line end member law car city community name president team minute idea kid "
          "body information back parent face others level office door health person art war history party result "
          "change morning reason research girl guy moment air teacher force education foot boy age policy music bread "
          "garden recipe dog cat bike train coffee tea river mountain weather computer phone letter school doctor").split()
_VERBS = ("is was make get know think take see come want look use find give tell work call try ask need feel become "
          "leave put mean keep let begin seem help talk turn start show hear play run move like live believe hold "
          "bring happen write provide sit stand lose pay meet include continue set learn change lead understand watch "
          "follow stop create speak read allow add spend grow open walk win offer remember love consider appear buy").split()
_QUESTION_OPENERS = ("How do I", "Can you tell me how to", "What is the best way to", "Why does", "Is it okay to",
                     "What should I do if I", "Could you explain how to", "Where can I")
_ANSWER_OPENERS = ("Sure, here is one way:", "I think", "That depends on", "A common approach is to", "You could",
                   "I'm not sure, but", "One option is to", "Good question.")


def _sentence(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(_WORDS if i % 3 else _VERBS) for i in range(n_words)]
    return " ".join(words).capitalize() + rng.choice(".!?.")


def _text(rng: random.Random, sentences: int, words=(6, 16)) -> str:
    return " ".join(_sentence(rng, rng.randint(*words)) for _ in range(sentences))


def _pair(rng: random.Random, long: bool) -> dict:
    """One preference pair: two dialogues identical up to the last "\\n\\nAssistant:", different final answers."""
    turns = rng.randint(5, 9) if long else rng.randint(1, 3)
    size = (4, 9) if long else (1, 3)
    text = ""
    for turn in range(turns):
        question = f"{rng.choice(_QUESTION_OPENERS)} {_text(rng, rng.randint(*size)).lower()}"
        text += f"\n\nHuman: {question}"
        if turn < turns - 1:
            text += f"\n\nAssistant: {rng.choice(_ANSWER_OPENERS)} {_text(rng, rng.randint(*size))}"
    prompt = text + "\n\nAssistant:"
    chosen = f" {rng.choice(_ANSWER_OPENERS)} {_text(rng, rng.randint(*size))}"
    rejected = f" {rng.choice(_ANSWER_OPENERS)} {_text(rng, rng.randint(1, size[1]))}"
    return {"chosen": prompt + chosen, "rejected": prompt + rejected}


def _malformed(rng: random.Random) -> dict:
    """A row of the kinds real HH-RLHF has a few of: an empty final answer, or no assistant turn at all."""
    question = f"\n\nHuman: {rng.choice(_QUESTION_OPENERS)} {_text(rng, 1).lower()}"
    if rng.random() < 0.5:
        return {"chosen": question + "\n\nAssistant:", "rejected": question + "\n\nAssistant: " + _text(rng, 1)}
    return {"chosen": question, "rejected": question + " " + _text(rng, 1)}


def dataset_rows(scale: float, seed: int = 0) -> dict[str, dict[str, list[dict]]]:
    """{split: {subset: rows}} for 'train' and 'test', the four subsets in the real order, each ``scale`` x real."""
    splits = {"train": {}, "test": {}}
    for subset, sizes in SUBSETS.items():
        for split, real in zip(("train", "test"), sizes):
            rng = random.Random(f"{seed}-{subset}-{split}")
            rows = []
            for _ in range(max(4, round(real * scale))):
                r = rng.random()
                rows.append(_malformed(rng) if r < MALFORMED_SHARE else _pair(rng, long=r > 1 - LONG_SHARE))
            splits[split][subset] = rows
    return splits


def write_dataset(out: Path, rows: dict[str, dict[str, list[dict]]]) -> Path:
    """Prepared Arrow files where datasets looks for Anthropic/hh-rlhf offline; returns that folder."""
    import datasets

    target_root = out / "datasets" / "Anthropic___hh-rlhf"
    if target_root.exists():
        shutil.rmtree(target_root)
    with tempfile.TemporaryDirectory() as tmp:
        # the real repository's layout, <subset>/<split>.jsonl.gz, at a fixed path with fixed timestamps: datasets
        # hashes paths and modification times into the cache folder's name, which then repeats build after build
        source = out / "_source" / "hh-rlhf"
        if source.exists():
            shutil.rmtree(source)
        for split, subsets in rows.items():
            for subset, part in subsets.items():
                (source / subset).mkdir(parents=True, exist_ok=True)
                path = source / subset / f"{split}.jsonl.gz"
                with gzip.GzipFile(path, "wb", mtime=0) as f:
                    f.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in part).encode("utf-8"))
                os.utime(path, (0, 0))
        cache = Path(tmp) / "cache"
        data_files = {split: [f"{subset}/{split}.jsonl.gz" for subset in SUBSETS] for split in rows}
        datasets.disable_progress_bars()
        datasets.load_dataset(str(source), data_files=data_files, cache_dir=str(cache))
        prepared = [p for p in cache.glob("*/*/*/*") if p.is_dir() and (p / "dataset_info.json").exists()]
        if len(prepared) != 1:
            raise RuntimeError(f"expected one prepared dataset under {cache}, found {prepared}")
        version_dir = prepared[0]
        info = json.loads((version_dir / "dataset_info.json").read_text(encoding="utf-8"))
        if info.get("config_name") != "default":
            raise RuntimeError(f"prepared dataset has config {info.get('config_name')!r}, expected 'default'")
        target = target_root / "default" / version_dir.parent.name / version_dir.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(version_dir, target)
    shutil.rmtree(out / "_source")
    return target


# --- tokenizers ---------------------------------------------------------------------------------------------
def build_tokenizer_json(spec, corpus: list[str], size: int) -> str:
    """A byte-level BPE with exactly ``size`` entries, ``spec.special_tokens`` at their real ids: from
    ``spec.special_ids_from`` on (SmolLM2: 0..16, before the BPE; Qwen: 151,643.., after it).

    Trained on ``corpus`` (a few thousand merges), then extended with merges of existing tokens (a + b for the
    first tokens a, b in id order) until the vocabulary has the real size: every entry is a genuine BPE token, so
    encode/decode round-trips, and every id up to ``size`` - 1 is a real token."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    if not spec.special_tokens:
        raise SystemExit(f"{spec.model_id}: no tokenizer facts in helpers.models.MODELS (ModelSpec.special_tokens, "
                         "bos/eos/pad/unk); record them before building a stand-in for it.")
    first = spec.special_ids_from
    specials_first = first == 0
    ordinary_size = size - len(spec.special_tokens) if specials_first else first
    if not specials_first and first + len(spec.special_tokens) != size:
        raise SystemExit(f"{spec.model_id}: special tokens at {first}.. must end the vocabulary of {size:,}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=min(size, 4_000),
                                  special_tokens=list(spec.special_tokens) if specials_first else [],
                                  show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    data = json.loads(tok.to_str())
    vocab, merges = data["model"]["vocab"], data["model"]["merges"]
    merges = [m.split(" ") if isinstance(m, str) else list(m) for m in merges]
    ordinary = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in spec.special_tokens]
    target = ordinary_size + (len(spec.special_tokens) if specials_first else 0)
    i = j = 0
    while len(vocab) < target:
        a, b = ordinary[i], ordinary[j]
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
            merges.append([a, b])
        j += 1
        if j == len(ordinary):
            i, j = i + 1, 0
    data["model"]["vocab"], data["model"]["merges"] = vocab, merges
    tok = Tokenizer.from_str(json.dumps(data))
    if not specials_first:   # appended after the BPE, as Qwen's tokenizer has them
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in spec.special_tokens])
    assert tok.get_vocab_size() == size, (tok.get_vocab_size(), size)
    return tok.to_str()


def build_wordpiece_vocab(corpus: list[str], size: int) -> dict[str, int]:
    """BERT's uncased WordPiece layout with exactly ``size`` entries: [PAD] 0, [unused0-98] 1-99, [UNK] 100,
    [CLS] 101, [SEP] 102, [MASK] 103, [unused99-993] 104-998 (as bert-base-uncased and DistilBERT have them), then
    word pieces trained on ``corpus`` and extended with concatenations of whole-word pieces to the real size."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    layout = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"[unused{i}]" for i in range(99, 994)]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(corpus, trainer=trainers.WordPieceTrainer(vocab_size=4_000, show_progress=False,
                                                                      special_tokens=["[UNK]"]))
    vocab = {t: i for i, t in enumerate(layout)}
    pieces = [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]) if t not in vocab]
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    words = [p for p in pieces if not p.startswith("##")]
    i = j = 0
    while len(vocab) < size:
        vocab.setdefault(words[i] + words[j], len(vocab))
        j += 1
        if j == len(words):
            i, j = i + 1, 0
    assert len(vocab) == size and vocab["[CLS]"] == 101 and vocab["[SEP]"] == 102
    return vocab


# --- the registry's scorers and heads (only this script and its tests build them) ------------------------------
def _scorers() -> dict:
    """Scorers: models that are not causal LMs, used by 06 in the full profile only (a reward model, BERTScore's
    encoder). Their ``family`` is the transformers model_type. Recorded here so that the stand-in hub can build
    them offline from their real configs; helpers.load_model and the quick profile never see them."""
    import dataclasses

    from helpers.models import MODELS, ModelSpec

    qwen = MODELS["Qwen/Qwen2.5-1.5B-Instruct"]  # Qwen3's tokenizer: Qwen2.5's plus four tokens (tools, <think>)
    return {s.model_id: s for s in [
        dataclasses.replace(
            qwen, model_id="Skywork/Skywork-Reward-V2-Qwen3-0.6B", family="qwen3", config=dict(
                vocab_size=151936, hidden_size=1024, num_hidden_layers=28, num_attention_heads=16,
                num_key_value_heads=8, head_dim=128, intermediate_size=3072, tie_word_embeddings=True,
                max_position_embeddings=40960, rope_theta=1000000.0, num_labels=1),
            params=596_050_944, head="sequence_classification",   # Qwen3-0.6B's body + a 1,024 -> 1 score head
            special_tokens=qwen.special_tokens + ("<tool_response>", "</tool_response>", "<think>", "</think>"),
            tokenizer_size=151_669),
        ModelSpec("distilbert-base-uncased", "distilbert", dict(vocab_size=30522, dim=768, n_layers=6, n_heads=12,
                  hidden_dim=3072, max_position_embeddings=512), 66_985_530, head="masked_lm",  # BERTScore: layer 5
                  eos_token=None, special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"), pad_token="[PAD]",
                  unk_token="[UNK]", aliases=("distilbert/distilbert-base-uncased",)),  # WordPiece, uncased
    ]}


def registered_spec(model_id: str):
    """The registry entry of a causal LM (``helpers.models.model_spec``) or of a scorer (``_scorers``)."""
    from helpers.models import model_spec

    for spec in _scorers().values():
        if model_id == spec.model_id or model_id in spec.aliases:
            return spec
    return model_spec(model_id)


def registered_config(model_id: str, **changes):
    """The real-size config of a causal LM or a scorer, offline, with ``changes`` (e.g. a shallower depth)
    applied before the config is built (Qwen's per-layer ``layer_types`` follow the depth)."""
    import transformers

    from helpers.models import FAMILIES

    spec = registered_spec(model_id)
    model_type = spec.family if spec.model_id in _scorers() else FAMILIES[spec.family].model_type
    return transformers.AutoConfig.for_model(model_type, **{**spec.config, **changes})


def registered_model_class(model_id: str):
    """The transformers Auto class of the checkpoint's head (causal LM, sequence classifier, masked LM)."""
    import transformers

    head = registered_spec(model_id).head
    return {"causal_lm": transformers.AutoModelForCausalLM, "masked_lm": transformers.AutoModelForMaskedLM,
            "sequence_classification": transformers.AutoModelForSequenceClassification}[head]


def save_tokenizer(spec, folder: Path, tokenizer_json) -> None:
    import transformers

    from helpers.models import CHAT_TEMPLATES

    if isinstance(tokenizer_json, dict):   # a WordPiece vocabulary: the real tokenizer class (DistilBERT's)
        tok = transformers.DistilBertTokenizer(vocab=tokenizer_json, do_lower_case=True,
                                               model_max_length=spec.config.get("max_position_embeddings"))
        tok.save_pretrained(folder)
        ids = tok("a b")["input_ids"]
        assert ids[0] == tok.cls_token_id == 101 and ids[-1] == tok.sep_token_id == 102, ids
        return
    (folder / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"), eos_token=spec.eos_token, bos_token=spec.bos_token,
        pad_token=spec.pad_token, unk_token=spec.unk_token, model_max_length=spec.config.get("max_position_embeddings"),
        clean_up_tokenization_spaces=False)
    if spec.chat_template:
        tok.chat_template = CHAT_TEMPLATES[spec.chat_template]
    tok.save_pretrained(folder)
    for token_id, token in enumerate(spec.special_tokens, start=spec.special_ids_from):
        assert tok.convert_tokens_to_ids(token) == token_id, (spec.model_id, token)


# --- models -------------------------------------------------------------------------------------------------
def save_model(spec, folder: Path, layers: int, seed: int) -> int:
    """Random weights (seeded) for the real config with ``layers`` blocks; returns the parameter count."""
    import torch
    import transformers


    transformers.utils.logging.disable_progress_bar()
    depth_key = next(k for k in ("n_layer", "n_layers", "num_hidden_layers") if k in spec.config)
    keep = layers
    if spec.head == "masked_lm":   # BERTScore cuts the encoder at its recommended layer: keep that many
        from bert_score.utils import model2layers

        keep = max(layers, model2layers.get(spec.model_id, 0))
    config = registered_config(spec.model_id, **{depth_key: min(keep, spec.config[depth_key])})
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    ids = {name: tok.convert_tokens_to_ids(t) if t else None
           for name, t in (("bos", spec.bos_token), ("eos", spec.eos_token), ("pad", spec.pad_token))}
    config.bos_token_id, config.eos_token_id, config.pad_token_id = ids["bos"], ids["eos"], ids["pad"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = registered_model_class(spec.model_id).from_config(config, dtype=torch.bfloat16)  # Hub: bf16
    if spec.head == "causal_lm":
        model.generation_config = transformers.GenerationConfig(bos_token_id=ids["bos"], eos_token_id=ids["eos"],
                                                                pad_token_id=ids["pad"])
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def config_cell_model_ids() -> list[str]:
    """Model ids that a notebook's config cell (tagged ``parameters``) assigns to a ``*_ID`` name."""
    from helpers.models import UnknownModelError

    ids = []
    for path in notebook.lesson_paths():
        for cell in notebook.config_cells(notebook.read(path)):
            for model_id in notebook.full_profile_model_ids(cell.source):
                try:
                    spec = registered_spec(model_id)
                except UnknownModelError:  # no published config in the registry: no stand-in can be built
                    print(f"  {path.stem} names {model_id}, which is not in helpers.models.MODELS: no stand-in built "
                          "(a notebook that loads it from the Hub cannot be rehearsed until it is)")
                    continue
                if not spec.special_tokens:  # e.g. 01's GPT-2, which 01 only ever loads as its quick stand-in
                    print(f"  {path.stem} names {model_id}: no tokenizer facts in helpers.models.MODELS, no stand-in "
                          "built (a notebook that loads it from the Hub cannot be rehearsed until they are)")
                    continue
                ids.append(spec.model_id)
    return list(dict.fromkeys(ids))


_full_profile_ids = notebook.full_profile_model_ids


def build(out: Path, model_ids: list[str], layers: int = 2, scale: float = 0.05, seed: int = 0) -> dict:
    """Build the stand-in hub in ``out``; returns what was written (model ids, snapshot folders, rows)."""

    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    rows = dataset_rows(scale, seed)
    sample = [row for part in rows["train"].values() for row in part[:500]]
    corpus = [r["chosen"] for r in sample] + [r["rejected"] for r in sample]
    data_dir = write_dataset(out, rows)
    built = {"models": {}, "dataset": str(data_dir),
             "rows": {split: sum(map(len, subsets.values())) for split, subsets in rows.items()}}
    tokenizers_by_facts: dict = {}
    for model_id in model_ids:
        spec = registered_spec(model_id)
        key = json.dumps([spec.model_id, BUILDER_VERSION, layers, seed, scale], sort_keys=True)
        sha = hashlib.sha1(key.encode()).hexdigest()
        repo = out / "hub" / f"models--{spec.model_id.replace('/', '--')}"
        if repo.exists():
            shutil.rmtree(repo)
        snapshot = repo / "snapshots" / sha
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(sha, encoding="utf-8")
        size = spec.tokenizer_size or spec.config.get("vocab_size")
        facts = (spec.special_tokens, spec.special_ids_from, size)
        if facts not in tokenizers_by_facts:   # base and Instruct share one vocabulary: train it once
            tokenizers_by_facts[facts] = (build_wordpiece_vocab(corpus, size) if spec.head == "masked_lm"
                                          else build_tokenizer_json(spec, corpus, size))
        save_tokenizer(spec, snapshot, tokenizers_by_facts[facts])
        n_params = save_model(spec, snapshot, layers, seed)
        built["models"][spec.model_id] = {"snapshot": str(snapshot), "parameters": n_params}
    built["seconds"] = round(time.perf_counter() - start, 1)
    (out / "standin-hub.json").write_text(json.dumps(built, indent=1) + "\n", encoding="utf-8")
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the HF_HOME to build (default %(default)s)")
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks per model (real widths; default 2)")
    parser.add_argument("--scale", type=float, default=0.05,
                        help="dataset size relative to the real splits (default 0.05: 8,040 train / 428 test rows)")
    parser.add_argument("--models", nargs="*", help="model ids (default: every *_ID a notebook's config cell names)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model_ids = args.models or config_cell_model_ids()
    if not model_ids:
        print("No model ids found: tag each notebook's config cell with 'parameters', or pass --models.")
        return 2
    built = build(args.out, model_ids, layers=args.layers, scale=args.scale, seed=args.seed)
    for model_id, facts in built["models"].items():
        print(f"model   {model_id}: {facts['parameters']:,} parameters ({args.layers} blocks, real widths and vocabulary)")
    print(f"dataset Anthropic/hh-rlhf: {built['rows']['train']:,} train / {built['rows']['test']:,} test rows")
    print(f"built {args.out} in {built['seconds']:.1f} s. Use it with: HF_HOME={args.out} HF_HUB_OFFLINE=1 "
          "HF_DATASETS_OFFLINE=1 COURSE_PROFILE=full")
    return 0


if __name__ == "__main__":
    sys.exit(main())
