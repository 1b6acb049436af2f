"""Self-checks for 04_dpo; the expected values come from the answers module's by-hand oracles (``*_by_hand``)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from . import _reference as _ref
from ._core import attempt, close, equal, failed, passed, returns, self_check
from ._toy import toy_batch

__all__ = ["sequence_logps", "dpo_loss", "beta_sweep", "sigmoid_norm_loss"]


class _BigramLM(torch.nn.Module):
    """A toy language model whose next-token logits depend only on the current token: ``logits = table[ids]``."""

    def __init__(self, vocab: int = 7, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.table = torch.nn.Parameter(2 * torch.randn(vocab, vocab, generator=generator), requires_grad=False)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return SimpleNamespace(logits=self.table[input_ids])  # (N, T, V)


@self_check(reference=_ref.sequence_logps)
def sequence_logps(fn) -> None:
    """``fn(model, batch, average=False) -> (N,)``: summed (or averaged) log-probabilities of the answer tokens."""
    name = "sequence_logps"
    model, batch = _BigramLM(), toy_batch()
    hint = ("which position's logits predict which token? Only answer tokens count (the completion mask), "
            "and the values you add are log-probabilities of the tokens that are really there")
    for average in (False, True):
        got = attempt(name, fn, model, batch, average=average, hint=hint)
        want = _ref.logps_by_hand(model, batch, average)
        what = "per-token average" if average else "summed log-probabilities"
        if isinstance(got, torch.Tensor) and got.shape == want.shape and (got > 0).any():
            failed(name, f"a {what} above 0 - a log-probability is never positive",
                   "are you adding probabilities or raw logits?")
        close(name, got, want, atol=1e-4, rtol=1e-4, what=what,
              hint=hint if not average else "the average is per answer token, row by row")
    return passed(name, "4 sequences: shifted, answer tokens only (the final EOS counts, padding does not), "
                        "summed and averaged")


@self_check(reference=_ref.dpo_loss)
def dpo_loss(fn) -> None:
    """``fn(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, label_smoothing=0.0)`` -> (losses,
    chosen_rewards, rejected_rewards), each (B,)."""
    name, hint = "dpo_loss", "return (losses, chosen_rewards, rejected_rewards), one value per pair"
    logps = ([-10.0, -20.0, -5.0], [-12.0, -18.0, -5.0], [-11.0, -19.0, -6.0], [-11.0, -19.0, -4.0])
    cases = [  # policy chosen, policy rejected, ref chosen, ref rejected, beta, label smoothing
        (*logps, 0.1, 0.0), (*logps, 0.5, 0.0), (*logps, 0.1, 0.1),
        ([-100.0, -1500.0], [-1500.0, -100.0], [-800.0, -800.0], [-800.0, -800.0], 0.1, 0.0),  # margins +-280
    ]
    for pc, pr, rc, rr, beta, eps in cases:
        args = [torch.tensor(v) for v in (pc, pr, rc, rr)]
        got_losses, got_chosen, got_rejected = returns(
            name, attempt(name, fn, *args, beta, label_smoothing=eps, hint=hint),
            "losses, chosen_rewards, rejected_rewards", hint)
        losses, chosen, rejected = _ref.dpo_by_hand(pc, pr, rc, rr, beta, eps)
        where = f"(beta={beta}, label_smoothing={eps})"
        for side, got_rewards, want in (("chosen", got_chosen, chosen), ("rejected", got_rejected, rejected)):
            close(name, got_rewards, want, atol=1e-5, what=f"{side} rewards {where}",
                  hint="reread section 1: the implicit reward compares policy and reference, scaled by beta")
        if isinstance(got_losses, torch.Tensor) and not torch.isfinite(got_losses).all():
            failed(name, f"the losses contain inf or nan for large margins {where}",
                   "the log of a sigmoid that underflows to 0 is -inf: PyTorch has a stable function for it")
        close(name, got_losses, losses, atol=1e-5, what=f"per-pair losses {where}",
              hint="reread the loss in section 1 and how label smoothing mixes in the flipped preference; one "
                   "loss per pair (no mean)")
    return passed(name, f"{len(cases)} batches by hand: rewards, margins of both signs, beta, label smoothing, "
                        "margins of +-280 without overflow")


@self_check(reference=_ref.beta_sweep)
def beta_sweep(fn, model, batch, lr: float) -> None:
    """``fn(model, batch, betas, steps, lr) -> {beta: history}``: one run per beta, each from the weights the model
    has (the reference: loss ln 2, margin 0), and those weights put back afterwards."""
    name = "beta_sweep"
    betas, steps = (0.05, 0.5), 2
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    results = attempt(name, fn, model, batch, betas, steps, lr,
                      hint="one training run per beta, all from the same start")
    if not isinstance(results, dict):
        failed(name, f"expected a dict {{beta: history}}, got {type(results).__name__}",
               "a dict with one training history per beta")
    equal(name, sorted(results), sorted(betas), what="set of betas in the result", hint="one entry per beta")
    for beta in betas:
        history = results[beta]
        equal(name, len(history), steps + 1, what=f"number of records for beta={beta}",
              hint="every run lasts the number of steps the sweep was given")
        equal(name, [r["beta"] for r in history], [beta] * (steps + 1), what=f"beta used in the run for beta={beta}",
              hint="each run trains with its own beta, not the notebook's BETA")
        start = history[0]
        if abs(start["loss"] - math.log(2)) > 1e-5 or abs(start["margin"]) > 1e-6:
            failed(name, f"the run for beta={beta} did not start from the reference weights (step-0 loss "
                         f"{start['loss']:.6f}, margin {start['margin']:+.2e}; expected ln 2 = 0.693147 and 0)",
                   "every run must start where the first one started - what does training change?")
        for r in history:
            if abs(r["margin"] - beta * r["log_ratio_margin"]) > 1e-5 * max(1.0, abs(r["margin"])):
                failed(name, f"reward margin {r['margin']:.6f} is not beta x log-ratio margin for beta={beta}",
                       "the reward margin is beta times the log-ratio margin")
    moved = max([(p.detach() - before[n]).abs().max().item() for n, p in model.named_parameters() if n in before],
                default=0.0)
    if moved > 0:
        failed(name, f"the weights were not put back after the sweep (moved by up to {moved:.3g})",
               "keep the final load_trainable_state(model, start) after the loop")
    return passed(name, f"{len(betas)} runs of {steps} steps, each from the reference weights (loss ln 2, margin 0), "
                        "weights restored")


@self_check(reference=_ref.sigmoid_norm_loss)
def sigmoid_norm_loss(fn) -> None:
    """``fn(policy_chosen, policy_rejected, ref_chosen, ref_rejected, chosen_tokens, rejected_tokens, beta)`` ->
    per-pair losses (B,): DPO on per-token log-ratios (TRL's loss_type="sigmoid_norm")."""
    name = "sigmoid_norm_loss"
    values = [-10.0, -60.0], [-30.0, -20.0], [-14.0, -50.0], [-25.0, -22.0], [4.0, 20.0], [10.0, 5.0]
    for beta in (0.1, 2.0):
        got = attempt(name, fn, *map(torch.tensor, values), beta, hint="the function returns one loss per pair")
        close(name, got, _ref.sigmoid_norm_by_hand(*values, beta), atol=1e-5, what=f"per-pair losses (beta={beta})",
              hint="the formula above the exercise: the DPO loss, with each log-ratio taken per answer token")
    return passed(name, "2 pairs of different lengths, 2 betas")
