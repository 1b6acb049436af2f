"""Self-checks for 06_evaluation: the swap-consistent win rate, distinct-n, the length-controlled win rate.

Expected values come from cases small enough to count by hand, or (for the logistic fit) from a plain
gradient-descent fit written differently from the notebook's Newton solution.
"""
from __future__ import annotations

import math

import torch

from ._core import attempt, close, failed, passed

__all__ = ["swap_consistent_win_rate", "distinct_n", "length_controlled_win_rate"]


def swap_consistent_win_rate(fn) -> None:
    """Check ``fn(first, second) -> (win_rate, consistency)``: first/second are 'A'/'B' verdicts with the model's
    answer shown as A / as B; the win rate counts consistent pairs only."""
    name = "swap_consistent_win_rate"
    hint = ("won = first 'A' and second 'B' (picked the model in both orders); lost = first 'B' and second 'A'; "
            "win rate = won / (won + lost); consistency = (won + lost) / number of pairs")
    cases = [  # first, second, expected (win rate, consistency)
        (list("AAAB"), list("BBAA"), (2 / 3, 3 / 4)),     # 2 wins, 1 loss, 1 inconsistent (A, A)
        (list("AAAAAA"), list("AAAAAA"), (math.nan, 0.0)),  # a judge that always says "A": nothing consistent
        (list("ABBBB"), list("BAAAB"), (1 / 4, 4 / 5)),    # 1 win, 3 losses, 1 inconsistent (B, B)
        (list("AB"), list("BA"), (0.5, 1.0)),
    ]
    for first, second, (want_win, want_consistency) in cases:
        got = attempt(name, fn, first, second, hint=hint)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            failed(name, f"expected a tuple (win_rate, consistency), got {type(got).__name__}", hint)
        win, consistency = float(got[0]), float(got[1])
        where = f"for first={''.join(first)}, second={''.join(second)}"
        close(name, consistency, want_consistency, atol=1e-9, what=f"consistency {where}", hint=hint)
        if math.isnan(want_win):
            if not math.isnan(win):
                failed(name, f"the win rate {where} is {win}, expected nan (no consistent pair to count)",
                       "return float('nan') when won + lost == 0 - never a number the judge did not support")
        else:
            close(name, win, want_win, atol=1e-9, what=f"win rate {where}", hint=hint)
    return passed(name, f"{len(cases)} verdict lists: wins, losses, inconsistent pairs, an always-'A' judge")


def _distinct_by_hand(texts, n):
    seen, total = set(), 0
    for text in texts:
        words = text.lower().split()
        for i in range(len(words) - n + 1):
            seen.add(" ".join(words[i:i + n]))
            total += 1
    return len(seen) / total if total else 0.0


def distinct_n(fn) -> None:
    """Check ``fn(texts, n) -> float``: distinct word n-grams / all n-grams, lower-cased, within each text."""
    name = "distinct_n"
    hint = ("words = text.lower().split(); n-grams of one text = tuples of n consecutive words; pool the n-grams of "
            "all texts in one list; return len(set(grams)) / len(grams), or 0.0 if the list is empty")
    cases = [
        (["the cat sat", "the cat ran"], 1, 4 / 6),
        (["the cat sat", "the cat ran"], 2, 3 / 4),
        (["A b a b", "a B"], 2, 2 / 4),              # case folded; no n-gram across the two texts ("b a" once)
        (["same answer here"] * 5, 2, 2 / 10),       # a model that repeats itself: 1/5
        (["one", ""], 2, 0.0),                       # no bigram at all
        (["x y z w", "z w x"], 3, 3 / 3),             # trigrams, all different
    ]
    for texts, n, want in cases:
        assert abs(_distinct_by_hand(texts, n) - want) < 1e-12  # the counts written above, recounted
        got = attempt(name, fn, list(texts), n, hint=hint)
        if got is None:
            failed(name, "the result is None - did you forget to return it?", hint)
        close(name, float(got), want, atol=1e-9, what=f"distinct-{n} of {texts}", hint=hint)
    return passed(name, f"{len(cases)} cases: pooled n-grams, lower case, none across texts, empty input")


def _logistic_by_gradient(y, diff):
    """sigma(a) of P = sigma(a + b * diff / std(diff)), fitted by plain gradient descent (slow but independent)."""
    y, diff = torch.as_tensor(y, dtype=torch.float64), torch.as_tensor(diff, dtype=torch.float64)
    scale = diff.std() if diff.std() > 0 else torch.tensor(1.0, dtype=torch.float64)
    a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([a, b], lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a + b * diff / scale, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.sigmoid(a).item()


def _length_cases():
    generator = torch.Generator().manual_seed(6)
    diff = 5 + 95 * torch.rand(300, generator=generator, dtype=torch.float64)      # always longer, 5-100 tokens
    wins = (torch.rand(300, generator=generator, dtype=torch.float64) < torch.sigmoid(-1 + 0.03 * diff)).double()
    mixed = torch.randn(200, generator=generator, dtype=torch.float64) * 30           # longer and shorter answers
    outcome = torch.where(torch.rand(200, generator=generator, dtype=torch.float64) < 0.2, torch.tensor(0.5, dtype=torch.float64),
                          (torch.rand(200, generator=generator, dtype=torch.float64) < torch.sigmoid(0.4 + 0.02 * mixed)).double())
    return [("an always-longer model", wins, diff), ("answers of both lengths, ties as 0.5", outcome, mixed)]


def length_controlled_win_rate(fn) -> None:
    """Check ``fn(outcomes, length_diff) -> float``: sigma(a) of the logistic fit P(win) = sigma(a + b * diff / std)."""
    name = "length_controlled_win_rate"
    hint = ("minimise the mean binary cross-entropy of sigmoid(a + b * diff / diff.std()) against the outcomes "
            "(ties 0.5 stay 0.5), then return sigmoid(a) - the predicted win rate at a length difference of 0")
    for what, outcomes, diff in _length_cases():
        want = _logistic_by_gradient(outcomes, diff)
        got = attempt(name, fn, outcomes.clone(), diff.clone(), hint=hint)
        if got is None:
            failed(name, "the result is None - did you forget to return it?", hint)
        got = float(got)
        if abs(got - outcomes.mean().item()) < 1e-6 and abs(want - outcomes.mean().item()) > 0.02:
            failed(name, f"for {what} you returned the raw win rate {got:.4f}; at equal length it is {want:.4f}", hint)
        close(name, got, want, atol=2e-3, what=f"length-controlled win rate for {what}", hint=hint)
    return passed(name, "2 data sets: an always-longer model (raw win > 0.5, at equal length < 0.5) and mixed lengths with ties")
