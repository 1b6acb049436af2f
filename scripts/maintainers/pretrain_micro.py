"""Pretrain the course micro-model: the quick profile's stand-in for the SmolLM2 ids, with real (learned) weights.

    python scripts/maintainers/pretrain_micro.py          # generate the text, pretrain, write data/micro-llama/
    python scripts/maintainers/pretrain_micro.py --check  # retrain and compare with the shipped weights; writes nothing
    python scripts/maintainers/pretrain_micro.py --corpus # print a sample of the pretraining text and its size, then stop

What it builds: a LlamaForCausalLM with the same classes and module names as SmolLM2 (q_proj, k_proj, v_proj,
o_proj, gate_proj, up_proj, down_proj), grouped-query attention like SmolLM2 (4 query heads share 2 key/value
heads), tied input/output embeddings, and the project's 1,000-token byte-level BPE (data/tokenizer.json).
About 0.7 million parameters, stored in fp32 (about 2.9 MB).

What it learns from: text generated here, at build time, from a grammar and word banks written by the project
(data/source/pretraining.toml: everyday how-to advice, FAQ entries, short explanations, reader letters about
everyday problems, loose everyday sentences, safety-minded notes), advice notes on the course's own topics (its
[course_frames], filled with every everyday and harmful request of data/source/preferences.toml, train and test,
with its steps or the reasons against it, and the excuses and "secrecy" phrases the rejected answers are made of -
in the second person, as prose, never as a dialogue or as an answer of the pairs, so that the base model knows the
words of BOTH sides of every pair and its loss on the course's answers is far below a random model's) and keyword
lists ("Tags: rumour, tomatoes, glasses, ...") whose single words are drawn from the vocabulary of the course's
TRAINING pairs, in random order (735 of the tokenizer's 1,000 tokens occur in the text; a LoRA adapter cannot train
embedding rows, so the base has to know the answers' tokens). Nothing is copied from anywhere, and the text
- is prose, FAQ entries ("Question: ... / Answer: ...") and keyword lists, as web pages print them: no
  "Human:"/"Assistant:" dialogue, no chat template. Documents of 3-8 paragraphs (85-800 tokens) are packed into
  one stream, each followed by EOS - the standard separator, as in GPT-2's pretraining. So the base model knows
  the EOS token, but only after a whole document: it writes fluent-looking text in the course's domain and neither
  follows the dialogue format nor stops within an answer's length; notebook 03 (SFT) teaches it both;
- contains none of the course's preference pairs or evaluation prompts (tests/test_micro.py checks this).
The keyword lists read data/hh_pref/train.jsonl, so rerun this script after scripts/maintainers/make_data.py changes it.

Time: 300 steps of 24 x 128 tokens (about 0.9M tokens seen) take about 1 minute of CPU time on one thread
(measured: 65 s of CPU time; 123 s wall-clock on the shared 2-core machine at a load average of ~10; expect about
1-2 minutes on 2 idle cores). It prints both numbers when it finishes.

Deterministic: the text comes from random.Random(SEED), torch is seeded, and training runs on ONE CPU thread
(multi-threaded reductions may add in a different order), so on the same machine and torch build a rerun gives
bit-identical weights. `--check` reports the largest weight difference and passes if it is within CHECK_ATOL
and the held-out loss within CHECK_LOSS_NATS (other CPUs or torch builds may round differently; the
tolerance is stated so a reproduction elsewhere still means something). CI never retrains; it loads the file.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "micro-llama"
TOKENIZER = ROOT / "data" / "tokenizer.json"
SEED = 1234
CHECK_ATOL = 1e-4          # --check: largest allowed |weight difference| against the shipped file
CHECK_LOSS_NATS = 0.02     # --check: largest allowed difference in held-out loss (nats/token)

ARCH = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=256, max_position_embeddings=1024, rope_theta=100000.0, tie_word_embeddings=True,
            hidden_act="silu", rms_norm_eps=1e-5)
TRAIN = dict(documents=3_000, paragraphs=(3, 8), seq_len=128, batch_size=24, steps=300, lr=3e-3, warmup=20,
             weight_decay=0.01, min_lr_ratio=0.1, heldout_documents=80, tags_share=0.2,
             course_share=0.4, course_kinds=dict(steps=3, reasons=3, excuse=0.4, secrecy=0.6))

# =============================================================================================================
# The text generator. Every word bank and frame is in data/source/pretraining.toml (its comments say what each table
# is for); the course's own topics come from data/source/preferences.toml through make_data.py. What is here: which
# kind of paragraph comes how often, and how the parts are joined.
# =============================================================================================================
def _make_data():
    spec = importlib.util.spec_from_file_location("make_data", ROOT / "scripts" / "maintainers" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


md = _make_data()                                   # the course's topics and phrases, and read_source
TEXT = md.read_source(ROOT / "data" / "source" / "pretraining.toml")
TOPICS = [(t["goal"], t["steps"], t["why"], t.get("help")) for t in TEXT["topics"]]
HOW_TO, FAQ, SAFETY, EXPLANATIONS = TEXT["how_to"], TEXT["faq"], TEXT["safety"], TEXT["explanations"]
LETTERS, SENTENCES, TAGS, COURSE_FRAMES = TEXT["letters"], TEXT["sentences"], TEXT["tags"], TEXT["course_frames"]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def how_to(rng: random.Random) -> str:
    """A how-to paragraph: an opener, three linked steps, often why it works and when to get help, a closer."""
    goal, steps, why, help_ = rng.choice(TOPICS)
    s1, s2, s3 = rng.sample(steps, 3) if rng.random() < 0.3 else steps
    links = rng.choice(HOW_TO["step_links"])
    parts = [rng.choice(HOW_TO["openers"]).format(goal=goal),
             links[0].format(s1=s1, S1=_cap(s1)), links[1].format(s2=s2), links[2].format(s3=s3)]
    if rng.random() < 0.7:
        parts.append(rng.choice(HOW_TO["why"]).format(why=why))
    if help_ and rng.random() < 0.8:
        parts.append(rng.choice(HOW_TO["help"]).format(help=help_))
    parts.append(rng.choice(HOW_TO["closers"]))
    return " ".join(p for p in parts if p)


def faq(rng: random.Random) -> str:
    """A question and its answer as an FAQ page prints them (not a dialogue, and never followed by EOS)."""
    goal, steps, why, _help = rng.choice(TOPICS)
    s1, s2, s3 = rng.sample(steps, 3)
    question = rng.choice(FAQ["questions"]).format(goal=goal)
    answer = rng.choice(FAQ["answers"]).format(s1=s1, S1=_cap(s1), s2=s2, s3=s3, Why=_cap(why))
    return f"{question}\n{answer}"


def safety_note(rng: random.Random) -> str:
    what, why, better = rng.choice(SAFETY["themes"])
    return rng.choice(SAFETY["frames"]).format(what=what, why=why, Why=_cap(why), better=better)


def fact_note(rng: random.Random) -> str:
    topic, fact = rng.choice(EXPLANATIONS["facts"])
    return rng.choice(EXPLANATIONS["frames"]).format(topic=topic, fact=fact, Fact=_cap(fact))


def letter(rng: random.Random) -> str:
    person = rng.choice(LETTERS["people"])
    a1, a2 = rng.sample(LETTERS["advice"], 2)
    return rng.choice(LETTERS["frames"]).format(person=person, Person=_cap(person),
                                                problem=rng.choice(LETTERS["problems"]), a1=a1, a2=a2)


def everyday(rng: random.Random) -> str:
    """Two to four plain sentences from the word banks (varied, loosely connected, like notes on a blog)."""
    w = SENTENCES
    sentences = []
    for i in range(rng.randint(1, 3)):
        s = f"{rng.choice(w['subjects'])} {rng.choice(w['verbs'])} {rng.choice(w['objects'])}{rng.choice(w['tails'])}."
        if i and rng.random() < 0.4:
            link = rng.choice(w["links"])
            s = link.strip() + " " + s[0].lower() + s[1:]
        sentences.append(s)
    return " ".join(sentences)


# Keyword lists ("Tags: ...", as blogs and book indexes print them), with single words drawn from the vocabulary of
# the course's TRAINING pairs (data/hh_pref/train.jsonl; never the test split or the evaluation prompts). Only
# words, in random order - no phrase or sentence of the pairs - so the model meets every token the course's
# answers are made of (a LoRA adapter cannot train the embedding rows of tokens the base never saw) without
# seeing any answer.
def _training_words() -> list[str]:
    import re

    words = set()
    for line in (ROOT / "data" / "hh_pref" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        words.update(re.findall(r"[A-Za-z]+(?:'[a-z]+)?|\d+", row.get("chosen", "") + " " + row.get("rejected", "")))
    return sorted(words - {"Human", "Assistant"})


_WORDS: list[str] = []


def tags(rng: random.Random) -> str:
    if not _WORDS:
        _WORDS.extend(_training_words())
    return rng.choice(TAGS["frames"]).format(words=", ".join(rng.sample(_WORDS, rng.randint(4, 10))))


# The course's topics (every everyday and harmful request of train AND test), as advice prose in the second person -
# never as a dialogue, never an answer of the pairs - so the base model knows the words of both sides of every pair:
# the steps of everyday advice and the excuses of an unhelpful reply, the reasons against a harmful plan and the
# "secrecy" of going along with it. How often each kind comes (TRAIN["course_kinds"]) sets how familiar each side
# is: a topic's steps or reasons are its own, while the excuses and secrecy phrases are a few stock phrases shared by
# every topic, so with weights 3, 3, 1, 1 the base model found the rejected side more likely on most held-out pairs
# (0.135 preference accuracy, measured on an earlier version of this text). The stock phrases come less often (0.4
# and 0.6 against 3), chosen by measuring: the base is then near chance on the held-out pairs (0.458, measured), as a
# small base model is on HH-RLHF. tests/test_micro.py re-measures it.
COURSE_EVERYDAY = md.everyday_topics(md.EVERYDAY_TRAIN) + md.everyday_topics(md.EVERYDAY_TEST)
COURSE_HARMFUL = md.harmful_topics(md.GEN_TRAIN_REQUESTS + md.GEN_TEST_REQUESTS + md.EXTRA_TEST_REQUESTS)


def course_note(rng: random.Random) -> str:
    kind = rng.choices(sorted(COURSE_FRAMES), weights=[TRAIN["course_kinds"][k] for k in sorted(COURSE_FRAMES)])[0]
    frame = rng.choice(COURSE_FRAMES[kind])
    if kind in ("steps", "excuse"):
        goal, s1, s2 = rng.choice(COURSE_EVERYDAY)
        text = frame.format(g=md.you(goal), s1=s1, s2=s2, x=rng.choice(md.EXCUSES), b=rng.choice(md.BRUSH_OFFS))
    else:
        goal, w, alt = rng.choice(COURSE_HARMFUL)
        s1, s2 = rng.sample(md.SNEAKY, 2)
        text = frame.format(g=md.you(goal), w=w, alt=alt, s1=s1, s2=s2)
    return _cap(text)


def document(rng: random.Random) -> str:
    """One short paragraph: keywords, a course note, an explanation, a reader letter, everyday sentences, an FAQ
    entry, a safety-minded note or a how-to."""
    if rng.random() < TRAIN["tags_share"]:
        return tags(rng)
    if rng.random() < TRAIN["course_share"]:
        return course_note(rng)
    kind = rng.random()
    if kind < 0.25:
        return fact_note(rng)
    if kind < 0.45:
        return letter(rng)
    if kind < 0.7:
        return everyday(rng)
    if rng.random() < 0.3:
        return faq(rng)
    if rng.random() < 0.15:
        return safety_note(rng)
    return how_to(rng)


def corpus(n_documents: int, seed: int = SEED) -> list[str]:
    """``n_documents`` generated documents (each PARAGRAPHS[0]-PARAGRAPHS[1] paragraphs separated by blank lines,
    like a web page), always the same for the same seed."""
    rng = random.Random(seed)
    lo, hi = TRAIN["paragraphs"]
    return ["\n\n".join(document(rng) for _ in range(rng.randint(lo, hi))) for _ in range(n_documents)]


def corpus_sha256(documents: list[str]) -> str:
    """The fingerprint of the pretraining text that pretrain.json records (``corpus_sha256``): SHA-256 of the
    documents joined by blank lines. tests/test_micro.py compares it with a fresh ``corpus``."""
    return hashlib.sha256("\n\n".join(documents).encode()).hexdigest()


# =============================================================================================================
# Training
# =============================================================================================================
def _tokenizer():
    import transformers

    return transformers.PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER), eos_token="<|endoftext|>",
                                                bos_token="<|endoftext|>", unk_token=None, model_max_length=1024,
                                                clean_up_tokenization_spaces=False)


def _stream(tokenizer, documents) -> "torch.Tensor":
    """All documents as one token stream, each followed by EOS: standard packing, with EOS as the document
    separator (as GPT-2 was pretrained). EOS comes only after a whole document of several paragraphs, so the base
    model knows the token but does not say it after one short answer."""
    import torch

    ids = []
    for row in tokenizer(documents)["input_ids"]:
        ids += row + [tokenizer.eos_token_id]
    return torch.tensor(ids, dtype=torch.long)


def config():
    import transformers

    tok = _tokenizer()
    return transformers.LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                                    eos_token_id=tok.eos_token_id, **ARCH)


def heldout_loss(model, stream, seq_len: int) -> float:
    """Mean next-token cross-entropy (nats/token) over the held-out stream in consecutive windows."""
    import torch

    n = (len(stream) - 1) // seq_len
    x = stream[: n * seq_len].view(n, seq_len)
    total = 0.0
    with torch.no_grad():
        for chunk in x.split(64):
            total += model(input_ids=chunk, labels=chunk).loss.item() * len(chunk)
    return total / n


def train(log=print):
    import torch
    import transformers

    torch.set_num_threads(1)                     # one thread: bit-identical reruns on the same machine
    torch.manual_seed(SEED)
    transformers.utils.logging.set_verbosity_error()
    tok = _tokenizer()
    docs = corpus(TRAIN["documents"] + TRAIN["heldout_documents"])
    train_stream = _stream(tok, docs[: TRAIN["documents"]])
    held_stream = _stream(tok, docs[TRAIN["documents"]:])
    model = transformers.LlamaForCausalLM(config())
    n_params = sum(p.numel() for p in model.parameters())
    steps, bs, seq = TRAIN["steps"], TRAIN["batch_size"], TRAIN["seq_len"]
    log(f"corpus: {len(docs):,} generated documents, {len(train_stream):,} training tokens, "
        f"{len(held_stream):,} held-out tokens; model: {n_params:,} parameters; "
        f"{steps} steps x {bs} x {seq} tokens = {steps * bs * seq:,} tokens seen")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=TRAIN["lr"], betas=(0.9, 0.95))

    def lr_at(step):
        if step < TRAIN["warmup"]:
            return (step + 1) / TRAIN["warmup"]
        progress = (step - TRAIN["warmup"]) / max(1, steps - TRAIN["warmup"])
        return TRAIN["min_lr_ratio"] + (1 - TRAIN["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(SEED)
    loss0 = heldout_loss(model.eval(), held_stream, seq)
    model.train()
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(steps):
        starts = torch.randint(0, len(train_stream) - seq - 1, (bs,), generator=gen)
        x = torch.stack([train_stream[s: s + seq] for s in starts.tolist()])
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if (step + 1) % 50 == 0 or step == 0:
            log(f"  step {step + 1:4d}/{steps}  train loss {loss.item():.3f}  "
                f"({time.perf_counter() - start:.0f} s)")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    loss1 = heldout_loss(model, held_stream, seq)
    log(f"held-out loss {loss0:.3f} -> {loss1:.3f} nats/token (uniform over {len(tok)} tokens: "
        f"{math.log(len(tok)):.3f}); training took {seconds:.0f} s wall, {cpu_seconds:.0f} s of CPU time on 1 thread "
        "(on an idle machine the two are equal; on a busy one the wall time is longer)")
    info = {"parameters": n_params, "train_tokens": len(train_stream), "heldout_tokens": len(held_stream),
            "tokens_seen": steps * bs * seq, "heldout_loss_before": round(loss0, 4),
            "heldout_loss_after": round(loss1, 4), "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu_seconds, 1),
            "tokenizer_sha256": hashlib.sha256(TOKENIZER.read_bytes()).hexdigest(),
            "corpus_sha256": corpus_sha256(docs),
            "seed": SEED, "threads": 1, "torch": torch.__version__, "transformers": transformers.__version__,
            "arch": ARCH, "train": TRAIN}
    return model, tok, info, held_stream


def save(model, tok, info) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = tok.eos_token_id
    model.save_pretrained(OUT, safe_serialization=True)
    tok.save_pretrained(OUT)
    (OUT / "pretrain.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def check(model, info, held_stream, log=print) -> bool:
    import torch
    import transformers

    shipped = transformers.LlamaForCausalLM.from_pretrained(OUT, dtype=torch.float32).eval()
    ours, theirs = model.state_dict(), shipped.state_dict()
    diff = max((ours[k] - theirs[k]).abs().max().item() for k in theirs)
    shipped_info = json.loads((OUT / "pretrain.json").read_text(encoding="utf-8"))
    loss_diff = abs(heldout_loss(shipped, held_stream, TRAIN["seq_len"]) - info["heldout_loss_after"])
    same_inputs = all(shipped_info[k] == info[k] for k in ("tokenizer_sha256", "corpus_sha256"))
    log(f"largest weight difference {diff:.2e} (tolerance {CHECK_ATOL:.0e}); held-out loss difference "
        f"{loss_diff:.4f} nats (tolerance {CHECK_LOSS_NATS}); same tokenizer and corpus: {same_inputs}")
    return same_inputs and diff <= CHECK_ATOL and loss_diff <= CHECK_LOSS_NATS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped model")
    parser.add_argument("--corpus", action="store_true", help="print sample documents and the corpus size")
    args = parser.parse_args()
    if args.corpus:
        docs = corpus(TRAIN["documents"])
        print("\n\n".join(docs[:6]))
        print(f"\n{len(docs):,} documents, {sum(len(d) for d in docs):,} characters, "
              f"{len(set(docs)):,} distinct")
        return 0
    model, tok, info, held = train()
    if args.check:
        ok = check(model, info, held)
        print("data/micro-llama is reproduced" if ok else "data/micro-llama differs from a fresh pretraining run")
        return 0 if ok else 1
    save(model, tok, info)
    size = (OUT / "model.safetensors").stat().st_size
    print(f"wrote {OUT.relative_to(ROOT)}: model.safetensors {size / 2**20:.1f} MiB, config, tokenizer, pretrain.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
