"""The course micro-model (data/micro-llama, scripts/maintainers/pretrain_micro.py) and what fine-tuning it achieves.

The quick profile's SmolLM2 stand-in is a pretrained 0.7M-parameter Llama, so the quick runs of 03 (SFT) and
04 (DPO) can show real effects. This file
- checks the shipped model and its pretraining text (right classes, fp32, no dialogue format, no EOS, none of
  the course's pairs or evaluation prompts);
- measures that the pretrained base knows the course's language (held-out chosen answers, against the same
  architecture with random weights) and is near chance on the held-out pairs, as a small base model is on HH-RLHF;
- runs 03's quick SFT, 04's quick DPO (from the SFT adapter) and 05's quick ORPO (from the base) and asserts that
  each "it learned" claim holds PAIRED: the same scorer on the same held-out items before and after training,
  with helpers.evaluation.paired_difference and its interval on the difference (issue 21); chance and the length
  rule are printed as context only (run with -s to see every number);
- retrains the model and compares it with the shipped file only when COURSE_SLOW_TESTS=1 (minutes of CPU).
"""
import copy
import importlib.util
import json
import math
import os
import re
import subprocess
import sys

import pytest
import torch

import helpers
from helpers.evaluation import paired_difference
from helpers.models import MICRO_DIR, TOKENIZER_FILE
from tests.conftest import MODEL_ID

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)


