"""The T4's figures (memory, throughput) and the one compute model behind every "about N minutes on a T4" in the kit.

A small model in a training loop reaches a fraction of the T4's datasheet peak (small kernels, memory-bound steps,
Python gaps): the kit *assumes* 8 TFLOP/s, and every training cell prints the tokens/s it really reaches. FLOPs per
token of N parameters: forward 2N; backward 4N (full) or 2N (LoRA: no weight gradient); checkpointing +2N.
"""
from __future__ import annotations

__all__ = ["T4_USABLE_GIB", "T4_SUSTAINED_TFLOPS", "flops_per_token", "t4_assumption", "t4_minutes"]

T4_USABLE_GIB = 15.0         # a 16 GB T4 leaves about 15 GiB to PyTorch (helpers.estimate_memory's "fits")
T4_PEAK_FP16_TFLOPS = 65.0   # NVIDIA T4 datasheet, fp16 tensor cores
T4_SUSTAINED_TFLOPS = 8.0    # the kit's assumption for small-model training loops (see above)


def flops_per_token(n_params: int, *, kind: str = "lora", checkpointing: bool = False) -> float:
    """FLOPs one token costs: ``kind`` is "forward" (evaluation, generation, a frozen reference model),
    "lora" (train an adapter on a frozen base) or "full" (train every weight)."""
    per_param = {"forward": 2, "lora": 4, "full": 6}
    if kind not in per_param:
        raise ValueError(f"kind must be one of {sorted(per_param)}, not {kind!r}")
    recompute = 2 if checkpointing and kind != "forward" else 0
    return float((per_param[kind] + recompute) * n_params)


def t4_minutes(flops: float) -> float:
    """Minutes a T4 needs for ``flops`` at the kit's assumed sustained throughput."""
    return flops / (T4_SUSTAINED_TFLOPS * 1e12) / 60


def t4_assumption() -> str:
    """The assumption behind every T4 estimate, in one line to print next to one."""
    return (f"assumes a T4 sustains {T4_SUSTAINED_TFLOPS:g} TFLOP/s in a small-model training loop "
            f"(about 1/{T4_PEAK_FP16_TFLOPS / T4_SUSTAINED_TFLOPS:.0f} of its {T4_PEAK_FP16_TFLOPS:g} TFLOP/s fp16 "
            "datasheet peak); the tokens/s printed during training is the measured figure")
