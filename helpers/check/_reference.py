"""THE ANSWERS. Reference solutions of the exercises, for the self-checks only - not part of the course's API.

Reading this file before you have tried an exercise spoils it. The self-checks use it twice:
- to compute what a correct answer gives on their test cases;
- as a fallback: when your exercise fails its check, ``helpers.check.<exercise>`` prints FAIL and hands back the
  reference below, so the rest of the notebook can still run (the exercise stays unsolved).

Nothing here is exported from ``helpers`` or ``helpers.check``. The notebooks keep the real teaching versions
between their ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers; these are written independently.
Functions called ``build_*`` take your object (function or class) and return the stand-in that replaces it.
"""
from __future__ import annotations

import inspect
import math

import torch
import torch.nn.functional as F

from .. import dialogue as _dialogue

# --- 00_setup ---------------------------------------------------------------------------------------------------


def answer_ids(tokenizer, question, answer):
    """The ids the assistant's turn adds to the templated conversation (EOS included)."""
    user = [{"role": "user", "content": question}]
    whole = tokenizer(tokenizer.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=False),
                      add_special_tokens=False)["input_ids"]
    head = tokenizer(tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True),
                     add_special_tokens=False)["input_ids"]
    return whole[len(head):]


# --- 01_lora-from-scratch ---------------------------------------------------------------------------------------


def lora_scaling(alpha, r, rslora=False):
    return alpha / (r ** 0.5 if rslora else r)


def build_lora_forward(cls):
    """``cls`` with a working forward pass (its __init__ and everything else kept). Patched in place, so layers
    built before the check, and subclasses defined later, get it too."""

    def forward(self, x):
        out = self.base(x)
        if self.merged:
            return out
        branch = self.dropout(x.to(self.A.dtype)) @ self.A.T @ self.B.T
        return out + (self.scaling * branch).to(out.dtype)

    cls.forward = forward
    return cls


def build_lora_merge(cls):
    """``cls`` with working delta_weight / merge / unmerge, patched in place (as ``build_lora_forward``)."""

    def delta_weight(self):
        return self.scaling * (self.B @ self.A)

    @torch.no_grad()
    def merge(self):
        if self.merged:
            raise RuntimeError("already merged; unmerge() first")
        self.base.weight.add_(self.delta_weight().to(self.base.weight.dtype))
        self.merged = True

    @torch.no_grad()
    def unmerge(self):
        if not self.merged:
            raise RuntimeError("not merged")
        self.base.weight.sub_(self.delta_weight().to(self.base.weight.dtype))
        self.merged = False

    cls.delta_weight, cls.merge, cls.unmerge = delta_weight, merge, unmerge
    return cls


def build_inject_lora(fn):
    """An inject_lora with the student's signature and default layer class, built on the notebook's own (given)
    find_targets and replace_module - found next to the student's function - so its errors are the lesson's."""
    find_targets, replace_module = fn.__globals__["find_targets"], fn.__globals__["replace_module"]
    default_cls = inspect.signature(fn).parameters["layer_cls"].default

    def inject_lora(model, target_modules, r, alpha, dropout=0.0, rslora=False, layer_cls=default_cls):
        picked = find_targets(model, target_modules, kind=layer_cls.wraps)
        for p in model.parameters():
            p.requires_grad = False
        for n in picked:
            replace_module(model, n, layer_cls(model.get_submodule(n), r, alpha, dropout, rslora))
        return picked

    inject_lora.__doc__ = fn.__doc__
    return inject_lora


def lora_output_fp32(layer, x):
    """A LoRA layer's output computed in fp32 (for a half-precision base)."""
    return layer.base(x).float() + layer.scaling * (x.float() @ layer.A.T @ layer.B.T)


# --- 02_what-lora-saves -----------------------------------------------------------------------------------------


def batch_fits(model_id, method, seq_len, limit_gib, kwargs, batch_size):
    from ..memory import estimate_memory

    return estimate_memory(model_id, method, batch_size=batch_size, seq_len=seq_len, **kwargs).total <= limit_gib * 2**30


def largest_batch(model_id, method, seq_len, limit_gib, **kwargs):
    def fits(n):
        return batch_fits(model_id, method, seq_len, limit_gib, kwargs, n)

    if not fits(1):
        return 0
    good, bad = 1, 1025                       # good fits; bad does not (or is past the cap)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if fits(mid) else (good, mid)
    return good