def _pretrain_module():
    spec = importlib.util.spec_from_file_location("pretrain_micro", ROOT / "scripts" / "maintainers" / "pretrain_micro.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the shipped model ---------------------------------------------------------------------------------------
def test_shipped_model_is_small_fp32_llama_with_smollm2_names():
    size = (MICRO_DIR / "model.safetensors").stat().st_size
    assert size <= 10 * 2**20, f"{size / 2**20:.1f} MiB"
    model = helpers.load_model(MODEL_ID, "quick")
    real = helpers.build_model(MODEL_ID)
    assert type(model) is type(real) and model.config.num_key_value_heads < model.config.num_attention_heads  # GQA
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert helpers.count_parameters(model)[1] < 1_000_000
    for name in helpers.lora_targets(MODEL_ID):
        assert any(n.endswith(name) for n, _ in model.named_modules()), name


def test_smollm2_ids_share_the_pretrained_weights_and_other_families_stay_random():
    a = helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick")
    b = helpers.load_model("HuggingFaceTB/SmolLM2-360M-Instruct", "quick")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-360M-Instruct", "quick")
    assert b.generation_config.eos_token_id == tok.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")
    assert helpers.models.uses_micro_model("HuggingFaceTB/SmolLM2-135M")
    for other in ["EleutherAI/pythia-70m", "Qwen/Qwen2.5-0.5B", "gpt2", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"]:
        assert not helpers.models.uses_micro_model(other)


def test_shipped_model_matches_the_tokenizer_it_was_trained_with():
    import hashlib

    info = json.loads((MICRO_DIR / "pretrain.json").read_text())
    assert info["tokenizer_sha256"] == hashlib.sha256(TOKENIZER_FILE.read_bytes()).hexdigest(), (
        "data/tokenizer.json changed after pretraining: rerun python scripts/maintainers/pretrain_micro.py")
    assert info["heldout_loss_after"] < info["heldout_loss_before"] - 3  # it learned its text (nats/token)


def test_shipped_model_was_pretrained_on_the_text_the_sources_generate_now():
    """The text comes from data/source/*.toml and data/hh_pref/train.jsonl; an edit there without retraining fails
    here in a second, not only in the opt-in retraining below."""
    pm = _pretrain_module()
    docs = pm.corpus(pm.TRAIN["documents"] + pm.TRAIN["heldout_documents"])
    info = json.loads((MICRO_DIR / "pretrain.json").read_text())
    assert pm.corpus_sha256(docs[:-1]) != info["corpus_sha256"]    # the fingerprint reads the text: one fewer differs
    assert pm.corpus_sha256(docs) == info["corpus_sha256"], (
        "the pretraining text changed (data/source/ or data/hh_pref/train.jsonl): rerun "
        "python scripts/maintainers/pretrain_micro.py")


def test_pretraining_text_has_no_dialogue_eos_only_between_documents_and_none_of_the_course_data():
    pm = _pretrain_module()
    docs = pm.corpus(pm.TRAIN["documents"] + pm.TRAIN["heldout_documents"])
    text = "\n\n".join(docs)
    for marker in ["Human:", "Assistant:", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "</s>"]:
        assert marker not in text, marker
    tok = pm._tokenizer()
    stream = pm._stream(tok, docs[:50])
    assert int((stream == tok.eos_token_id).sum()) == 50 and stream[-1] == tok.eos_token_id  # one EOS per document
    lengths = [len(tok(d)["input_ids"]) for d in docs[:200]]
    assert min(lengths) > MAX_NEW_TOKENS, min(lengths)  # EOS never follows a short text: the base keeps writing
    prompts = helpers.load_eval_prompts()
    pieces = prompts["plain"] + prompts["harmful"] + [p for g in prompts["rephrase_groups"] for p in g["prompts"]]
    for split in ("train", "test"):
        for row in helpers.load_preferences("quick", split):
            for dialogue in (row["chosen"], row["rejected"]):
                pieces += [t.split(":", 1)[1].strip() for t in dialogue.split("\n\n") if ":" in t]
    lowered = text.lower()
    found = [p for p in pieces if len(p) >= 25 and p.lower() in lowered]
    assert not found, found[:3]


def test_base_model_writes_domain_text_but_not_the_dialogue_format():
    model = helpers.load_model(MODEL_ID, "quick")
    tok = helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")
    text = helpers.generate(model, tok, ["Many people wonder how to"], chat=False, max_new_tokens=30)[0]
    words = re.findall(r"[a-z]+", text.lower())
    assert len(words) >= 12 and len(set(words)) >= 8, text  # English-looking words, not noise


# --- what SFT, DPO and ORPO achieve (03's, 04's and 05's quick recipes), paired with the model before ---------
MAX_NEW_TOKENS = 64
PROMPTS_PER_SET = 24
ORPO_STEPS = math.ceil((30 * 4 + 20 * 8 * 2) / (2 * 8))   # 05's quick budget: the sequences of 03 + 04, 8 pairs a step


def answers(model, tok, questions, batch_size=PROMPTS_PER_SET):
    """(text, stopped with EOS before MAX_NEW_TOKENS) for each question, greedy; a set of prompts in one batch."""
    out = []
    for i in range(0, len(questions), batch_size):
        new = helpers.generate_ids(model, tok, questions[i: i + batch_size], max_new_tokens=MAX_NEW_TOKENS,
                                   do_sample=False)
        for row in new.tolist():
            stopped = tok.eos_token_id in row
            text = tok.decode(row[: row.index(tok.eos_token_id)] if stopped else row, skip_special_tokens=True)
            out.append((text.strip(), stopped))
    return out


def answer_logps(model, tok, examples, side, batch_size=16):
    """(summed log-probability, token count) of each example's ``side`` answer (with its EOS) given its prompt,
    rendered with the course template - what 06 scores: two (n,) tensors. ``batch_size`` examples per forward pass,
    right-padded with the pads masked out: each row's numbers are its own (causal attention, positions from 0)."""
    rows = []
    for ex in examples:
        p_ids = tok.apply_chat_template(ex["prompt"], add_generation_prompt=True, tokenize=True,
                                        return_dict=True)["input_ids"]
        full = tok.apply_chat_template(ex["prompt"] + ex[side], tokenize=True, return_dict=True)["input_ids"]
        rows.append((full, len(p_ids)))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    sums, counts = [], []
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            chunk = rows[i: i + batch_size]
            width = max(len(full) for full, _ in chunk)
            ids = torch.tensor([full + [pad] * (width - len(full)) for full, _ in chunk])
            mask = torch.tensor([[1] * len(full) + [0] * (width - len(full)) for full, _ in chunk])
            logp = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float().log_softmax(-1)
            token = logp.gather(-1, ids[:, 1:, None])[..., 0]
            for k, (full, start) in enumerate(chunk):
                token_logps = token[k, start - 1: len(full) - 1]      # the answer's tokens, up to the row's end
                sums.append(token_logps.sum().item())
                counts.append(len(token_logps))
    return torch.tensor(sums), torch.tensor(counts, dtype=torch.float64)


def preference(model, tok, examples):
    """Per held-out pair: 1.0 where the model gives the chosen answer the higher MEAN log-probability per token
    (06's score for a policy), else 0.0; plus the summed-log-probability margins (for DPO's implicit reward)."""
    (c_sum, c_n), (r_sum, r_n) = answer_logps(model, tok, examples, "chosen"), answer_logps(model, tok, examples,
                                                                                            "rejected")
    return (c_sum / c_n > r_sum / r_n).double(), c_sum - r_sum, c_sum / c_n


def refusal_rate(model, tok, questions):
    return [float(helpers.evaluation.refuses(t)) for t, _ in answers(model, tok, questions)]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """Base -> SFT (03's quick config) -> DPO (04's quick config); base -> ORPO (05's quick config). Every
    measurement on held-out data, per item, so that before and after can be paired."""
    import transformers
    from peft import PeftModel, get_peft_model
    from trl import DPOConfig, DPOTrainer, SFTTrainer
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    import datasets

    transformers.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a 0.7M-parameter model: one thread is faster, and far faster on a busy CPU
    helpers.seed_everything(0)
    out = tmp_path_factory.mktemp("micro")
    tok = helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")
    train, test = helpers.load_preferences("quick", "train"), helpers.load_preferences("quick", "test")
    train_sft, _ = helpers.train.sft_dataset(train)
    test_sft, _ = helpers.train.sft_dataset(test)
    test_pairs = [helpers.to_preference_example(r) for r in test]
    train_pairs = datasets.Dataset.from_list([e for _, e in helpers.parse_rows(train, helpers.to_preference_example)[0]])
    single = [ex for ex in test_pairs if len(ex["prompt"]) == 1]
    plain = [ex["prompt"][-1]["content"] for ex in single if not helpers.evaluation.refuses(ex["chosen"][0]["content"])]
    held_harmful = [ex["prompt"][-1]["content"] for ex in single if helpers.evaluation.refuses(ex["chosen"][0]["content"])]
    plain, held_harmful = plain[:PROMPTS_PER_SET], held_harmful[:PROMPTS_PER_SET]
    prompts = helpers.load_eval_prompts()
    harmful, everyday = prompts["harmful"], prompts["plain"]
    m = {"pairs": len(test_pairs)}

    refusal_sets = {"harmful": harmful, "heldout_harmful": held_harmful, "plain": everyday}

    def behaviour(model, tag, held_out=True, refusals=()):
        """Preference on every held-out pair; the held-out answers (EOS, format) if ``held_out``; the refusal rate
        on the ``refusals`` sets. Generating is most of the time: each model generates only for what a test
        asserts or a paired comparison below prints."""
        if held_out:
            held = answers(model, tok, plain)
            m[f"{tag}_eos"] = [float(s) for _, s in held]
            m[f"{tag}_format"] = [float(bool(s and t and "Human:" not in t and "Assistant:" not in t)) for t, s in held]
            m[f"{tag}_samples"] = held[:2]
        for name in refusals:
            m[f"{tag}_refuse_{name}"] = refusal_rate(model, tok, refusal_sets[name])
        m[f"{tag}_pref"], m[f"{tag}_margin"], m[f"{tag}_chosen_mean_logp"] = preference(model, tok, test_pairs)

    base = helpers.load_model(MODEL_ID, "quick").eval()
    behaviour(base, "base", refusals=["harmful"])
    torch.manual_seed(0)
    random_weights = transformers.LlamaForCausalLM(base.config).eval()
    r_sum, r_n = answer_logps(random_weights, tok, test_pairs, "chosen")
    m["random_chosen_mean_logp"] = r_sum / r_n
    lengths = [(len(tok(ex["chosen"][0]["content"])["input_ids"]), len(tok(ex["rejected"][0]["content"])["input_ids"]))
               for ex in test_pairs]
    m["length_rule"] = sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in lengths) / len(lengths)

    # 03's quick recipe (helpers.train.sft_recipe, the one definition 03's config cell teaches)
    args = helpers.train.sft_config(out / "sft", **helpers.train.sft_recipe("quick"), logging_steps=10,
                                    eval_steps=None, save_steps=None, seed=0)
    sft = SFTTrainer(model=helpers.load_model(MODEL_ID, "quick"), args=args, train_dataset=train_sft,
                     eval_dataset=test_sft, processing_class=tok, peft_config=helpers.train.lora_config(MODEL_ID))
    m["sft_loss_before"] = sft.evaluate()["eval_loss"]
    sft.train()
    m["sft_loss_after"] = sft.evaluate()["eval_loss"]
    sft.model.save_pretrained(out / "adapter", save_embedding_layers=False)
    behaviour(sft.model.eval(), "sft", refusals=["heldout_harmful"])

    # 04's quick recipe (helpers.train.dpo_recipe, the one definition 04's config cell teaches) from the SFT adapter
    d = helpers.train.dpo_recipe("quick")
    model = PeftModel.from_pretrained(helpers.load_model(MODEL_ID, "quick"), out / "adapter", is_trainable=True)
    dpo_args = DPOConfig(output_dir=str(out / "dpo"), beta=d["beta"], loss_type=["sigmoid"], max_steps=d["max_steps"],
                         per_device_train_batch_size=d["batch_pairs"], gradient_accumulation_steps=d["grad_accum"],
                         learning_rate=d["learning_rate"], lr_scheduler_type="linear", warmup_steps=0.1,
                         max_length=d["max_length"], activation_checkpointing=d["checkpointing"],
                         **helpers.precision().trainer_args, save_strategy="no",
                         report_to="none", seed=0, disable_tqdm=True, dataloader_pin_memory=False, logging_steps=10)
    dpo = DPOTrainer(model=model, ref_model=None, args=dpo_args, processing_class=tok, train_dataset=train_pairs)
    dpo.train()
    behaviour(dpo.model.eval(), "dpo", refusals=["plain"])

    # 04 section 11: the same run with the SFT term (TRL's loss_type=["sigmoid", "sft"], weight 1.0)
    model = PeftModel.from_pretrained(helpers.load_model(MODEL_ID, "quick"), out / "adapter", is_trainable=True)
    fix_args = copy.deepcopy(dpo_args)                    # as 04's dpo_sft_args: the same run, the SFT term added
    fix_args.loss_type, fix_args.loss_weights, fix_args.output_dir = ["sigmoid", "sft"], [1.0, 1.0], str(out / "dpo_sft")
    fix = DPOTrainer(model=model, ref_model=None, args=fix_args, processing_class=tok, train_dataset=train_pairs)
    fix.train()
    behaviour(fix.model.eval(), "dpo_sft", refusals=["heldout_harmful"])
    m["dpo_implicit"] = ((m["dpo_margin"] - m["sft_margin"]) > 0).double()  # 04/06's implicit-reward accuracy

    # 05's quick config from the base: lambda 1.0, lr 3e-3, 4 pairs x 2 accumulation, 03 + 04's sequence budget
    orpo_args = ORPOConfig(output_dir=str(out / "orpo"), beta=1.0, max_steps=ORPO_STEPS, per_device_train_batch_size=4,
                           gradient_accumulation_steps=2, learning_rate=3e-3, lr_scheduler_type="linear",
                           warmup_steps=0.1, max_length=256, activation_checkpointing=False,
                           **helpers.precision().trainer_args, save_strategy="no", report_to="none", seed=0,
                           disable_tqdm=True, dataloader_pin_memory=False, logging_steps=10,
                           remove_unused_columns=False)
    orpo_model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    orpo = ORPOTrainer(model=orpo_model, args=orpo_args, processing_class=tok, train_dataset=train_pairs)
    orpo.train()
    behaviour(orpo.model.eval(), "orpo", held_out=False)

    m["paired"] = {
        "SFT over base (held-out log-likelihood of the chosen answers, nats/token; higher is better)":
            paired_difference(m["base_chosen_mean_logp"], m["sft_chosen_mean_logp"], "held-out log-likelihood"),
        "SFT over base (answers ending with EOS)": paired_difference(m["base_eos"], m["sft_eos"], "EOS stops"),
        "SFT over base (preference accuracy)": paired_difference(m["base_pref"], m["sft_pref"], "pref. accuracy"),
        "DPO over its SFT reference (preference accuracy)": paired_difference(m["sft_pref"], m["dpo_pref"],
                                                                               "pref. accuracy"),
        "DPO+SFT over its SFT reference (preference accuracy)": paired_difference(m["sft_pref"], m["dpo_sft_pref"],
                                                                                   "pref. accuracy"),
        "DPO+SFT over SFT (held-out harmful prompts refused)": paired_difference(
            m["sft_refuse_heldout_harmful"], m["dpo_sft_refuse_heldout_harmful"], "refusals"),
        "DPO over SFT (answers ending with EOS)": paired_difference(m["sft_eos"], m["dpo_eos"], "EOS stops"),
        "DPO+SFT over DPO (answers ending with EOS)": paired_difference(m["dpo_eos"], m["dpo_sft_eos"], "EOS stops"),
        "ORPO over base (preference accuracy)": paired_difference(m["base_pref"], m["orpo_pref"], "pref. accuracy"),
        "pretrained over random weights (held-out chosen log-likelihood)": paired_difference(
            m["random_chosen_mean_logp"], m["base_chosen_mean_logp"], "log-likelihood"),
    }
    mean = lambda xs: sum(xs) / len(xs)
    print(f"\nmicro-model on {m['pairs']} held-out pairs (context: chance 0.500, length rule {m['length_rule']:.3f}); "
          f"SFT eval loss {m['sft_loss_before']:.2f} -> {m['sft_loss_after']:.2f} nats/token")
    for name, result in m["paired"].items():
        print(f"  {name}: {result}")
    print(f"  DPO implicit-reward accuracy (ref = SFT): {m['dpo_implicit'].mean():.3f}")
    for tag in ("base", "sft", "dpo", "dpo_sft", "orpo"):
        parts = [f"pref {m[f'{tag}_pref'].mean():.3f}"]
        if f"{tag}_eos" in m:
            parts += [f"EOS {mean(m[f'{tag}_eos']):.0%}", f"format {mean(m[f'{tag}_format']):.0%}"]
        labels = {"harmful": "harmful eval prompts", "heldout_harmful": "held-out harmful", "plain": "everyday"}
        parts += [f"refuses {sum(m[f'{tag}_refuse_{name}']):.0f}/{len(asked)} {labels[name]}"
                  for name, asked in refusal_sets.items() if f"{tag}_refuse_{name}" in m]
        print(f"  {tag:7s}: " + ", ".join(parts) + (f"; {m[f'{tag}_samples']}" if f"{tag}_samples" in m else ""))
    torch.set_num_threads(threads)
    return m


def test_pretrained_base_knows_the_course_language(tuned):
    """Held-out chosen answers: the pretrained base's log-likelihood is >= 1 nat/token above (its loss below) the same
    architecture with random weights (issue 21; before the course's topics were in the pretraining text: 6.63 vs
    6.90 nats of loss)."""
    result = tuned["paired"]["pretrained over random weights (held-out chosen log-likelihood)"]
    assert result.low > 1.0, result


def test_base_model_is_near_chance_on_heldout_pairs(tuned):
    """As a small base model is on HH-RLHF: the pairs differ only in the preference (context, not a verdict)."""
    assert 0.40 <= tuned["base_pref"].mean() <= 0.60, tuned["base_pref"].mean()
    assert 0.35 <= tuned["length_rule"] <= 0.65, tuned["length_rule"]


def test_base_model_never_stops_by_itself(tuned):
    assert sum(tuned["base_eos"]) / len(tuned["base_eos"]) <= 0.1, tuned["base_eos"]


def test_sft_lowers_heldout_loss(tuned):
    result = tuned["paired"]["SFT over base (held-out log-likelihood of the chosen answers, nats/token; higher is better)"]
    assert result.low > 0 and result.difference > 0.5, result


def test_sft_teaches_stopping_and_the_format(tuned):
    result = tuned["paired"]["SFT over base (answers ending with EOS)"]
    assert result.low > 0 and result.after >= 0.6, result
    assert sum(tuned["sft_format"]) / len(tuned["sft_format"]) >= 0.6, tuned["sft_format"]


def test_dpo_improves_preference_accuracy_over_its_sft_reference(tuned):
    result = tuned["paired"]["DPO over its SFT reference (preference accuracy)"]
    assert result.low > 0 and result.difference >= 0.15, result


def test_orpo_improves_preference_accuracy_over_the_base(tuned):
    result = tuned["paired"]["ORPO over base (preference accuracy)"]
    assert result.low > 0 and result.difference >= 0.15, result


def test_dpo_sft_keeps_stopping_and_refuses_more_than_sft(tuned):
    """04 section 11's targets (issue 21): DPO with the SFT term stops (EOS) on >= 80% of the held-out answers, and
    refuses more held-out harmful prompts than the SFT model it started from (the one refusal rule), paired."""
    assert sum(tuned["dpo_sft_eos"]) / len(tuned["dpo_sft_eos"]) >= 0.8, tuned["dpo_sft_eos"]
    result = tuned["paired"]["DPO+SFT over SFT (held-out harmful prompts refused)"]
    assert result.low > 0, result


def test_dpo_does_not_learn_to_refuse_everything(tuned):
    assert sum(tuned["base_refuse_harmful"]) <= 2 and sum(tuned["dpo_refuse_plain"]) <= len(tuned["dpo_refuse_plain"]) / 2


# --- reproducing the shipped file (opt-in: minutes of CPU) ---------------------------------------------------
@pytest.mark.skipif(os.environ.get("COURSE_SLOW_TESTS") != "1", reason="retrains the micro-model (minutes of CPU); "
                    "set COURSE_SLOW_TESTS=1 to run it")
def test_pretraining_reproduces_the_shipped_model():
    out = subprocess.run([sys.executable, "scripts/maintainers/pretrain_micro.py", "--check"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
