"""scripts/students/ddp_sft.py: two CPU processes (gloo) train exactly like one process with the same effective batch.

One process runs batch 4 x accumulation 2, two processes batch 4 x accumulation 1 each: 8 sequences per optimizer
step in both, same seed, LoRA dropout 0 (dropout masks come from each process's random stream). Then the logged
losses must agree to LOSS_TOL, the two ranks must have trained on disjoint halves of exactly the sequences the
single process saw, only rank 0 may save, and the adapter must reload. Tiny stand-in, 6 steps: ~1 minute on 2 cores.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import helpers

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
SCRIPT = ROOT / "scripts" / "students" / "ddp_sft.py"
from tests.conftest import MODEL_ID  # noqa: E402
STEPS, BATCH, LOSS_TOL = 6, 4, 1e-5   # fp32 on a CPU: only the order of a sum of two halves differs
OPTIONS = ["--model-id", MODEL_ID, "--profile", "quick", "--max-steps", str(STEPS), "--batch-size", str(BATCH),
           "--max-length", "256", "--train-pairs", "96", "--lora-dropout", "0", "--no-group-by-length"]


def launch(out: Path, processes: int, grad_accum: int) -> subprocess.CompletedProcess:
    launcher = [sys.executable] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}  # both runs alike: 1 thread/process
    try:
        run = subprocess.run([*launcher, str(SCRIPT), "--out", str(out), "--grad-accum", str(grad_accum), *OPTIONS],
                             capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{processes} process(es) did not finish in 300 s - is a process stuck waiting for its peer?")
    assert run.returncode == 0, f"{processes} process(es) failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    one = launch(base / "one", 1, grad_accum=2)
    two = launch(base / "two", 2, grad_accum=1)
    ranks = lambda out: [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]  # noqa: E731
    return {"one": ranks(base / "one"), "two": ranks(base / "two"), "base": base, "stdout": (one.stdout, two.stdout)}


def test_both_ranks_ran_in_one_ddp_group(runs):
    assert [r["rank"] for r in runs["two"]] == [0, 1]
    for r in runs["two"]:
        assert (r["world_size"], r["backend"], r["parallel_mode"]) == (2, "gloo", "distributed")
        assert r["model_wrapper"] == "DistributedDataParallel" and r["find_unused_parameters"] is False
        assert len(r["micro_batches"]) == STEPS  # accumulation 1: one micro-batch per step
    (single,) = runs["one"]
    assert single["world_size"] == 1 and len(single["micro_batches"]) == 2 * STEPS


def test_losses_agree_with_one_process(runs):
    one = runs["one"][0]["losses"]
    for rank in runs["two"]:
        assert [s for s, _ in rank["losses"]] == [s for s, _ in one] == list(range(1, STEPS + 1))
        diff = max(abs(a - b) for (_, a), (_, b) in zip(one, rank["losses"]))
        assert diff <= LOSS_TOL, f"losses differ by {diff:.2e}"


def test_ranks_split_the_data_of_one_process(runs):
    seen = [[s for mb in r["micro_batches"] for s in mb["sequences"]] for r in runs["two"]]
    single = [s for mb in runs["one"][0]["micro_batches"] for s in mb["sequences"]]
    assert len(seen[0]) == len(seen[1]) == STEPS * BATCH
    assert sorted(seen[0] + seen[1]) == sorted(single)      # together: exactly the single process's sequences
    assert len(set(single)) == len(single) and not set(seen[0]) & set(seen[1])  # disjoint halves, no repeats


def test_same_start_on_every_rank_and_same_end_as_one_process(runs):
    r0, r1 = runs["two"]
    assert r0["rng_state_crc"] == r1["rng_state_crc"]           # the Trainer seeds every rank alike
    assert r0["lora_checksum_start"] == r1["lora_checksum_start"] == runs["one"][0]["lora_checksum_start"]
    assert r0["lora_checksum_end"] == r1["lora_checksum_end"]   # DDP keeps the replicas identical
    assert r0["lora_checksum_end"] == pytest.approx(runs["one"][0]["lora_checksum_end"], rel=1e-5)


def test_only_rank_0_saves_and_prints(runs):
    r0, r1 = runs["two"]
    assert (r0["should_save"], r1["should_save"]) == (True, False)
    checkpoint = runs["base"] / "two" / "run" / f"checkpoint-{STEPS}"
    files = {p.name for p in checkpoint.iterdir()}
    assert {"adapter_model.safetensors", "optimizer.pt", "rng_state_0.pth", "rng_state_1.pth"} <= files
    assert "rng_state.pth" in {p.name for p in (runs["base"] / "one" / "run" / f"checkpoint-{STEPS}").iterdir()}
    stdout = runs["stdout"][1]
    assert stdout.count("rank 0 done") == 1 and stdout.count(f"step    {STEPS}/{STEPS} | loss") == 1


def test_the_adapter_reloads_and_matches_one_process(runs):
    from peft import PeftModel

    def lora_weights(path):
        model = PeftModel.from_pretrained(helpers.load_model(MODEL_ID, "quick"), path)
        return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}

    two = lora_weights(runs["base"] / "two" / "adapter")
    one = lora_weights(runs["base"] / "one" / "adapter")
    assert two and two.keys() == one.keys()
    assert sum(float(w.double().sum()) for w in two.values()) == pytest.approx(runs["two"][0]["lora_checksum_end"],
                                                                               rel=1e-9)
    for name in two:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-6)


def test_bad_arguments_are_refused_clearly():
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", "x", "--batch-size", "0"], capture_output=True,
                         text=True, cwd=ROOT)
    assert run.returncode == 2 and "--batch-size must be at least 1, got 0" in run.stderr


# --- 07 on every runtime a student meets, simulated up to the launcher -----------------------------------------
# The notebook's own cells (setup, imports, config, plan, notebook_launcher, launch) run in this process with the
# runtime faked: the GPU count torch reports, Colab (accelerate looks for "google.colab" in IPython's shell) or
# Kaggle (KAGGLE_* variables), and subprocess.Popen, so that `launch` shows the command and environment it would
# start without starting it. Without two GPUs the runs must be CPU processes (CUDA_VISIBLE_DEVICES empty) with the
# quick profile's sizes - the path nbval runs end to end in the quick profile.
NOTEBOOK_07 = ROOT / "notebooks" / "07_two-gpus.ipynb"
CELLS_07 = ("course:setup-cell", "GPUS = torch.cuda.device_count()", "RUN_PROFILE =", "def data_parallel_plan",
            "GRAD_ACCUM = {}", "notebook_launcher(", "def launch(")


class _FakePopen:
    """subprocess.Popen for `launch`: records the command and environment, prints one line, exits 0."""
    calls: list = []

    def __init__(self, command, stdout=None, stderr=None, text=None, env=None, cwd=None):
        _FakePopen.calls.append({"command": command, "env": env})
        self.stdout, self.returncode = iter(["step    1/1 | loss 1.0\n"]), 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def simulate_07(monkeypatch, tmp_path, capsys, *, gpus: int, colab: bool = False, kaggle: bool = False,
                profile: str = "full") -> dict:
    import types

    import accelerate.launchers
    import bitsandbytes  # noqa: F401  (imported for real before torch.cuda is faked: it probes the GPU on import)
    import nbformat
    import peft  # noqa: F401
    import trl  # noqa: F401

    for key in [k for k in os.environ if k.startswith("KAGGLE")]:
        monkeypatch.delenv(key)
    if kaggle:
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    monkeypatch.setenv("COURSE_PROFILE", profile)
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(accelerate.launchers, "get_gpu_info", lambda: (["Tesla T4"] * gpus, gpus))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    shell = "<google.colab._shell.Shell object>" if colab else "<ipykernel.zmqshell.ZMQInteractiveShell object>"
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setattr(subprocess, "Popen", _FakePopen)
    # A fresh kernel, as a student's 07 is: no Accelerator yet (earlier tests that trained in this process leave
    # accelerate's shared state set, and notebook_launcher would refuse for that reason instead)
    from accelerate.state import AcceleratorState, GradientState, PartialState
    for state in (AcceleratorState, PartialState, GradientState):
        monkeypatch.setattr(state, "_shared_state", {})
    _FakePopen.calls = []
    cells = [c.source for c in nbformat.read(NOTEBOOK_07, as_version=4).cells if c.cell_type == "code"]
    namespace: dict = {}
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(
        name="Tesla T4", total_memory=15 * 2**30, major=7, minor=5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    for marker in CELLS_07:
        (source,) = [s for s in cells if marker in s]
        exec(compile(source, f"07:{marker}", "exec"), namespace)
    ns = namespace
    for processes in (1, ns["PROCESSES"]):
        ns["launch"](processes, tmp_path / f"run{processes}", ns["GRAD_ACCUM"][processes], ns["OPTIONS"])
    return {"ns": ns, "calls": _FakePopen.calls, "printed": capsys.readouterr().out}


def _check_cpu_fallback(sim):
    ns, calls = sim["ns"], sim["calls"]
    assert not ns["ON_GPUS"] and ns["RUN_PROFILE"] == "quick"
    assert (ns["MAX_STEPS"], ns["EFFECTIVE_BATCH"], ns["BATCH_SIZE"], ns["MAX_LENGTH"]) == (6, 8, 4, 256)
    assert "CPU processes (gloo)" in sim["printed"] and "need 2 GPUs" in sim["printed"]
    assert "run this notebook with COURSE_PROFILE" not in sim["printed"]   # no advice that loops back here
    assert [c["env"]["CUDA_VISIBLE_DEVICES"] for c in calls] == ["", ""]   # every process on the CPU
    two = calls[1]["command"]
    assert "--nproc_per_node=2" in two and two[two.index("--profile") + 1] == "quick"


def test_07_on_one_gpu_colab_runs_two_cpu_processes(monkeypatch, tmp_path, capsys):
    sim = simulate_07(monkeypatch, tmp_path, capsys, gpus=1, colab=True)
    _check_cpu_fallback(sim)
    assert sim["ns"]["refused"] is None and sim["ns"]["ran_here"]   # accelerate's Colab branch: ran in-process
    assert "Launching training on one GPU." in sim["printed"]


def test_07_on_colab_cpu_runtime_passes_the_launcher_cell(monkeypatch, tmp_path, capsys):
    sim = simulate_07(monkeypatch, tmp_path, capsys, gpus=0, colab=True)
    _check_cpu_fallback(sim)
    assert sim["ns"]["refused"] is None and sim["ns"]["ran_here"] == ["ran in the notebook's own process"]
    assert "Launching training on one CPU." in sim["printed"]


def test_07_on_a_plain_cpu_in_the_full_profile_falls_back_too(monkeypatch, tmp_path, capsys):
    sim = simulate_07(monkeypatch, tmp_path, capsys, gpus=0)
    _check_cpu_fallback(sim)
    assert sim["ns"]["refused"] is not None and not sim["ns"]["ran_here"]


def test_07_on_kaggle_two_t4s_launches_one_process_per_gpu(monkeypatch, tmp_path, capsys):
    sim = simulate_07(monkeypatch, tmp_path, capsys, gpus=2, kaggle=True)
    ns, calls = sim["ns"], sim["calls"]
    assert ns["ON_GPUS"] and ns["RUN_PROFILE"] == "full" and ns["MAX_STEPS"] == 100
    assert ns["refused"] is not None and "bitsandbytes" in ns["refused"]   # accelerate's multi-GPU branch refuses
    assert [c["env"]["CUDA_VISIBLE_DEVICES"] for c in calls] == ["0", "0,1"]
    one, two = (c["command"] for c in calls)
    assert "torch.distributed.run" not in one and "--nproc_per_node=2" in two
    assert two[two.index("--profile") + 1] == "full" and two[two.index("--grad-accum") + 1] == "1"
    assert "train on 2 GPUs" in sim["printed"]
