"""Self-check cases for 02_what-lora-saves (see tests/test_checks.py): the solutions and plausible wrong answers."""
from functools import lru_cache

import helpers
import nbcode as _nbcode  # tests/nbcode.py: the notebook's own definitions (tests/ is on sys.path under pytest)


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions("02_what-lora-saves.ipynb", "predicted_trainable", "adamw_state_bytes", "largest_batch")


def predicted_trainable():
    return notebook()["predicted_trainable"]()


def predicted_trainable_without_gqa():   # v_proj taken as wide as q_proj
    return 24 * 2 * 8 * (896 + 896)


def predicted_trainable_one_layer():
    return 8 * (896 + 896) + 8 * (896 + 128)


def predicted_trainable_as_str():
    return f"{predicted_trainable():,}"


def adamw_state_bytes(model):
    return notebook()["adamw_state_bytes"](model)


def adamw_all_parameters(model):         # forgets that frozen parameters have no state
    return sum(8 * p.numel() + 4 for p in model.parameters())


def adamw_one_moment(model):
    return sum(4 * p.numel() + 4 for p in model.parameters() if p.requires_grad)


def adamw_no_step_counter(model):
    return sum(8 * p.numel() for p in model.parameters() if p.requires_grad)


def _fits(model_id, method, seq_len, limit_gib, batch_size, **kwargs):
    est = helpers.estimate_memory(model_id, method, batch_size=batch_size, seq_len=seq_len, **kwargs)
    return est.total <= limit_gib * 2**30


def largest_batch(model_id, method, seq_len, limit_gib, **kwargs):
    return notebook()["largest_batch"](model_id, method, seq_len, limit_gib, **kwargs)


def largest_batch_off_by_one(model_id, method, seq_len, limit_gib, **kwargs):   # the first batch that does NOT fit
    return largest_batch(model_id, method, seq_len, limit_gib, **kwargs) + 1


def largest_batch_powers_of_two(model_id, method, seq_len, limit_gib, **kwargs):   # stops at a power of two
    batch = 1
    while batch * 2 <= 1024 and _fits(model_id, method, seq_len, limit_gib, batch * 2, **kwargs):
        batch *= 2
    return batch if _fits(model_id, method, seq_len, limit_gib, batch, **kwargs) else 0


def largest_batch_at_least_one(model_id, method, seq_len, limit_gib, **kwargs):   # never says "nothing fits"
    return max(1, largest_batch(model_id, method, seq_len, limit_gib, **kwargs))


def no_args():
    return ()


def standin():
    return (helpers.load_model("HuggingFaceTB/SmolLM2-135M", "quick", device="cpu"),)


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "predicted_trainable": (no_args, predicted_trainable,
                            [predicted_trainable_without_gqa, predicted_trainable_one_layer, predicted_trainable_as_str]),
    "adamw_state_bytes": (standin, adamw_state_bytes, [adamw_all_parameters, adamw_one_moment, adamw_no_step_counter]),
    "largest_batch": (no_args, largest_batch,
                      [largest_batch_off_by_one, largest_batch_powers_of_two, largest_batch_at_least_one]),
}
