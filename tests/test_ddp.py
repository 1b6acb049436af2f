"""scripts/ddp_sft.py: two CPU processes (gloo) train exactly like one process with the same effective batch.

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

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ddp_sft.py"
MODEL_ID = "HuggingFaceTB/SmolLM2-360M"
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