# --- 03_sft -----------------------------------------------------------------------------------------------------


split_dialogue = _dialogue.split_dialogue   # the data loaders' own (helpers/dialogue.py): one copy


def masked_labels(tokenizer, example):
    conversation = example["prompt"] + example["completion"]
    ids = tokenizer(tokenizer.apply_chat_template(conversation, tokenize=False), add_special_tokens=False)["input_ids"]
    n_prompt = len(tokenizer(tokenizer.apply_chat_template(example["prompt"], tokenize=False,
                                                           add_generation_prompt=True),
                             add_special_tokens=False)["input_ids"])
    labels = list(ids)
    labels[:n_prompt] = [-100] * n_prompt
    return ids, labels


def real_token_share(lengths, batch_size, pad_to=None):
    computed = 0
    for start in range(0, len(lengths), batch_size):
        chunk = lengths[start:start + batch_size]
        computed += len(chunk) * (pad_to if pad_to else max(chunk))
    return sum(lengths) / computed


# --- 04_dpo -----------------------------------------------------------------------------------------------------


def logps_by_hand(model, batch, average):
    """Sequence log-probabilities of a toy bigram model (``model.table``), one position at a time."""
    out = []
    for row_ids, row_mask in zip(batch["input_ids"].tolist(), batch["completion_mask"].tolist()):
        total, count = 0.0, 0
        for t in range(1, len(row_ids)):
            if row_mask[t]:
                logits = model.table[row_ids[t - 1]].double()
                total += (logits[row_ids[t]] - torch.logsumexp(logits, 0)).item()
                count += 1
        out.append(total / count if average else total)
    return torch.tensor(out, dtype=torch.float64)


def sequence_logps(model, batch, average=False):
    ids, answer = batch["input_ids"], batch["completion_mask"][:, 1:].float()
    logits = model(input_ids=ids, attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    picked = torch.gather(torch.log_softmax(logits, -1), 2, ids[:, 1:, None])[..., 0] * answer
    return picked.sum(1) / answer.sum(1) if average else picked.sum(1)


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))   # log(1 + e^x), stable


def dpo_by_hand(pc, pr, rc, rr, beta, eps):
    chosen = [beta * (a - b) for a, b in zip(pc, rc)]
    rejected = [beta * (a - b) for a, b in zip(pr, rr)]
    losses = [(1 - eps) * _softplus(r - c) + eps * _softplus(c - r) for c, r in zip(chosen, rejected)]
    return losses, chosen, rejected


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, label_smoothing=0.0):
    rewards = beta * (torch.stack([policy_chosen, policy_rejected]) - torch.stack([ref_chosen, ref_rejected]))
    diff = rewards[0] - rewards[1]
    losses = (1 - label_smoothing) * F.softplus(-diff) + label_smoothing * F.softplus(diff)
    return losses, rewards[0], rewards[1]


def build_beta_sweep(fn):
    """The sweep, run with the notebook's own ``train_from_scratch`` (found next to the student's function)."""
    train = fn.__globals__["train_from_scratch"]

    def beta_sweep(model, batch, betas, steps, lr):
        saved = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

        def restore():
            with torch.no_grad():
                for n, p in model.named_parameters():
                    if n in saved:
                        p.copy_(saved[n])

        runs = {}
        for beta in betas:
            restore()
            runs[beta] = train(model, batch, beta=beta, steps=steps, lr=lr)
        restore()
        return runs

    beta_sweep.__doc__ = fn.__doc__
    return beta_sweep


def sigmoid_norm_by_hand(pc, pr, rc, rr, nc, nr, beta):
    return [_softplus(-beta * ((a - c) / n1 - (b - d) / n2)) for a, b, c, d, n1, n2 in zip(pc, pr, rc, rr, nc, nr)]


def sigmoid_norm_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, chosen_tokens, rejected_tokens, beta):
    per_token = (policy_chosen - ref_chosen) / chosen_tokens, (policy_rejected - ref_rejected) / rejected_tokens
    return F.softplus(beta * (per_token[1] - per_token[0]))


# --- 05_orpo ----------------------------------------------------------------------------------------------------


def log_odds_float(mean_logp: float) -> float:
    """log(p / (1 - p)) for p = exp(mean_logp) < 1, in float64 (expm1 keeps it exact near p = 1)."""
    return mean_logp - math.log(-math.expm1(mean_logp))


