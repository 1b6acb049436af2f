"""Self-checks for 04_dpo: the sequence log-probability, the DPO loss, the beta sweep, length-normalised DPO.

The expected values come from cases small enough to compute by hand (an explicit loop over positions, or
``log(1 + exp(-margin))``), never from a copy of the notebook's vectorised solution.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from ._core import attempt, close, equal, failed, passed

__all__ = ["sequence_logps", "dpo_loss", "beta_sweep", "sigmoid_norm_loss"]

_EOS = 6  # the toy vocabulary's EOS, which is also its pad token - as with SmolLM2 and Pythia


class _BigramLM(torch.nn.Module):
    """A toy language model whose next-token logits depend only on the current token: ``logits = table[ids]``."""

    def __init__(self, vocab: int = 7, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.table = torch.nn.Parameter(2 * torch.randn(vocab, vocab, generator=generator), requires_grad=False)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return SimpleNamespace(logits=self.table[input_ids])  # (N, T, V)


def _toy_batch():
    """Two pairs, prompts of different lengths, answers ending with EOS (= pad), right padding."""
    prompts, chosen, rejected = [[1, 2, 3], [4, 5]], [[2, 2, 5, _EOS], [1, _EOS]], [[3, _EOS], [5, 4, 3, 2, _EOS]]
    rows, answer = [], []
    for side in (chosen, rejected):
        for prompt, reply in zip(prompts, side):
            rows.append(prompt + reply)
            answer.append([0] * len(prompt) + [1] * len(reply))
    width = max(map(len, rows))
    pad = lambda seqs, value: torch.tensor([s + [value] * (width - len(s)) for s in seqs])
    return {"input_ids": pad(rows, _EOS), "attention_mask": pad([[1] * len(r) for r in rows], 0),
            "completion_mask": pad(answer, 0)}


def _by_hand(model, batch, average):
    """The sequence log-probabilities, one position at a time."""
    ids, mask = batch["input_ids"].tolist(), batch["completion_mask"].tolist()
    out = []
    for row_ids, row_mask in zip(ids, mask):
        total, count = 0.0, 0
        for t in range(1, len(row_ids)):
            if row_mask[t]:
                logits = model.table[row_ids[t - 1]].double()
                total += (logits[row_ids[t]] - torch.logsumexp(logits, 0)).item()
                count += 1
        out.append(total / count if average else total)
    return torch.tensor(out, dtype=torch.float64)


def sequence_logps(fn) -> None:
    """Check ``fn(model, batch, average=False) -> (N,)``: summed (or averaged) log-probabilities of the answer
    tokens, on a toy model and batch where EOS is also the pad token."""
    name = "sequence_logps"
    model, batch = _BigramLM(), _toy_batch()
    hint = ("logits at position t predict the token at t+1: pair logits[:, :-1] with input_ids[:, 1:] and "
            "completion_mask[:, 1:]; take log_softmax, gather the targets' values, multiply by the mask, sum")
    for average in (False, True):
        got = attempt(name, fn, model, batch, average=average, hint=hint)
        want = _by_hand(model, batch, average)
        what = "per-token average" if average else "summed log-probabilities"
        if got is not None and torch.as_tensor(got).shape == want.shape:
            got = torch.as_tensor(got).detach()
            if (got > 0).any():
                failed(name, f"a {what} above 0 - a log-probability is never positive",
                       "use log_softmax (log-probabilities), not softmax or raw logits")
        close(name, got, want, atol=1e-4, rtol=1e-4, what=what,
              hint=hint if not average else "average = sum / number of answer tokens of that row (mask.sum(-1))")
    return passed(name, "4 sequences: shifted, answer tokens only (the final EOS counts, padding does not), "
                        "summed and averaged")


def _dpo_by_hand(pc, pr, rc, rr, beta, eps):
    chosen = [beta * (a - b) for a, b in zip(pc, rc)]
    rejected = [beta * (a - b) for a, b in zip(pr, rr)]
    softplus = lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # log(1 + e^x), stable
    losses = [(1 - eps) * softplus(-(c - r)) + eps * softplus(c - r) for c, r in zip(chosen, rejected)]
    return losses, chosen, rejected


def dpo_loss(fn) -> None:
    """Check ``fn(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, label_smoothing=0.0)``
    -> (losses, chosen_rewards, rejected_rewards), each (B,), against values computed by hand."""
    name = "dpo_loss"
    cases = [  # policy chosen, policy rejected, ref chosen, ref rejected, beta, label smoothing
        ([-10.0, -20.0, -5.0], [-12.0, -18.0, -5.0], [-11.0, -19.0, -6.0], [-11.0, -19.0, -4.0], 0.1, 0.0),
        ([-10.0, -20.0, -5.0], [-12.0, -18.0, -5.0], [-11.0, -19.0, -6.0], [-11.0, -19.0, -4.0], 0.5, 0.0),
        ([-10.0, -20.0, -5.0], [-12.0, -18.0, -5.0], [-11.0, -19.0, -6.0], [-11.0, -19.0, -4.0], 0.1, 0.1),
        ([-100.0, -1500.0], [-1500.0, -100.0], [-800.0, -800.0], [-800.0, -800.0], 0.1, 0.0),  # margins +-280
    ]
    for pc, pr, rc, rr, beta, eps in cases:
        args = [torch.tensor(v) for v in (pc, pr, rc, rr)]
        got = attempt(name, fn, *args, beta, label_smoothing=eps,
                      hint="return (losses, chosen_rewards, rejected_rewards), one value per pair")
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            failed(name, f"expected a tuple (losses, chosen_rewards, rejected_rewards), got {type(got).__name__}",
                   "return losses, chosen_rewards, rejected_rewards")
        losses, chosen, rejected = _dpo_by_hand(pc, pr, rc, rr, beta, eps)
        where = f"(beta={beta}, label_smoothing={eps})"
        close(name, got[1], chosen, atol=1e-5, what=f"chosen rewards {where}",
              hint="implicit reward = beta * (policy log-prob - reference log-prob)")
        close(name, got[2], rejected, atol=1e-5, what=f"rejected rewards {where}",
              hint="implicit reward = beta * (policy log-prob - reference log-prob)")
        got_losses = torch.as_tensor(got[0]).detach()
        if not torch.isfinite(got_losses).all():
            failed(name, f"the losses contain inf or nan for large margins {where}",
                   "torch.log(torch.sigmoid(x)) underflows; use F.logsigmoid(x)")
        close(name, got_losses, losses, atol=1e-5, what=f"per-pair losses {where}",
              hint="-(1 - eps) * logsigmoid(margin) - eps * logsigmoid(-margin), margin = chosen - rejected reward, "
                   "one loss per pair (no mean)")
    return passed(name, f"{len(cases)} batches by hand: rewards, margins of both signs, beta, label smoothing, "
                        "margins of +-280 without overflow")


def beta_sweep(fn, model, batch, lr: float) -> None:
    """Check ``fn(model, batch, betas, steps, lr) -> {beta: history}`` (history from ``train_from_scratch``):
    one run per beta, every run starting from the same weights (the reference: loss ln 2, margin 0), the
    weights put back afterwards."""
    name = "beta_sweep"
    betas, steps = (0.05, 0.5), 2
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    results = attempt(name, fn, model, batch, betas, steps, lr,
                      hint="for each beta: load the starting weights, then run train_from_scratch with that beta")
    if not isinstance(results, dict):
        failed(name, f"expected a dict {{beta: history}}, got {type(results).__name__}", "results[beta] = history")
    equal(name, sorted(results), sorted(betas), what="set of betas in the result", hint="one entry per beta")
    for beta in betas:
        history = results[beta]
        equal(name, len(history), steps + 1, what=f"number of records for beta={beta}",
              hint="pass steps=steps to train_from_scratch")
        equal(name, [r["beta"] for r in history], [beta] * (steps + 1), what=f"beta used in the run for beta={beta}",
              hint="pass the loop's beta to train_from_scratch, not the notebook's BETA")
        start = history[0]
        if abs(start["loss"] - math.log(2)) > 1e-5 or abs(start["margin"]) > 1e-6:
            failed(name, f"the run for beta={beta} did not start from the reference weights (step-0 loss "
                         f"{start['loss']:.6f}, margin {start['margin']:+.2e}; expected ln 2 = 0.693147 and 0)",
                   "load the starting weights (load_trainable_state(model, start)) before every run")
        for r in history:
            if abs(r["margin"] - beta * r["log_ratio_margin"]) > 1e-5 * max(1.0, abs(r["margin"])):
                failed(name, f"reward margin {r['margin']:.6f} is not beta x log-ratio margin for beta={beta}",
                       "the reward margin is beta times the log-ratio margin")
    after = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    moved = max((after[n] - before[n]).abs().max().item() for n in before) if before else 0.0
    if moved > 0:
        failed(name, f"the weights were not put back after the sweep (moved by up to {moved:.3g})",
               "keep the final load_trainable_state(model, start) after the loop")
    return passed(name, f"{len(betas)} runs of {steps} steps, each from the reference weights (loss ln 2, margin 0), "
                        "weights restored")


def sigmoid_norm_loss(fn) -> None:
    """Check ``fn(policy_chosen, policy_rejected, ref_chosen, ref_rejected, chosen_tokens, rejected_tokens, beta)``
    -> per-pair losses (B,): DPO on per-token log-ratios (TRL's loss_type="sigmoid_norm")."""
    name = "sigmoid_norm_loss"
    pc, pr, rc, rr = [-10.0, -60.0], [-30.0, -20.0], [-14.0, -50.0], [-25.0, -22.0]
    nc, nr = [4.0, 20.0], [10.0, 5.0]
    for beta in (0.1, 2.0):
        got = attempt(name, fn, *(torch.tensor(v) for v in (pc, pr, rc, rr, nc, nr)), beta,
                      hint="divide each log-ratio by its answer's token count, then the DPO loss of beta * difference")
        want = []
        for a, b, c, d, n1, n2 in zip(pc, pr, rc, rr, nc, nr):
            margin = beta * ((a - c) / n1 - (b - d) / n2)
            want.append(math.log1p(math.exp(-margin)))
        close(name, got, want, atol=1e-5, what=f"per-pair losses (beta={beta})",
              hint="margin = beta * ((pc - rc) / chosen_tokens - (pr - rr) / rejected_tokens); loss = -logsigmoid(margin)")
    return passed(name, "2 pairs of different lengths, 2 betas")
