"""Self-checks for 05_orpo; the expected values come from the answers module's by-hand oracles (``*_by_hand``)."""
from __future__ import annotations

import torch

from . import _reference as _ref
from ._core import attempt, close, failed, passed, returns, self_check
from ._toy import toy_batch

__all__ = ["odds_ratio_term", "orpo_loss", "answer_only_nll"]


# Mean per-token log-probabilities (float32, as in training): ordinary values, a chosen answer that the model is
# almost sure of (-1e-9: in float32 exp(-1e-9) == 1, so a naive log(1 - exp(x)) is log 0), and a rejected one near 0.
_CHOSEN = [-1.2, -0.3, -2.5, -1e-9, -0.05]
_REJECTED = [-2.0, -0.1, -2.5, -0.7, -1e-4]


@self_check(reference=_ref.odds_ratio_term)
def odds_ratio_term(fn) -> None:
    """``fn(chosen_logps, rejected_logps) -> (losses, log_odds_ratio)``, (B,) each, on float32 inputs."""
    name = "odds_ratio_term"
    chosen, rejected = (torch.tensor(values, dtype=torch.float32) for values in (_CHOSEN, _REJECTED))
    hint = ("section 5.4 built log-odds that stay finite - use them; then reread section 1: how the odds of the "
            "two answers are compared, and what loss that comparison gets")
    losses, ratio = returns(name, attempt(name, fn, chosen, rejected, hint=hint), "losses, log_odds_ratio", hint)
    want_ratio = [_ref.log_odds_float(c) - _ref.log_odds_float(r) for c, r in zip(chosen.tolist(), rejected.tolist())]
    if isinstance(ratio, torch.Tensor) and ratio.shape == (len(_CHOSEN),) and not torch.isfinite(ratio).all():
        failed(name, "a log odds ratio is inf or nan for an answer with mean log-prob -1e-9 (p ~ 1)",
               "in float32 a probability this close to 1 rounds to 1: section 5.4 shows log-odds that stay finite")
    close(name, ratio, want_ratio, atol=1e-4, rtol=1e-4, what="log odds ratio", hint=hint)
    if isinstance(losses, torch.Tensor) and losses.shape == (len(_CHOSEN),) and (losses < 0).any():
        failed(name, "a loss is negative - -log(sigmoid(x)) never is",
               "check the sign: the loss of a well-separated pair is small and positive")
    close(name, losses, [_ref.softplus(-x) for x in want_ratio], atol=1e-4, rtol=1e-4, what="per-pair loss", hint=hint)
    return passed(name, f"{len(_CHOSEN)} pairs, an answer with p ~ 1 and a tie (loss ln 2) included")


def _toy_logps():
    """Per-token log-probs of the toy batch (``_toy``, 04's checks use it too): float64, every value distinct, so any
    wrong mask changes the result."""
    generator = torch.Generator().manual_seed(5)
    return -(torch.rand(4, 6, generator=generator, dtype=torch.float64) * 3 + 0.05), toy_batch()   # (N, T-1), batch


@self_check(reference=_ref.orpo_loss)
def orpo_loss(fn) -> None:
    """``fn(token_lp, batch, lam) -> (loss, nll, or_losses)`` on a toy batch (2 pairs, padding, prompts)."""
    name = "orpo_loss"
    token_lp, batch = _toy_logps()
    hint = ("three parts, each already in the notebook: TRL's NLL of section 5.3 (which rows, which tokens?), the "
            "per-pair odds-ratio term of Exercise 1 on the mean answer log-probs, and lambda weighting their mean")
    for lam in (0.1, 1.0):
        loss, nll, or_losses = returns(name, attempt(name, fn, token_lp, batch, lam, hint=hint), "loss, nll, or_losses",
                                       hint)
        want_loss, want_nll, want_or = _ref.orpo_by_hand(token_lp, batch, lam)
        close(name, nll, want_nll, atol=1e-6, what="NLL", hint=hint)
        close(name, or_losses, want_or, atol=1e-6, what="per-pair odds-ratio term", hint=hint)
        close(name, loss, want_loss, atol=1e-6, what=f"loss at lambda {lam}", hint=hint)
    return passed(name, "2 pairs with prompts and padding: prompt-inclusive NLL, mean answer log-probs, lambda 0.1 and 1")


@self_check(reference=_ref.answer_only_nll)
def answer_only_nll(fn) -> None:
    """``fn(token_lp, batch) -> scalar``: the chosen rows' NLL over answer tokens only, one token-mean."""
    name = "answer_only_nll"
    token_lp, batch = _toy_logps()
    hint = ("like TRL's NLL of section 5.3, with another mask: which rows, which tokens (and the targets are shifted "
            "by one); one mean over all of those tokens, not a mean of row means")
    got = attempt(name, fn, token_lp, batch, hint=hint)
    close(name, got, _ref.answer_only_by_hand(token_lp, batch), atol=1e-6, what="answer-only NLL", hint=hint)
    return passed(name, "2 chosen rows of different answer lengths: answer tokens only, one token-mean")
