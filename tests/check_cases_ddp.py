"""Self-check cases for 07_two-gpus (see tests/test_checks.py): the solutions, and plausible wrong answers."""
import math
from functools import lru_cache

import nbcode as _nbcode  # tests/nbcode.py: the notebook's own definitions (tests/ is on sys.path under pytest)


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions("07_two-gpus.ipynb", "data_parallel_plan", "per_gpu_bytes")


def wrong(*args, **kwargs):
    return None


def no_args():
    return ()


# --- data_parallel_plan -------------------------------------------------------------------------------------
def data_parallel_plan(effective_batch, per_device_batch, processes, examples, epochs):
    return notebook()["data_parallel_plan"](effective_batch, per_device_batch, processes, examples, epochs)


def plan_ignores_processes(effective_batch, per_device_batch, processes, examples, epochs):  # the classic slip
    return data_parallel_plan(effective_batch, per_device_batch, 1, examples, epochs)


def plan_floor_steps(effective_batch, per_device_batch, processes, examples, epochs):  # drops the last step
    accum, _ = data_parallel_plan(effective_batch, per_device_batch, processes, examples, epochs)
    return accum, examples * epochs // effective_batch


def plan_steps_per_device(effective_batch, per_device_batch, processes, examples, epochs):  # steps of one GPU's batch
    accum, _ = data_parallel_plan(effective_batch, per_device_batch, processes, examples, epochs)
    return accum, math.ceil(examples * epochs / (per_device_batch * accum))


def plan_rounds_silently(effective_batch, per_device_batch, processes, examples, epochs):  # never raises
    accum = max(1, round(effective_batch / (per_device_batch * processes)))
    return accum, math.ceil(examples * epochs / effective_batch)


def plan_forgets_epochs(effective_batch, per_device_batch, processes, examples, epochs):
    return data_parallel_plan(effective_batch, per_device_batch, processes, examples, 1)


# --- per_gpu_bytes ------------------------------------------------------------------------------------------------
def per_gpu_bytes(estimate, world_size, stage):
    return notebook()["per_gpu_bytes"](estimate, world_size, stage)


def shard_activations_too(estimate, world_size, stage):  # activations are per GPU: never split
    if stage not in (0, 1, 2, 3):
        raise ValueError(stage)
    return per_gpu_bytes(estimate, world_size, stage) - estimate.activations + estimate.activations / world_size


def shard_everything_always(estimate, world_size, stage):  # ignores the stage
    if stage not in (0, 1, 2, 3):
        raise ValueError(stage)
    return per_gpu_bytes(estimate, world_size, 3)


def stage_off_by_one(estimate, world_size, stage):  # stage 1 already splits gradients
    if stage not in (0, 1, 2, 3):
        raise ValueError(stage)
    return per_gpu_bytes(estimate, world_size, min(stage + 1, 3) if stage else 0)


def stage3_keeps_gradients(estimate, world_size, stage):
    if stage not in (0, 1, 2, 3):
        raise ValueError(stage)
    got = per_gpu_bytes(estimate, world_size, stage)
    return got + estimate.gradients * (1 - 1 / world_size) if stage == 3 else got


def shard_no_stage_check(estimate, world_size, stage):  # stage 4 accepted
    return per_gpu_bytes(estimate, world_size, min(max(stage, 0), 3))


CASES = {
    "data_parallel_plan": (no_args, data_parallel_plan,
                           [wrong, plan_ignores_processes, plan_floor_steps, plan_steps_per_device,
                            plan_rounds_silently, plan_forgets_epochs]),
    "per_gpu_bytes": (no_args, per_gpu_bytes,
                      [wrong, shard_activations_too, shard_everything_always, stage_off_by_one,
                       stage3_keeps_gradients, shard_no_stage_check]),
}
