"""Self-check cases for 06_evaluation (see tests/test_checks.py): the notebook's solutions, and plausible wrong answers."""
import math
from functools import lru_cache

import torch

import nbcode as _nbcode  # tests/ is on sys.path under pytest (as for test_dpo's `from nbcode import ...`)

PREAMBLE = "import math\nimport torch\nimport helpers\n"


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions("06_evaluation.ipynb", "swap_consistent_win_rate", "distinct_n",
                               "length_controlled_win_rate", preamble=PREAMBLE)


def no_args():
    return ()


# --- swap_consistent_win_rate ---------------------------------------------------------------------------------
def swap_consistent_win_rate(first, second):
    return notebook()["swap_consistent_win_rate"](first, second)


def swap_not_flipped(first, second):  # forgets that the model is "B" in the second order
    won = sum(f == "A" and s == "A" for f, s in zip(first, second))
    lost = sum(f == "B" and s == "B" for f, s in zip(first, second))
    return (won / (won + lost) if won + lost else float("nan")), (won + lost) / len(first)


def swap_all_pairs(first, second):  # divides by every pair, inconsistent ones too
    won = sum(f == "A" and s == "B" for f, s in zip(first, second))
    lost = sum(f == "B" and s == "A" for f, s in zip(first, second))
    return won / len(first), (won + lost) / len(first)


def swap_ties_half(first, second):  # MT-Bench's tie convention - a different number than asked for
    won = sum(f == "A" and s == "B" for f, s in zip(first, second))
    lost = sum(f == "B" and s == "A" for f, s in zip(first, second))
    return (won + 0.5 * (len(first) - won - lost)) / len(first), (won + lost) / len(first)


def swap_first_order_only(first, second):  # no swap at all
    return first.count("A") / len(first), 1.0


def swap_zero_when_empty(first, second):  # reports 0.0 where nothing was consistent
    win, consistency = swap_consistent_win_rate(first, second)
    return (0.0 if math.isnan(win) else win), consistency


# --- distinct_n -----------------------------------------------------------------------------------------------
def distinct_n(texts, n):
    return notebook()["distinct_n"](texts, n)


def distinct_joined(texts, n):  # n-grams across the boundary between two samples
    return distinct_n([" ".join(texts)], n)


def distinct_per_text(texts, n):  # the mean of each sample's own distinct-n: misses repetition across samples
    scores = [distinct_n([t], n) for t in texts if len(t.split()) >= n]
    return sum(scores) / len(scores) if scores else 0.0


def distinct_case_sensitive(texts, n):
    grams = [tuple(t.split()[i:i + n]) for t in texts for i in range(len(t.split()) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def distinct_unigrams(texts, n):  # ignores n
    return distinct_n(texts, 1)


def distinct_chars(texts, n):  # character n-grams
    grams = [t.lower()[i:i + n] for t in texts for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


# --- length_controlled_win_rate -------------------------------------------------------------------------------
def length_controlled_win_rate(outcomes, length_diff):
    return notebook()["length_controlled_win_rate"](outcomes, length_diff)


def lc_raw(outcomes, length_diff):  # no control at all
    return torch.as_tensor(outcomes, dtype=torch.float64).mean().item()


def lc_linear(outcomes, length_diff):  # the notebook's straight line, not the logistic fit
    y, d = torch.as_tensor(outcomes, dtype=torch.float64), torch.as_tensor(length_diff, dtype=torch.float64)
    x = torch.stack([torch.ones_like(d), d], 1)
    return torch.linalg.lstsq(x, y.unsqueeze(1)).solution[0, 0].item()


def lc_no_intercept_slope(outcomes, length_diff):  # sigma(a + b) instead of sigma(a): read at one std longer
    y, d = torch.as_tensor(outcomes, dtype=torch.float64), torch.as_tensor(length_diff, dtype=torch.float64)
    x = torch.stack([torch.ones_like(d), d / d.std()], 1)
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(50):
        p = torch.sigmoid(x @ w)
        w = w - torch.linalg.solve((x * (p * (1 - p)).unsqueeze(1)).T @ x / len(y), x.T @ (p - y) / len(y))
    return torch.sigmoid(w.sum()).item()


def lc_ties_dropped(outcomes, length_diff):  # throws away the ties instead of counting them half
    y, d = torch.as_tensor(outcomes, dtype=torch.float64), torch.as_tensor(length_diff, dtype=torch.float64)
    keep = y != 0.5
    return length_controlled_win_rate(y[keep], d[keep])


def lc_few_steps(outcomes, length_diff):  # gradient descent stopped far too early
    y, d = torch.as_tensor(outcomes, dtype=torch.float64), torch.as_tensor(length_diff, dtype=torch.float64)
    x = torch.stack([torch.ones_like(d), d / d.std()], 1)
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(5):
        w = w - 0.5 * x.T @ (torch.sigmoid(x @ w) - y) / len(y)
    return torch.sigmoid(w[0]).item()


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "swap_consistent_win_rate": (no_args, swap_consistent_win_rate,
                                 [swap_not_flipped, swap_all_pairs, swap_ties_half, swap_first_order_only,
                                  swap_zero_when_empty]),
    "distinct_n": (no_args, distinct_n, [distinct_joined, distinct_per_text, distinct_case_sensitive,
                                         distinct_unigrams, distinct_chars]),
    "length_controlled_win_rate": (no_args, length_controlled_win_rate,
                                   [lc_raw, lc_linear, lc_no_intercept_slope, lc_ties_dropped, lc_few_steps]),
}
