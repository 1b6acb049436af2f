"""Counting, timing and memory - measured honestly.  Taught in 01_lora-from-scratch and 02_what-lora-saves
(02 defines there what only it uses: the byte counters of a training step)."""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch

__all__ = ["Timing", "compare_times", "count_parameters", "describe_trainable", "fmt_bytes", "fmt_ratio", "peak_memory",
           "time_fn"]


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts, as PEFT counts them: tied weights once, a 4-bit weight's byte as two."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if param.__class__.__name__ == "Params4bit":
            n *= 2
        total += n
        trainable += n if param.requires_grad else 0
    return trainable, total


def describe_trainable(model) -> str:
    """'trainable params: 393,216 || all params: 70,819,840 || trainable%: 0.5552' - PEFT's wording."""
    trainable, total = count_parameters(model)
    return f"trainable params: {trainable:,} || all params: {total:,} || trainable%: {100 * trainable / total:.4f}"


def fmt_ratio(big: float, small: float) -> str:
    """A ratio in words: '179x fewer', '1.08x more'."""
    if small == 0:
        return "infinitely fewer"
    r = big / small
    return f"{r:,.0f}x fewer" if r >= 10 else f"{r:.2f}x fewer" if r >= 1 else f"{1 / r:.2f}x more"


def fmt_bytes(n: float) -> str:
    """Bytes in MiB or GiB with separators: '3,122.6 MiB', '14.20 GiB'."""
    return f"{n / 2**30:,.2f} GiB" if abs(n) >= 2**30 else f"{n / 2**20:,.1f} MiB"


def synchronize(device=None):
    """Wait for queued GPU work (CUDA kernels run asynchronously; without this you time the launch, not the work)."""
    if torch.cuda.is_available() and (device is None or torch.device(device).type == "cuda"):
        torch.cuda.synchronize(device)


@dataclass
class Timing:
    """Seconds per call: median and spread over ``repeats`` timed calls after ``warmup`` untimed ones."""

    median: float
    q1: float
    q3: float
    times: list
    tokens: int | None = None

    @classmethod
    def of(cls, times: list, tokens: int | None = None) -> "Timing":
        """The median and quartiles of ``times`` (seconds per call)."""
        q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
        return cls(statistics.median(times), q[0], q[2], times, tokens)

    @property
    def tokens_per_s(self) -> float | None:
        return self.tokens / self.median if self.tokens else None

    def __str__(self) -> str:
        s = f"{1e3 * self.median:,.2f} ms (IQR {1e3 * self.q1:,.2f}-{1e3 * self.q3:,.2f} ms, n={len(self.times)})"
        return s + (f", {self.tokens_per_s:,.0f} tokens/s" if self.tokens else "")


def time_fn(fn, *, warmup: int = 3, repeats: int = 10, device=None, tokens: int | None = None) -> Timing:
    """Time ``fn()`` correctly: warm-up calls first (allocator, kernels, caches), synchronise the device
    before reading the clock, and report the median and quartiles of ``repeats`` calls.
    ``tokens``: tokens processed per call, for tokens/s."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return Timing.of(times, tokens)


def compare_times(fns: dict, *, warmup: int = 3, repeats: int = 10, device=None, tokens: int | None = None) -> dict:
    """Time several functions fairly: ``{name: Timing}`` from calls interleaved round-robin.

    ``time_fn`` on A and then on B lets B run under other conditions (other processes, clock boost, heat);
    alternating A, B, A, B... gives every candidate the same ones. Each call is timed by ``time_fn`` (synchronised);
    the i-th time of each candidate comes from round i (with two candidates, two calls made back to back).
    ``tokens`` (per call) adds tokens/s."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    names, times = list(fns), {name: [] for name in fns}
    for i in range(repeats):
        for name in names[i % len(names):] + names[:i % len(names)]:   # rotate who goes first
            times[name] += time_fn(fns[name], warmup=0, repeats=1, device=device).times
    return {name: Timing.of(t, tokens) for name, t in times.items()}


@contextmanager
def peak_memory():
    """``with peak_memory() as mem: ...`` then ``mem["peak"]`` = bytes (CUDA max_memory_allocated above the
    level at entry) and ``mem["end"]``. On the CPU both stay None: there is no allocator to ask."""
    result = {"peak": None, "end": None, "start": None}
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        result["start"] = torch.cuda.memory_allocated()
    try:
        yield result
    finally:
        if cuda:
            torch.cuda.synchronize()
            result["peak"] = torch.cuda.max_memory_allocated() - result["start"]
            result["end"] = torch.cuda.memory_allocated() - result["start"]
