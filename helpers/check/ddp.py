"""Self-checks for 07_two-gpus: plan a data-parallel run, and the memory per GPU when states are sharded."""
from __future__ import annotations

from ..memory import MemoryEstimate
from . import _reference as _ref
from ._core import attempt, close, equal, passed, refuses, returns, self_check

__all__ = ["data_parallel_plan", "per_gpu_bytes"]

_PLAN_CASES = [  # (effective_batch, per_device_batch, processes, examples, epochs) -> (grad_accum, steps)
    ((16, 8, 1, 5_000, 1), (2, 313)),
    ((16, 8, 2, 5_000, 1), (1, 313)),
    ((64, 4, 2, 1_000, 3), (8, 47)),
    ((32, 2, 4, 100, 2), (4, 7)),
    ((48, 3, 8, 480, 1), (2, 10)),
]
_PLAN_IMPOSSIBLE = [(16, 8, 3, 5_000, 1), (12, 8, 1, 100, 1), (8, 8, 2, 100, 1)]


@self_check(reference=_ref.data_parallel_plan)
def data_parallel_plan(fn) -> None:
    """``fn(effective_batch, per_device_batch, processes, examples, epochs) -> (grad_accum, steps)``; an effective
    batch that is not a whole multiple of per_device_batch x processes raises ValueError."""
    name = "data_parallel_plan"
    hint = ("how many sequences does one forward pass of all processes see, and how many such passes make one "
            "optimizer step? A last, partial step still counts")
    for case, want in _PLAN_CASES:
        got = returns(name, attempt(name, fn, *case, hint=hint), "grad_accum, steps", hint)
        equal(name, got, want, what="(grad_accum, steps) for effective batch {}, per-device batch {}, {} processes, "
              "{:,} examples, {} epoch(s)".format(*case), hint=hint)
    for case in _PLAN_IMPOSSIBLE:
        refuses(name, fn, case, what="effective batch {} with per-device batch {} on {} processes".format(*case[:3]),
                hint="it cannot be reached exactly: raise ValueError instead of rounding the batch silently")
    return passed(name, f"{len(_PLAN_CASES)} plans (1 to 8 processes), {len(_PLAN_IMPOSSIBLE)} impossible batches "
                        "rejected")


_SHARD_PARTS = [(4_000_000, 3_000_000, 6_000_000, 5_000_000), (700_000, 40_000, 80_000, 2_500_000)]  # w, g, opt, act


@self_check(reference=_ref.per_gpu_bytes)
def per_gpu_bytes(fn) -> None:
    """``fn(estimate, world_size, stage) -> bytes`` on one GPU when ZeRO stage 0-3 shards the training state (a
    stage outside 0-3 raises ValueError)."""
    name = "per_gpu_bytes"
    estimates = [MemoryEstimate("check", "full", *parts) for parts in _SHARD_PARTS]
    hint = ("start from estimate.breakdown(); reread the table above: which part each ZeRO stage adds to the "
            "sharded ones, and which part is never sharded")
    for est in estimates:
        for world_size in (1, 2, 8):
            for stage in (0, 1, 2, 3):
                got = attempt(name, fn, est, world_size, stage, hint=hint)
                close(name, got, _ref.per_gpu_bytes(est, world_size, stage), atol=world_size, rtol=1e-9,
                      what=f"bytes per GPU at stage {stage} on {world_size} GPU(s) for {est.breakdown()}", hint=hint)
    for stage in (-1, 4):
        refuses(name, fn, (estimates[0], 2, stage), what=f"stage {stage}",
                hint="ZeRO has stages 0-3 only: raise ValueError for others")
    return passed(name, f"{len(_SHARD_PARTS)} estimates x 1, 2, 8 GPUs x stages 0-3; activations never split")
