"""Self-check cases for 04_dpo (see tests/test_checks.py): the notebook's solutions, and plausible wrong answers."""
from functools import lru_cache

import torch
import torch.nn.functional as F

import nbcode as _nbcode  # tests/ is on sys.path under pytest (as for test_dpo's `from nbcode import ...`)

PREAMBLE = ("import math\nimport datasets\nimport torch\nimport torch.nn.functional as F\n"
            "from contextlib import contextmanager\nimport helpers\n")
from tests.conftest import MODEL_ID  # noqa: E402


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions(
        "04_dpo.ipynb", "sequence_logps", "dpo_loss", "sigmoid_norm_loss", "beta_sweep", "train_from_scratch",
        "trainable_state", "load_trainable_state", "reference_adapter", "tokenize_pair", "common_prefix",
        "collate_pairs", "to_pairs", preamble=PREAMBLE)


def no_args():
    return ()


# --- sequence_logps -------------------------------------------------------------------------------------------
def sequence_logps(model, batch, average=False):
    return notebook()["sequence_logps"](model, batch, average)


def _token_logps(model, batch, shift=True):
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    if not shift:  # the classic slip: position t scored against its own token
        return logits.log_softmax(-1).gather(-1, batch["input_ids"].unsqueeze(-1)).squeeze(-1)
    return logits[:, :-1].log_softmax(-1).gather(-1, batch["input_ids"][:, 1:].unsqueeze(-1)).squeeze(-1)


