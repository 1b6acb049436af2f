"""Self-checks for 05_orpo: the odds-ratio term, the full ORPO loss, the prompt-masked NLL.

The expected values are computed here in float64 with plain Python math, one pair or one token at a time, never
from a copy of the notebook's vectorised solution.
"""
from __future__ import annotations

import math

import torch

from ._core import attempt, close, failed, passed

__all__ = ["odds_ratio_term", "orpo_loss", "answer_only_nll"]


def _log_odds(mean_logp: float) -> float:
    """log(p / (1 - p)) for p = exp(mean_logp) < 1, in float64 (expm1 keeps it exact near p = 1)."""
    return mean_logp - math.log(-math.expm1(mean_logp))


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > -30 else x - math.log1p(math.exp(x))


# Mean per-token log-probabilities (float32, as in training): ordinary values, a chosen answer that the model is
# almost sure of (-1e-9: in float32 exp(-1e-9) == 1, so a naive log(1 - exp(x)) is log 0), and a rejected one near 0.
_CHOSEN = [-1.2, -0.3, -2.5, -1e-9, -0.05]
_REJECTED = [-2.0, -0.1, -2.5, -0.7, -1e-4]


def odds_ratio_term(fn) -> None:
    """Check ``fn(chosen_logps, rejected_logps) -> (losses, log_odds_ratio)``, (B,) each, on float32 inputs."""
    name = "odds_ratio_term"
    chosen = torch.tensor(_CHOSEN, dtype=torch.float32)
    rejected = torch.tensor(_REJECTED, dtype=torch.float32)
    hint = ("log odds = l - log(1 - exp(l)) with the stable log1mexp (log(-expm1(l)) near 0); the ratio is "
            "log_odds(chosen) - log_odds(rejected); the loss is -logsigmoid(ratio)")
    out = attempt(name, fn, chosen, rejected, hint=hint)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        failed(name, "return two tensors: (losses, log_odds_ratio)", hint)
    losses, ratio = (torch.as_tensor(t).detach() for t in out)
    want_ratio = [_log_odds(float(c)) - _log_odds(float(r)) for c, r in zip(chosen.double(), rejected.double())]
    want_losses = [-_log_sigmoid(x) for x in want_ratio]
    if ratio.shape == (len(_CHOSEN),) and not torch.isfinite(ratio).all():
        failed(name, "a log odds ratio is inf or nan for an answer with mean log-prob -1e-9 (p ~ 1)",
               "1 - exp(-1e-9) is 0 in float32: compute log(1 - exp(l)) as torch.log(-torch.expm1(l)) when l > -ln 2")
    close(name, ratio, want_ratio, atol=1e-4, rtol=1e-4, what="log odds ratio", hint=hint)
    if losses.shape == (len(_CHOSEN),) and (losses < 0).any():
        failed(name, "a loss is negative - -log(sigmoid(x)) never is", "return -F.logsigmoid(ratio), not +")
    close(name, losses, want_losses, atol=1e-4, rtol=1e-4, what="per-pair loss", hint=hint)
    return passed(name, f"{len(_CHOSEN)} pairs, an answer with p ~ 1 and a tie (loss ln 2) included")


def _toy_logps():
    """Per-token log-probs (N=4 rows: 2 chosen, 2 rejected; T-1 = 6 targets) and a batch with prompts of different
    lengths and right padding. Every value is distinct, so any wrong mask changes the result."""
    generator = torch.Generator().manual_seed(5)
    token_lp = -(torch.rand(4, 6, generator=generator, dtype=torch.float64) * 3 + 0.05)
    # rows: chosen 1 (prompt 3, answer 3), chosen 2 (prompt 2, answer 2, pad 3),
    #       rejected 1 (prompt 3, answer 2, pad 2), rejected 2 (prompt 2, answer 5)
    attention = [[1] * 7, [1] * 4 + [0] * 3, [1] * 5 + [0] * 2, [1] * 7]
    completion = [[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1, 1]]
    batch = {"input_ids": torch.arange(28).reshape(4, 7), "attention_mask": torch.tensor(attention),
             "completion_mask": torch.tensor(completion)}
    return token_lp, batch


def _by_hand(token_lp, batch, lam):
    """TRL's ORPO numbers, one token at a time: (loss, nll, or_losses)."""
    lp, att, comp = token_lp.tolist(), batch["attention_mask"].tolist(), batch["completion_mask"].tolist()
    half = len(lp) // 2
    total = count = 0
    for row in range(half):                       # NLL: chosen rows, every real target (prompt included)
        for t in range(1, len(att[row])):
            if att[row][t]:
                total, count = total - lp[row][t - 1], count + 1
    nll = total / count
    means = []
    for row in range(len(lp)):                    # mean log-prob of the answer tokens
        vals = [lp[row][t - 1] for t in range(1, len(comp[row])) if comp[row][t]]
        means.append(sum(vals) / len(vals))
    or_losses = [-_log_sigmoid(_log_odds(means[i]) - _log_odds(means[half + i])) for i in range(half)]
    return nll + lam * sum(or_losses) / half, nll, or_losses


def orpo_loss(fn) -> None:
    """Check ``fn(token_lp, batch, lam) -> (loss, nll, or_losses)`` on a toy batch (2 pairs, padding, prompts)."""
    name = "orpo_loss"
    token_lp, batch = _toy_logps()
    hint = ("nll: chosen rows (first half), targets where attention_mask[:, 1:] is 1 - prompt included - one mean "
            "over all those tokens; the odds use the MEAN log-prob of the answer tokens (completion_mask[:, 1:]); "
            "loss = nll + lam * or_losses.mean()")
    for lam in (0.1, 1.0):
        out = attempt(name, fn, token_lp, batch, lam, hint=hint)
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            failed(name, "return three things: (loss, nll, or_losses)", hint)
        loss, nll, or_losses = (torch.as_tensor(t).detach() for t in out)
        want_loss, want_nll, want_or = _by_hand(token_lp, batch, lam)
        close(name, nll, torch.tensor(want_nll), atol=1e-6, what="NLL", hint=hint)
        close(name, or_losses, want_or, atol=1e-6, what="per-pair odds-ratio term", hint=hint)
        close(name, loss, torch.tensor(want_loss), atol=1e-6, what=f"loss at lambda {lam}", hint=hint)
    return passed(name, "2 pairs with prompts and padding: prompt-inclusive NLL, mean answer log-probs, lambda 0.1 and 1")


def answer_only_nll(fn) -> None:
    """Check ``fn(token_lp, batch) -> scalar``: the chosen rows' NLL over answer tokens only, one token-mean."""
    name = "answer_only_nll"
    token_lp, batch = _toy_logps()
    lp, comp = token_lp.tolist(), batch["completion_mask"].tolist()
    vals = [lp[row][t - 1] for row in range(2) for t in range(1, len(comp[row])) if comp[row][t]]
    want = -sum(vals) / len(vals)
    hint = ("chosen rows only (the first half); mask = completion_mask[:, 1:] (targets are shifted by one); "
            "sum over all masked tokens of both rows, then divide by their count")
    got = attempt(name, fn, token_lp, batch, hint=hint)
    close(name, got, torch.tensor(want), atol=1e-6, what="answer-only NLL", hint=hint)
    return passed(name, "2 chosen rows of different answer lengths: answer tokens only, one token-mean")
