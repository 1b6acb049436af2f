"""Evaluation plumbing 06 shares with the scripts, and the yardsticks 03-06 share: one reward-model loader and scorer
for 06, scripts/maintainers/train_scorers.py and scripts/ci/gpu_check.py (the number 06 prints is the one the script
measured), ``paired_difference`` (taught in 06) and the course's refusal rule (taught in 04). What 06 *teaches*
(intervals, win rates, distinct-n, blind rating) lives in the notebook.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from .env import REPO_ROOT, Profile, default_device
from .files import read_json, restore_fix

__all__ = ["load_reward_model", "reward_scores", "paired_difference", "REFUSAL_RULE", "refuses"]


# --- reward model -------------------------------------------------------------------------------------------
def load_reward_model(model_id: str, profile: str, *, dtype: torch.dtype | None = None, device=None):
    """``(model, tokenizer)`` of a reward model that scores a whole conversation with one number: ``model_id`` from
    the Hub (num_labels=1; fp16 on a GPU unless ``dtype`` says otherwise), or in the quick profile data/micro-reward
    (built by scripts/maintainers/train_scorers.py, its held-out accuracy in scorer.json), offline."""
    import transformers

    profile = Profile(profile)
    device = torch.device(device) if device is not None else default_device()
    if profile == "quick":
        from .models import _load_trained, load_tokenizer

        folder = REPO_ROOT / "data" / "micro-reward"
        model = _load_trained(folder, torch.float32, cls=transformers.AutoModelForSequenceClassification)
        accuracy = read_json(folder / "scorer.json", restore_fix(folder / "scorer.json")).get("heldout_accuracy")
        tokenizer = load_tokenizer("HuggingFaceTB/SmolLM2-360M", "quick", chat_template="course")
        model.config.pad_token_id = tokenizer.pad_token_id
        model.name_or_path = (f"reward model (quick profile: the course micro-model trained as a reward model on the "
                              f"course's train pairs, held-out accuracy {accuracy})")
        return model.to(device).eval(), tokenizer
    dtype = dtype or (torch.float16 if torch.cuda.is_available() else torch.float32)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_id)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_id, dtype=dtype, num_labels=1)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model.to(device).eval(), tokenizer


@torch.no_grad()
def reward_scores(model, tokenizer, prompts, answers, *, batch_size: int = 8) -> torch.Tensor:
    """One reward per (prompt, answer), (len(prompts),) float32 on the CPU; a prompt may also be a list of chat
    messages ending with the user's turn. Right padding: the classifier reads the last real token. A text over 1,024
    tokens loses its end (the score then reads a token inside the answer)."""
    if len(prompts) != len(answers):
        raise ValueError(f"{len(prompts)} prompts but {len(answers)} answers: one answer per prompt")
    texts = [tokenizer.apply_chat_template((list(p) if isinstance(p, (list, tuple)) else [{"role": "user", "content": p}])
                                           + [{"role": "assistant", "content": a}], tokenize=False)
             for p, a in zip(prompts, answers)]
    old_side, tokenizer.padding_side = tokenizer.padding_side, "right"
    scores = []
    try:
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(texts[i: i + batch_size], return_tensors="pt", padding=True, truncation=True,
                              max_length=1024, add_special_tokens=False).to(model.device)
            scores.append(model(**batch).logits[:, 0].float().cpu())
    finally:
        tokenizer.padding_side = old_side
    return torch.cat(scores) if scores else torch.zeros(0)


# --- "Did it learn?": the same scorer on the same held-out items, before and after (used by 03-06 and the tests) ---

@dataclass
class PairedResult:
    """Before vs after on the same items: means, the mean difference and its interval, and the verdict in words."""
    what: str
    n: int
    before: float
    after: float
    difference: float
    low: float
    high: float
    confidence: float

    @property
    def verdict(self) -> str:
        """"improved" when the whole interval of (after - before) is above 0, "worse" when it is below."""
        return "improved" if self.low > 0 else "worse" if self.high < 0 else "not shown"

    def __str__(self) -> str:
        return (f"{self.what}: before {self.before:.3f} -> after {self.after:.3f}, difference {self.difference:+.3f} "
                f"[{self.low:+.3f}, {self.high:+.3f}] ({self.confidence:.0%}, {self.n} paired items): {self.verdict}")


def paired_difference(before, after, what: str = "score", *, resamples: int = 2_000, confidence: float = 0.95,
                      seed: int = 0) -> PairedResult:
    """One scorer's per-item values before and after, (n,) each in the same item order, higher is better (1.0/0.0
    for a hit; a loss negated, as 03 does). The interval is a paired percentile bootstrap of mean(after - before):
    each resampled item keeps its before and after together, so the spread both models share cancels. Taught in 06."""
    b = torch.as_tensor(before, dtype=torch.float64).flatten()
    a = torch.as_tensor(after, dtype=torch.float64).flatten()
    if b.numel() != a.numel() or b.numel() == 0:
        raise ValueError(f"paired_difference needs the same non-empty list of items before and after; got "
                         f"{b.numel()} before and {a.numel()} after.")
    diff = a - b
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, diff.numel(), (resamples, diff.numel()), generator=g)
    means = diff[idx].mean(dim=1)
    tail = (1 - confidence) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return PairedResult(what, diff.numel(), b.mean().item(), a.mean().item(), diff.mean().item(), low, high,
                        confidence)


# --- The course's one refusal rule (taught in 04, used by 04, 06 and the tests) ---
REFUSAL_RULE = re.compile(
    r"\b(I can(?:no|')t|I won't|I will not|I(?:'m| am) not able|I(?:'d| would) rather not|sorry|I apologi[sz]e)\b",
    re.IGNORECASE)


def refuses(text: str) -> bool:
    """True when an answer declines by the course's transparent word rule (REFUSAL_RULE); taught in 04."""
    return bool(REFUSAL_RULE.search(text))
