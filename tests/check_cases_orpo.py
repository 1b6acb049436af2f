"""Self-check cases for 05_orpo (see tests/test_checks.py): the notebook's solutions, and plausible wrong answers."""
from functools import lru_cache

import torch
import torch.nn.functional as F

import nbcode as _nbcode  # tests/ is on sys.path under pytest (as for test_dpo's `from nbcode import ...`)

PREAMBLE = "import math\nimport torch\nimport torch.nn.functional as F\nimport helpers\n"


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions(
        "05_orpo.ipynb", "log1mexp", "log_odds", "odds_ratio_term", "mean_answer_logps", "prompt_inclusive_nll",
        "orpo_loss", "answer_only_nll", preamble=PREAMBLE)


def no_args():
    return ()


# --- odds_ratio_term --------------------------------------------------------------------------------------------
def odds_ratio_term(chosen, rejected):
    return notebook()["odds_ratio_term"](chosen, rejected)


def _log_odds(x):
    return notebook()["log_odds"](x)


def or_logprob_difference(chosen, rejected):  # forgets the 1 - p: a plain log-probability ratio
    ratio = chosen - rejected
    return -F.logsigmoid(ratio), ratio


def or_naive_log1mexp(chosen, rejected):      # log(1 - exp(l)) as written: log 0 when p ~ 1 in float32
    odds = lambda x: x - torch.log(1 - torch.exp(x))
    ratio = odds(chosen) - odds(rejected)
    return -F.logsigmoid(ratio), ratio


def or_plus_logsigmoid(chosen, rejected):     # the sign: a reward, not a loss
    ratio = _log_odds(chosen) - _log_odds(rejected)
    return F.logsigmoid(ratio), ratio


def or_swapped(chosen, rejected):             # rejected over chosen
    ratio = _log_odds(rejected) - _log_odds(chosen)
    return -F.logsigmoid(ratio), ratio


def or_odds_not_log(chosen, rejected):        # the odds ratio itself, not its log
    ratio = torch.exp(_log_odds(chosen) - _log_odds(rejected))
    return -F.logsigmoid(ratio), ratio


# --- orpo_loss and answer_only_nll ------------------------------------------------------------------------------
def orpo_loss(token_lp, batch, lam):
    return notebook()["orpo_loss"](token_lp, batch, lam)


def _masked_nll(token_lp, mask, per_row=False):
    if per_row:
        return (-(token_lp * mask).sum(-1) / mask.sum(-1)).mean()
    return -(token_lp * mask).sum() / mask.sum()


def _loss_from(nll, chosen_means, rejected_means, lam, sign=1.0):
    or_losses, _ = notebook()["odds_ratio_term"](chosen_means, rejected_means)
    return nll + sign * lam * or_losses.mean(), nll, or_losses


def _means(token_lp, batch, shift=True, summed=False):
    mask = (batch["completion_mask"][:, 1:] if shift else batch["completion_mask"][:, :-1]).double()
    total = (token_lp * mask).sum(-1)
    return (total if summed else total / mask.sum(-1)).chunk(2)


def _half(batch):
    return batch["input_ids"].shape[0] // 2


def loss_answer_only_nll(token_lp, batch, lam):   # 03's SFT loss, not TRL's
    h = _half(batch)
    nll = _masked_nll(token_lp[:h], batch["completion_mask"][:h, 1:].double())
    return _loss_from(nll, *_means(token_lp, batch), lam)


def loss_nll_per_row(token_lp, batch, lam):       # mean of per-sequence means, not one token-mean
    h = _half(batch)
    nll = _masked_nll(token_lp[:h], batch["attention_mask"][:h, 1:].double(), per_row=True)
    return _loss_from(nll, *_means(token_lp, batch), lam)


def loss_nll_all_rows(token_lp, batch, lam):      # the rejected rows trained too
    nll = _masked_nll(token_lp, batch["attention_mask"][:, 1:].double())
    return _loss_from(nll, *_means(token_lp, batch), lam)


def loss_summed_logps(token_lp, batch, lam):      # DPO's summed log-probs in the odds
    h = _half(batch)
    nll = _masked_nll(token_lp[:h], batch["attention_mask"][:h, 1:].double())
    return _loss_from(nll, *_means(token_lp, batch, summed=True), lam)


def loss_minus_or(token_lp, batch, lam):          # subtracts the (positive) penalty
    h = _half(batch)
    nll = _masked_nll(token_lp[:h], batch["attention_mask"][:h, 1:].double())
    return _loss_from(nll, *_means(token_lp, batch), lam, sign=-1.0)


def loss_unshifted_mask(token_lp, batch, lam):    # masks not shifted with the targets
    h = _half(batch)
    nll = _masked_nll(token_lp[:h], batch["attention_mask"][:h, :-1].double())
    return _loss_from(nll, *_means(token_lp, batch, shift=False), lam)


def answer_only_nll(token_lp, batch):
    return notebook()["answer_only_nll"](token_lp, batch)


def ans_prompt_included(token_lp, batch):         # TRL's NLL
    h = _half(batch)
    return _masked_nll(token_lp[:h], batch["attention_mask"][:h, 1:].double())


def ans_per_row(token_lp, batch):
    h = _half(batch)
    return _masked_nll(token_lp[:h], batch["completion_mask"][:h, 1:].double(), per_row=True)


def ans_all_rows(token_lp, batch):
    return _masked_nll(token_lp, batch["completion_mask"][:, 1:].double())


def ans_unshifted(token_lp, batch):
    h = _half(batch)
    return _masked_nll(token_lp[:h], batch["completion_mask"][:h, :-1].double())


CASES = {
    "odds_ratio_term": (no_args, odds_ratio_term,
                        [or_logprob_difference, or_naive_log1mexp, or_plus_logsigmoid, or_swapped, or_odds_not_log]),
    "orpo_loss": (no_args, orpo_loss, [loss_answer_only_nll, loss_nll_per_row, loss_nll_all_rows, loss_summed_logps,
                                       loss_minus_or, loss_unshifted_mask]),
    "answer_only_nll": (no_args, answer_only_nll, [ans_prompt_included, ans_per_row, ans_all_rows, ans_unshifted]),
}