def log_sigmoid_float(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > -30 else x - math.log1p(math.exp(x))


def _log_odds(t):
    t64 = t.double()
    return (t64 - torch.log(-torch.expm1(t64))).to(t.dtype)


def odds_ratio_term(chosen_logps, rejected_logps):
    gap = _log_odds(chosen_logps) - _log_odds(rejected_logps)
    return F.softplus(-gap), gap


def orpo_by_hand(token_lp, batch, lam):
    """ORPO's numbers one token at a time: (loss, nll, or_losses)."""
    lp, att, comp = token_lp.tolist(), batch["attention_mask"].tolist(), batch["completion_mask"].tolist()
    half = len(lp) // 2
    total = count = 0
    for row in range(half):
        for t in range(1, len(att[row])):
            if att[row][t]:
                total, count = total - lp[row][t - 1], count + 1
    nll = total / count
    means = []
    for row in range(len(lp)):
        vals = [lp[row][t - 1] for t in range(1, len(comp[row])) if comp[row][t]]
        means.append(sum(vals) / len(vals))
    or_losses = [-log_sigmoid_float(log_odds_float(means[i]) - log_odds_float(means[half + i])) for i in range(half)]
    return nll + lam * sum(or_losses) / half, nll, or_losses


def orpo_loss(token_lp, batch, lam):
    half = token_lp.shape[0] // 2
    real = batch["attention_mask"][:half, 1:].to(token_lp.dtype)
    nll = -(token_lp[:half] * real).sum() / real.sum()
    answer = batch["completion_mask"][:, 1:].to(token_lp.dtype)
    means = (token_lp * answer).sum(-1) / answer.sum(-1)
    or_losses, _ = odds_ratio_term(means[:half], means[half:])
    return nll + lam * or_losses.mean(), nll, or_losses


def answer_only_by_hand(token_lp, batch):
    lp, comp = token_lp.tolist(), batch["completion_mask"].tolist()
    half = len(lp) // 2
    vals = [lp[row][t - 1] for row in range(half) for t in range(1, len(comp[row])) if comp[row][t]]
    return -sum(vals) / len(vals)


def answer_only_nll(token_lp, batch):
    half = token_lp.shape[0] // 2
    keep = batch["completion_mask"][:half, 1:].bool()
    return -token_lp[:half][keep].mean()


# --- 06_evaluation ----------------------------------------------------------------------------------------------


def swap_consistent_win_rate(first, second):
    pairs = list(zip(first, second))
    wins, losses = pairs.count(("A", "B")), pairs.count(("B", "A"))
    decided = wins + losses
    return (wins / decided if decided else float("nan")), decided / len(pairs)


def distinct_n(texts, n):
    seen, total = set(), 0
    for text in texts:
        words = text.lower().split()
        for i in range(len(words) - n + 1):
            seen.add(" ".join(words[i:i + n]))
            total += 1
    return len(seen) / total if total else 0.0


def length_controlled_win_rate(outcomes, length_diff):
    """sigma(a) of P = sigma(a + b * diff / std(diff)), fitted by L-BFGS (independent of the notebook's Newton)."""
    y, diff = torch.as_tensor(outcomes, dtype=torch.float64), torch.as_tensor(length_diff, dtype=torch.float64)
    scale = diff.std() if len(diff) > 1 and diff.std() > 0 else torch.tensor(1.0, dtype=torch.float64)
    a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([a, b], lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a + b * diff / scale, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.sigmoid(a).item()


# --- 07_two-gpus ------------------------------------------------------------------------------------------------


def data_parallel_plan(effective_batch, per_device_batch, processes, examples, epochs):
    accumulation, rest = divmod(effective_batch, per_device_batch * processes)
    if accumulation < 1 or rest:
        raise ValueError(f"an effective batch of {effective_batch} cannot be split into {processes} x "
                         f"{per_device_batch} sequences times a whole number of accumulation steps")
    return accumulation, math.ceil(examples * epochs / effective_batch)


def per_gpu_bytes(estimate, world_size, stage):
    if stage not in range(4):
        raise ValueError(f"ZeRO stages are 0, 1, 2 and 3, not {stage}")
    split_from = {"optimizer": 1, "gradients": 2, "weights": 3}
    return sum(size / world_size if part in split_from and stage >= split_from[part] else size
               for part, size in estimate.breakdown().items())
