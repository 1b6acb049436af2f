"""Self-checks for 06_evaluation: cases counted by hand, and for the logistic fit the answers module's L-BFGS fit."""
from __future__ import annotations

import functools
import math

import torch

from . import _reference as _ref
from ._core import attempt, close, failed, passed, returns, self_check

__all__ = ["swap_consistent_win_rate", "distinct_n", "length_controlled_win_rate"]


@self_check(reference=_ref.swap_consistent_win_rate)
def swap_consistent_win_rate(fn) -> None:
    """``fn(first, second) -> (win_rate, consistency)`` from 'A'/'B' verdicts, the model's answer shown as A / as B."""
    name = "swap_consistent_win_rate"
    hint = ("a pair counts only when the judge picks the same answer in both orders - remember the model is A in "
            "`first` and B in `second`; the win rate is among those pairs, the consistency is their share of all")
    cases = [  # first, second, expected (win rate, consistency)
        (list("AAAB"), list("BBAA"), (2 / 3, 3 / 4)),     # 2 wins, 1 loss, 1 inconsistent (A, A)
        (list("AAAAAA"), list("AAAAAA"), (math.nan, 0.0)),  # a judge that always says "A": nothing consistent
        (list("ABBBB"), list("BAAAB"), (1 / 4, 4 / 5)),    # 1 win, 3 losses, 1 inconsistent (B, B)
        (list("AB"), list("BA"), (0.5, 1.0)),
    ]
    for first, second, (want_win, want_consistency) in cases:
        win, consistency = returns(name, attempt(name, fn, first, second, hint=hint), "win_rate, consistency", hint)
        where = f"for first={''.join(first)}, second={''.join(second)}"
        close(name, consistency, want_consistency, atol=1e-9, what=f"consistency {where}", hint=hint)
        close(name, win, want_win, atol=1e-9, what=f"win rate {where}", hint=hint if not math.isnan(want_win) else
              "with no consistent pair there is no win rate (nan) - never return a number the judge did not support")
    return passed(name, f"{len(cases)} verdict lists: wins, losses, inconsistent pairs, an always-'A' judge")


@self_check(reference=_ref.distinct_n)
def distinct_n(fn) -> None:
    """``fn(texts, n) -> float``: distinct word n-grams / all n-grams, lower-cased, within each text."""
    name = "distinct_n"
    hint = ("reread the definition above: lower-cased words, n-grams that never cross from one text into the "
            "next, counted over all texts together; no n-gram at all gives 0.0")
    cases = [
        (["the cat sat", "the cat ran"], 1, 4 / 6),
        (["the cat sat", "the cat ran"], 2, 3 / 4),
        (["A b a b", "a B"], 2, 2 / 4),              # case folded; no n-gram across the two texts ("b a" once)
        (["same answer here"] * 5, 2, 2 / 10),       # a model that repeats itself: 1/5
        (["one", ""], 2, 0.0),                       # no bigram at all
        (["x y z w", "z w x"], 3, 3 / 3),             # trigrams, all different
    ]
    for texts, n, want in cases:
        got = attempt(name, fn, list(texts), n, hint=hint)
        close(name, got, want, atol=1e-9, what=f"distinct-{n} of {texts}", hint=hint)
    return passed(name, f"{len(cases)} cases: pooled n-grams, lower case, none across texts, empty input")


def _length_cases():
    generator = torch.Generator().manual_seed(6)
    uniform = functools.partial(torch.rand, generator=generator, dtype=torch.float64)
    diff = 5 + 95 * uniform(300)                                                     # always longer, 5-100 tokens
    wins = (uniform(300) < torch.sigmoid(-1 + 0.03 * diff)).double()
    mixed = torch.randn(200, generator=generator, dtype=torch.float64) * 30           # longer and shorter answers
    ties = uniform(200) < 0.2
    outcome = torch.where(ties, 0.5, (uniform(200) < torch.sigmoid(0.4 + 0.02 * mixed)).double())
    return [("an always-longer model", wins, diff), ("answers of both lengths, ties as 0.5", outcome, mixed)]


@self_check(reference=_ref.length_controlled_win_rate)
def length_controlled_win_rate(fn) -> None:
    """``fn(outcomes, length_diff) -> float``: sigma(a) of the logistic fit P(win) = sigma(a + b * diff / std)."""
    name = "length_controlled_win_rate"
    hint = ("fit the logistic model of the exercise text to all outcomes (ties included as they are), then read "
            "off its prediction for two answers of equal length")
    for what, outcomes, diff in _length_cases():
        want = _ref.length_controlled_win_rate(outcomes, diff)
        got = attempt(name, fn, outcomes.clone(), diff.clone(), hint=hint)
        raw = outcomes.mean().item()
        is_number = isinstance(got, (int, float)) or getattr(got, "shape", None) == ()
        if is_number and abs(float(got) - raw) < 1e-6 and abs(want - raw) > 0.02:
            failed(name, f"for {what} you returned the raw win rate {raw:.4f}; at equal length it is {want:.4f}", hint)
        close(name, got, want, atol=2e-3, what=f"length-controlled win rate for {what}", hint=hint)
    return passed(name, "2 data sets: an always-longer model (raw win > 0.5, at equal length < 0.5) and mixed lengths with ties")
