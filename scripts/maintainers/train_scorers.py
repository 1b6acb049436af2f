"""Train the quick profile's scorers for notebook 06 from the course micro-model: a reward model and a judge.

    python scripts/maintainers/train_scorers.py            # train both, write data/micro-reward/ and data/micro-judge/
    python scripts/maintainers/train_scorers.py --check    # retrain and compare with the shipped files; writes nothing
    python scripts/maintainers/train_scorers.py --only reward   # (or judge) one of them

Reward model (data/micro-reward/): the micro-model (data/micro-llama) with a one-number score head
(LlamaForSequenceClassification, num_labels=1), every weight trained with TRL's RewardTrainer on the course's
TRAIN pairs (Bradley-Terry loss: -log sigmoid(r_chosen - r_rejected)), the conversation rendered with the course
template. helpers.evaluation.load_reward_model loads it in the quick profile in place of the full profile's
Skywork-Reward-V2-Qwen3-0.6B. Its held-out accuracy (share of TEST pairs where the chosen answer gets the higher
reward, with a paired-bootstrap interval) is written to scorer.json and printed.

Judge (data/micro-judge/): the micro-model fine-tuned to answer notebook 06's judge prompt (JUDGE_TEMPLATE,
the same words) with "A" or "B", on judge prompts built from the TRAIN pairs in both orders (chosen shown as A,
then as B), rendered with the ChatML template of the judge id the quick profile stands in for
(Qwen/Qwen2.5-0.5B-Instruct). Trained on the one answer token (cross-entropy over the whole vocabulary at the
reply's first position). Its held-out agreement (both orders pick the chosen answer) and swap consistency are
written to scorer.json and printed.

Deterministic as scripts/maintainers/pretrain_micro.py: seeded, one CPU thread; --check compares weights within CHECK_ATOL.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# The root computed here, not imported: tests/test_scorers.py runs this file without the kit installed.
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
REWARD_DIR = ROOT / "data" / "micro-reward"
JUDGE_DIR = ROOT / "data" / "micro-judge"
MODEL_ID = "HuggingFaceTB/SmolLM2-360M"          # the course micro-model's id in the quick profile
JUDGE_ID = "Qwen/Qwen2.5-0.5B-Instruct"          # the judge id notebook 06 asks for in the quick profile
SEED = 0
CHECK_ATOL = 1e-4
REWARD = dict(steps=40, batch_size=8, lr=1e-3, max_length=256)
JUDGE = dict(steps=60, batch_size=8, lr=1e-3)
# Notebook 06's judge prompt, word for word (the quick judge is trained on exactly what 06 asks it).
JUDGE_TEMPLATE = ("You are an impartial judge. Compare the two answers to the user's question and decide which is "
                  "more helpful, honest, harmless and relevant. Do not let the order or the length of the answers "
                  "influence you.\n\n[Question]\n{question}\n\n[Answer A]\n{a}\n\n[Answer B]\n{b}\n\n"
                  "Which answer is better? Reply with one letter: A or B.")


def _pairs(split: str):
    import helpers

    kept, _ = helpers.parse_rows(helpers.load_preferences("quick", split), helpers.to_preference_example)
    return [example for _, example in kept]


def _quiet():
    import datasets
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()


# --- reward model ---------------------------------------------------------------------------------------------
def reward_accuracy(model, tokenizer, pairs):
    """Per held-out pair 1.0 where the chosen answer gets the higher reward, else 0.0 (06's reward_scores)."""
    import torch

    from helpers.evaluation import reward_scores

    chosen = reward_scores(model, tokenizer, [p["prompt"] for p in pairs], [p["chosen"][0]["content"] for p in pairs])
    rejected = reward_scores(model, tokenizer, [p["prompt"] for p in pairs],
                             [p["rejected"][0]["content"] for p in pairs])
    return (chosen > rejected).double(), torch.zeros(len(pairs), dtype=torch.float64) + 0.5


def train_reward(log=print):
    import datasets
    import torch
    import transformers
    from trl import RewardConfig, RewardTrainer

    import helpers
    from helpers.evaluation import paired_difference
    from helpers.models import MICRO_DIR

    _quiet()
    torch.manual_seed(SEED)
    tok = helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")
    model = transformers.LlamaForSequenceClassification.from_pretrained(MICRO_DIR, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tok.pad_token_id
    train = datasets.Dataset.from_list(_pairs("train"))
    args = RewardConfig(output_dir=str(ROOT / "outputs" / "train_scorers" / "reward"), max_steps=REWARD["steps"],
                        per_device_train_batch_size=REWARD["batch_size"], learning_rate=REWARD["lr"],
                        lr_scheduler_type="linear", warmup_steps=0.1, max_length=REWARD["max_length"],
                        save_strategy="no", report_to="none", seed=SEED, disable_tqdm=True, logging_steps=10,
                        dataloader_pin_memory=False, use_cpu=True, bf16=False, fp16=False)
    trainer = RewardTrainer(model=model, args=args, train_dataset=train, processing_class=tok)
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    model = trainer.model.eval()
    test = _pairs("test")
    hits, chance = reward_accuracy(model, tok, test)
    result = paired_difference(chance, hits, "reward-model accuracy over chance")
    log(f"reward model: {REWARD['steps']} steps in {seconds:.0f} s ({cpu_seconds:.0f} s CPU); held-out accuracy "
        f"{hits.mean():.3f} on {len(test)} pairs; {result}")
    info = {"what": "reward model: the course micro-model + a score head, trained with TRL RewardTrainer on "
                    "data/hh_pref/train.jsonl", "heldout_pairs": len(test), "heldout_accuracy": round(hits.mean().item(), 4),
            "heldout_interval": [round(result.low + 0.5, 4), round(result.high + 0.5, 4)],
            "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1), "seed": SEED,
            "threads": 1, "settings": REWARD, "torch": torch.__version__, "transformers": transformers.__version__}
    return model, tok, info


def save(model, tok, info, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    (folder / "scorer.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def same_weights(model, folder: Path, cls, log=print) -> bool:
    import torch

    shipped = cls.from_pretrained(folder, dtype=torch.float32)
    ours, theirs = model.state_dict(), shipped.state_dict()
    diff = max((ours[k] - theirs[k]).abs().max().item() for k in theirs)
    log(f"{folder.relative_to(ROOT)}: largest weight difference {diff:.2e} (tolerance {CHECK_ATOL:.0e})")
    return diff <= CHECK_ATOL


# --- judge ----------------------------------------------------------------------------------------------------
def judge_model_from_micro():
    """The micro-model as a Qwen2ForCausalLM (the judge id's family): Qwen2 is Llama plus q/k/v biases, set to 0
    here, so it computes exactly what data/micro-llama computes."""
    import torch
    import transformers

    from helpers.models import MICRO_DIR

    micro = transformers.LlamaForCausalLM.from_pretrained(MICRO_DIR, dtype=torch.float32)
    c = micro.config
    config = transformers.Qwen2Config(
        vocab_size=c.vocab_size, hidden_size=c.hidden_size, intermediate_size=c.intermediate_size,
        num_hidden_layers=c.num_hidden_layers, num_attention_heads=c.num_attention_heads,
        num_key_value_heads=c.num_key_value_heads, max_position_embeddings=c.max_position_embeddings,
        rope_theta=c.rope_parameters["rope_theta"] if getattr(c, "rope_parameters", None) else c.rope_theta,
        rms_norm_eps=c.rms_norm_eps, tie_word_embeddings=True, hidden_act=c.hidden_act,
        bos_token_id=c.bos_token_id, eos_token_id=c.eos_token_id)
    model = transformers.Qwen2ForCausalLM(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.zero_() if name.endswith(".bias") else None
        missing, unexpected = model.load_state_dict(micro.state_dict(), strict=False)
    assert not unexpected and all(k.endswith(".bias") for k in missing), (missing, unexpected)
    return model


def judge_rows(pairs):
    """Each pair twice: chosen shown as A (target "A"), then as B (target "B")."""
    rows = []
    for p in pairs:
        question = p["prompt"][-1]["content"]
        chosen, rejected = p["chosen"][0]["content"], p["rejected"][0]["content"]
        rows.append((JUDGE_TEMPLATE.format(question=question, a=chosen, b=rejected), "A"))
        rows.append((JUDGE_TEMPLATE.format(question=question, a=rejected, b=chosen), "B"))
    return rows


def judge_log_odds(model, tok, prompts, option_ids, batch_size=16):
    """log P('A') - log P('B') at the reply's first position, as notebook 06 computes it: (n,)."""
    import torch

    import helpers

    texts = [helpers.chat_prompt(tok, p) for p in prompts]
    out, old = [], tok.padding_side
    tok.padding_side = "left"
    try:
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                batch = tok(texts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
                logits = model(**batch).logits[:, -1].float().log_softmax(-1)
                out.append(logits[:, option_ids[0]] - logits[:, option_ids[1]])
    finally:
        tok.padding_side = old
    return torch.cat(out)


def judge_agreement(model, tok, pairs):
    """(agree, consistent) per held-out pair: the judge picks the chosen answer in BOTH orders / picks the same
    answer in both orders (06's swap rule)."""
    option_ids = [tok.convert_tokens_to_ids(t) for t in ("A", "B")]
    rows = judge_rows(pairs)
    odds = judge_log_odds(model, tok, [r for r, _ in rows], option_ids)
    first, second = odds[0::2] > 0, odds[1::2] > 0          # True: the judge says "A"
    agree = (first & ~second).double()                      # chosen as A -> "A", chosen as B -> "B"
    consistent = (first != second).double()
    return agree, consistent


def train_judge(log=print):
    import random

    import torch
    import transformers

    import helpers

    _quiet()
    torch.manual_seed(SEED)
    tok = helpers.load_tokenizer(JUDGE_ID, "quick")
    model = judge_model_from_micro()
    option_ids = [tok.convert_tokens_to_ids(t) for t in ("A", "B")]
    assert all(isinstance(i, int) and i >= 0 for i in option_ids), option_ids
    rows = judge_rows(_pairs("train"))
    texts = [helpers.chat_prompt(tok, r) for r, _ in rows]
    targets = [option_ids[0] if t == "A" else option_ids[1] for _, t in rows]
    opt = torch.optim.AdamW(model.parameters(), lr=JUDGE["lr"], weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / JUDGE["steps"])
    rng = random.Random(SEED)
    tok.padding_side = "left"
    model.train()
    start, cpu = time.perf_counter(), time.process_time()
    for step in range(JUDGE["steps"]):
        idx = rng.sample(range(len(texts)), JUDGE["batch_size"])
        batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        logits = model(**batch).logits[:, -1].float()
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor([targets[i] for i in idx]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if (step + 1) % 20 == 0:
            log(f"  judge step {step + 1}/{JUDGE['steps']}: loss {loss.item():.3f}")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    model.eval()
    test = _pairs("test")
    agree, consistent = judge_agreement(model, tok, test)
    log(f"judge: {JUDGE['steps']} steps in {seconds:.0f} s ({cpu_seconds:.0f} s CPU); held-out: picks the chosen "
        f"answer in both orders on {int(agree.sum())} of {len(test)} pairs ({agree.mean():.3f}), consistent on "
        f"{int(consistent.sum())} of {len(test)} ({consistent.mean():.3f})")
    info = {"what": "judge: the course micro-model (as Qwen2ForCausalLM) fine-tuned on notebook 06's judge prompt "
                    "built from data/hh_pref/train.jsonl in both orders", "heldout_pairs": len(test),
            "heldout_agreement": round(agree.mean().item(), 4), "heldout_consistency": round(consistent.mean().item(), 4),
            "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1), "seed": SEED,
            "threads": 1, "settings": JUDGE, "torch": torch.__version__, "transformers": transformers.__version__}
    tok.padding_side = "right"
    return model, tok, info


def main() -> int:
    import transformers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped files")
    parser.add_argument("--only", choices=["reward", "judge"], help="train only one scorer")
    args = parser.parse_args()
    ok = True
    scorers = {"reward": (train_reward, REWARD_DIR, transformers.LlamaForSequenceClassification),
               "judge": (train_judge, JUDGE_DIR, transformers.Qwen2ForCausalLM)}
    for name, (train, folder, model_class) in scorers.items():
        if args.only not in (None, name):
            continue
        model, tok, info = train()
        if args.check:
            ok &= same_weights(model, folder, model_class)
        else:
            save(model, tok, info, folder)
            size = (folder / "model.safetensors").stat().st_size
            print(f"wrote {folder.relative_to(ROOT)}: model.safetensors {size / 2**20:.2f} MiB")
    if args.check:
        print("the shipped scorers are reproduced" if ok else "a shipped scorer differs from a fresh training run")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
