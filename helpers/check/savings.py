"""Self-checks for 02_what-lora-saves: a trainable count, AdamW's state bytes, the largest batch that fits."""
from __future__ import annotations

import copy

import torch

from ..budget import T4_USABLE_GIB
from . import _reference as _ref
from ._core import attempt, equal, failed, passed, self_check

__all__ = ["predicted_trainable", "adamw_state_bytes", "largest_batch"]

QWEN = "Qwen/Qwen2.5-0.5B"


@self_check()
def predicted_trainable(fn) -> None:
    """Check ``fn() -> int``: the trainable parameters of LoRA r=8 on q_proj and v_proj of Qwen2.5-0.5B,
    against PEFT on the real-size architecture (meta device, no download)."""
    import peft

    from ..models import build_model

    name = "predicted_trainable"
    got = attempt(name, fn, hint="return the count as an int, worked out from the config above")
    config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    want = peft.get_peft_model(build_model(QWEN, device="meta"), config).get_nb_trainable_parameters()[0]
    if not isinstance(got, int) or isinstance(got, bool):
        failed(name, f"return an int, got {type(got).__name__}", "return the number itself, e.g. 123456")
    equal(name, got, want, what="trainable count",
          hint="section 2 gave the count of one LoRA layer; check each projection's in- and out-features "
               "in the config (grouped-query attention makes v_proj narrower than q_proj) and the number of layers")
    return passed(name, f"{want:,} trainable parameters, as PEFT counts them")


def _adamw_step(model) -> int:
    """Optimizer-state bytes of a real AdamW after one step on ``model``."""
    params = list(filter(lambda p: p.requires_grad, model.parameters()))
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    return sum(t.numel() * t.element_size() for state in optimizer.state.values() for t in state.values()
               if torch.is_tensor(t))


@self_check()
def adamw_state_bytes(fn, model) -> None:
    """Check ``fn(model) -> int``: the bytes AdamW holds after its first step, for ``model`` trained fully and
    for ``model`` with LoRA adapters (frozen base), each compared with a real AdamW step."""
    import peft

    name = "adamw_state_bytes"
    linear = sorted({n.split(".")[-1] for n, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear) and m is not model.get_output_embeddings()})
    full = copy.deepcopy(model)
    lora = peft.get_peft_model(copy.deepcopy(model), peft.LoraConfig(r=4, lora_alpha=8, target_modules=linear,
                                                                     task_type="CAUSAL_LM"))
    wants = {"full": _adamw_step(full), "LoRA": _adamw_step(lora)}
    for label, case in [("full", full), ("LoRA", lora)]:
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
    """Check ``fn(model_id, method, seq_len, limit_gib, **kwargs) -> int``: the largest batch size (<= 1024)
    whose predicted total fits ``limit_gib``, or 0. The answer must fit, and one more sequence must not."""
    name = "largest_batch"
    fits = _ref.batch_fits
    found = []
    for model_id, method, seq_len, limit_gib, kwargs in LARGEST_BATCH_CASES:
        got = attempt(name, fn, model_id, method, seq_len, limit_gib, **kwargs,
                      hint="the function returns an int; helpers.estimate_memory predicts one batch size at a time")
        case = f"{model_id.split('/')[1]} {method} {kwargs or ''} at {seq_len} tokens in {limit_gib:g} GiB"
        if not isinstance(got, int) or isinstance(got, bool) or not 0 <= got <= 1024:
            failed(name, f"{case}: expected an int between 0 and 1024, got {got!r}", "return the batch size")
        if got > 0 and not fits(model_id, method, seq_len, limit_gib, kwargs, got):
            failed(name, f"{case}: batch {got} does not fit", "the answer must fit; step down until it does")
        if got < 1024 and fits(model_id, method, seq_len, limit_gib, kwargs, got + 1):
            failed(name, f"{case}: batch {got} fits, but so does {got + 1}",
                   "find the *largest* batch that fits (0 only when batch 1 does not fit)")
        found.append(got)
    return passed(name, "largest batches " + ", ".join(map(str, found)) + " - each fits, one more does not")