def logps_without_shift(model, batch, average=False):
    mask = batch["completion_mask"].float()
    total = (_token_logps(model, batch, shift=False) * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def logps_mask_by_pad_id(model, batch, average=False):  # drops the answer's own EOS (pad = EOS)
    mask = (batch["completion_mask"][:, 1:] * (batch["input_ids"][:, 1:] != 6)).float()
    total = (_token_logps(model, batch) * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def logps_unshifted_mask(model, batch, average=False):  # targets shifted, the mask not
    mask = batch["completion_mask"][:, :-1].float()
    total = (_token_logps(model, batch) * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def logps_prompt_included(model, batch, average=False):  # every real token, prompt too
    mask = batch["attention_mask"][:, 1:].float()
    total = (_token_logps(model, batch) * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def logps_of_probabilities(model, batch, average=False):  # softmax instead of log_softmax
    logits = model(input_ids=batch["input_ids"]).logits[:, :-1]
    probs = logits.softmax(-1).gather(-1, batch["input_ids"][:, 1:].unsqueeze(-1)).squeeze(-1)
    mask = batch["completion_mask"][:, 1:].float()
    total = (probs * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def logps_always_mean(model, batch, average=False):  # ignores `average`
    mask = batch["completion_mask"][:, 1:].float()
    return (_token_logps(model, batch) * mask).sum(-1) / mask.sum(-1)


# --- dpo_loss -------------------------------------------------------------------------------------------------
def dpo_loss(pc, pr, rc, rr, beta, label_smoothing=0.0):
    return notebook()["dpo_loss"](pc, pr, rc, rr, beta, label_smoothing)


def loss_without_reference(pc, pr, rc, rr, beta, label_smoothing=0.0):
    return dpo_loss(pc, pr, torch.zeros_like(rc), torch.zeros_like(rr), beta, label_smoothing)


def loss_unstable(pc, pr, rc, rr, beta, label_smoothing=0.0):
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    m = chosen - rejected
    losses = -(1 - label_smoothing) * torch.log(torch.sigmoid(m)) - label_smoothing * torch.log(torch.sigmoid(-m))
    return losses, chosen, rejected


def loss_robust(pc, pr, rc, rr, beta, label_smoothing=0.0):  # TRL's "robust", not conservative DPO
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    m = chosen - rejected
    losses = (-(1 - label_smoothing) * F.logsigmoid(m) + label_smoothing * F.logsigmoid(-m)) / (1 - 2 * label_smoothing)
    return losses, chosen, rejected


def loss_mean(pc, pr, rc, rr, beta, label_smoothing=0.0):  # one number for the batch
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta, label_smoothing)
    return losses.mean(), chosen, rejected


def loss_rewards_without_beta(pc, pr, rc, rr, beta, label_smoothing=0.0):
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta, label_smoothing)
    return losses, pc - rc, pr - rr


def loss_beta_outside(pc, pr, rc, rr, beta, label_smoothing=0.0):  # beta * (-logsigmoid(delta))
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    return -beta * F.logsigmoid((pc - rc) - (pr - rr)), chosen, rejected


# --- beta_sweep -----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _sweep_setup():
    """A stand-in policy with a trained-looking "default" adapter and its frozen "ref" copy, and one small batch."""
    import helpers
    from peft import get_peft_model

    ns = notebook()
    torch.manual_seed(0)
    model = get_peft_model(helpers.load_model(MODEL_ID, "quick"), helpers.train.lora_config(MODEL_ID))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.02)  # as if SFT had trained it
    model.add_adapter("ref", model.peft_config["default"])  # what DPOTrainer does with ref_model=None
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in params:
            if ".ref." in name:
                params[name].copy_(params[name.replace(".ref.", ".default.")])
    model.eval()
    tokenizer = helpers.load_tokenizer(MODEL_ID, "quick")
    pairs, _ = ns["to_pairs"](helpers.load_preferences("quick", "train", limit=2))
    batch = ns["collate_pairs"]([ns["tokenize_pair"](tokenizer, p) for p in pairs], tokenizer.pad_token_id, 128)
    return model, batch


def sweep_args():
    model, batch = _sweep_setup()
    return model, batch, 5e-3


def beta_sweep(model, batch, betas, steps, lr):
    return notebook()["beta_sweep"](model, batch, betas, steps, lr)


beta_sweep.namespace = notebook   # the notebook's names (train_from_scratch), for test_checks' unsolved copy


def sweep_without_reset(model, batch, betas, steps, lr):
    ns = notebook()
    start = ns["trainable_state"](model)
    results = {beta: ns["train_from_scratch"](model, batch, beta=beta, steps=steps, lr=lr) for beta in betas}
    ns["load_trainable_state"](model, start)
    return results


def sweep_one_beta(model, batch, betas, steps, lr):  # the notebook's BETA for every run
    ns = notebook()
    start = ns["trainable_state"](model)
    results = {}
    for beta in betas:
        ns["load_trainable_state"](model, start)
        results[beta] = ns["train_from_scratch"](model, batch, beta=0.1, steps=steps, lr=lr)
    ns["load_trainable_state"](model, start)
    return results


# --- sigmoid_norm_loss ----------------------------------------------------------------------------------------
def sigmoid_norm_loss(pc, pr, rc, rr, nc, nr, beta):
    return notebook()["sigmoid_norm_loss"](pc, pr, rc, rr, nc, nr, beta)


def norm_unnormalised(pc, pr, rc, rr, nc, nr, beta):  # plain DPO
    return -F.logsigmoid(beta * ((pc - rc) - (pr - rr)))


def norm_lengths_swapped(pc, pr, rc, rr, nc, nr, beta):
    return -F.logsigmoid(beta * ((pc - rc) / nr - (pr - rr) / nc))


def norm_policy_only(pc, pr, rc, rr, nc, nr, beta):  # no reference (SimPO-like without margin)
    return -F.logsigmoid(beta * (pc / nc - pr / nr))


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "sequence_logps": (no_args, sequence_logps, [logps_without_shift, logps_mask_by_pad_id, logps_unshifted_mask,
                                                  logps_prompt_included, logps_of_probabilities, logps_always_mean]),
    "dpo_loss": (no_args, dpo_loss, [loss_without_reference, loss_unstable, loss_robust, loss_mean,
                                     loss_rewards_without_beta, loss_beta_outside]),
    "beta_sweep": (sweep_args, beta_sweep, [sweep_without_reset, sweep_one_beta]),
    "sigmoid_norm_loss": (no_args, sigmoid_norm_loss, [norm_unnormalised, norm_lengths_swapped, norm_policy_only]),
}
