"""Self-checks for 02_what-lora-saves: a trainable count, AdamW's state bytes, the largest batch that fits."""
from __future__ import annotations

import copy

import torch

from ..budget import T4_USABLE_GIB
from ..models import build_model
from . import _reference as _ref
from ._core import attempt, equal, failed, passed, self_check

__all__ = ["predicted_trainable", "adamw_state_bytes", "largest_batch"]


@self_check()
def predicted_trainable(fn) -> None:
    """``fn() -> int``: LoRA r=8 on q_proj and v_proj of Qwen2.5-0.5B, against PEFT's count (meta device)."""
    import peft

    name = "predicted_trainable"
    got = attempt(name, fn, hint="return the count as an int, worked out from the config above")
    config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    want = peft.get_peft_model(build_model("Qwen/Qwen2.5-0.5B", device="meta"), config).get_nb_trainable_parameters()[0]
    if not isinstance(got, int) or isinstance(got, bool):
        failed(name, f"return an int, got {type(got).__name__}", "return the number itself, e.g. 123456")
    equal(name, got, want, what="trainable count",
          hint="section 2 gave the count of one LoRA layer; check each projection's in- and out-features "
               "in the config (grouped-query attention makes v_proj narrower than q_proj) and the number of layers")
    return passed(name, f"{want:,} trainable parameters, as PEFT counts them")


def _adamw_step(model) -> int:
    """Optimizer-state bytes of a real AdamW after one step on ``model``."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    return sum(t.numel() * t.element_size() for state in optimizer.state.values() for t in state.values()
               if torch.is_tensor(t))


@self_check()
def adamw_state_bytes(fn, model) -> None:
    """``fn(model) -> int``: AdamW's state after one step, ``model`` trained fully and with LoRA (a real AdamW's)."""
    import peft

    name = "adamw_state_bytes"
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM")
    cases = {"full": copy.deepcopy(model), "LoRA": peft.get_peft_model(copy.deepcopy(model), config)}
    wants = {label: _adamw_step(case) for label, case in cases.items()}
    for label, case in cases.items():
        got = attempt(name, fn, case, hint="the function takes a model and returns an int")
        equal(name, got, wants[label], what=f"byte count for {label} fine-tuning",
              hint="reread what AdamW keeps per parameter and per tensor (the exercise text), and which "
                   "parameters it keeps it for")
    return passed(name, f"full {wants['full']:,} bytes, LoRA {wants['LoRA']:,} bytes, as AdamW holds them")


LARGEST_BATCH_CASES = [   # (model, method, sequence length, memory limit in GiB, settings): a T4 and a smaller GPU
    ("HuggingFaceTB/SmolLM2-360M", "lora", 512, T4_USABLE_GIB, {"r": 16}),
    ("HuggingFaceTB/SmolLM2-360M", "lora", 512, T4_USABLE_GIB, {"r": 16, "checkpointing": True}),
    ("EleutherAI/pythia-160m", "full", 1024, 8.0, {}),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "full", 512, T4_USABLE_GIB, {}),    # not even one sequence fits
]


@self_check(reference=_ref.largest_batch)
def largest_batch(fn) -> None:
    """``fn(model_id, method, seq_len, limit_gib, **kwargs) -> int``: the largest batch (<= 1024) that fits, or 0."""
    name = "largest_batch"
    found = []
    for model_id, method, seq_len, limit_gib, kwargs in LARGEST_BATCH_CASES:
        got = attempt(name, fn, model_id, method, seq_len, limit_gib, **kwargs,
                      hint="the function returns an int; helpers.estimate_memory predicts one batch size at a time")
        case = f"{model_id.split('/')[1]} {method} {kwargs or ''} at {seq_len} tokens in {limit_gib:g} GiB"
        if not isinstance(got, int) or isinstance(got, bool) or not 0 <= got <= 1024:
            failed(name, f"{case}: expected an int between 0 and 1024, got {got!r}", "return the batch size")
        if got > 0 and not _ref.batch_fits(model_id, method, seq_len, limit_gib, kwargs, got):
            failed(name, f"{case}: batch {got} does not fit", "the answer must fit; step down until it does")
        if got < 1024 and _ref.batch_fits(model_id, method, seq_len, limit_gib, kwargs, got + 1):
            failed(name, f"{case}: batch {got} fits, but so does {got + 1}",
                   "find the *largest* batch that fits (0 only when batch 1 does not fit)")
        found.append(got)
    return passed(name, "largest batches " + ", ".join(map(str, found)) + " - each fits, one more does not")
