"""Rehearse the full profile offline: every notebook, real model configs and data layout, shrunk run sizes.

    python scripts/ci/rehearse.py                          # all notebooks (builds outputs/standin-hub/ if missing)
    python scripts/ci/rehearse.py notebooks/03_sft.ipynb   # some of them
    python scripts/ci/rehearse.py --bf16 on                # bf16 autocast in the full pass even if the CPU emulates it
    python scripts/ci/rehearse.py --rebuild                # rebuild the stand-in hub first

The full profile is what every Colab/Kaggle user runs; the quick profile (``pytest``) never touches it. This
runs the notebooks with COURSE_PROFILE=full against the offline stand-in Hub of ``scripts/ci/build_standin_hub.py``
(real configs with fewer layers and random weights, a tokenizer of the real vocabulary size, HH-RLHF's layout),
through nbval, one notebook after another in this order (04 reuses the adapter 03 saves), with:

    COURSE_PROFILE=full HF_HOME=outputs/standin-hub HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
    COURSE_REHEARSAL=1   learning claims (helpers.check.learned) are reported, not asserted: weights are random

Precision: with bf16 instructions on the CPU (AVX512-BF16, AMX) the full pass runs with COURSE_CPU_BF16=1 -
helpers.precision() then picks bf16 autocast, the trainers' mixed-precision path. Without them PyTorch emulates
bf16 about 100x slower than fp32, so the full pass runs in fp32 and a second, cheap pass runs the notebooks that
train under autocast (BF16_PASS) in the quick profile with COURSE_CPU_BF16=1.

How sizes shrink, with the notebooks' code unchanged: each notebook's config cell (tagged ``parameters``) runs
as written, except that every knob listed in ``OVERRIDES`` below is assigned again right after its own line,
marked ``# rehearsal override``. The derived values and checks in the config cell then use the shrunk sizes.
Only step counts, row counts, batch sizes, timing repeats and generation lengths shrink; sequence lengths,
vocabularies, widths and module names stay real. The modified copies go to outputs/rehearsal/notebooks/ (run
from there; the setup cell finds helpers/ in a parent folder). Every other assertion must hold.

06 runs twice (``FRESH_RUNTIME``): in an empty output folder first - no adapter, so it trains the SFT adapter itself
and lists DPO and ORPO as missing - then beside 03-05's adapters. 07's config cell would pick the quick profile's
runs on a machine without two GPUs (``RUN_PROFILE``); the override keeps the full profile's, as 2 CPU processes.

Budget: 15 minutes for everything on 2 idle CPU cores (see the README). Each notebook's wall time, its CPU
time and its slowest cells are printed; the whole pytest output is in outputs/rehearsal/rehearsal.log.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

try:
    from tools import notebook
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

ROOT = notebook.ROOT   # the repository root, defined once for tools and scripts (tools/notebook.py)
NOTEBOOKS = ROOT / "notebooks"
WORK = ROOT / "outputs" / "rehearsal"
HUB = ROOT / "outputs" / "standin-hub"

# Per notebook: knob -> the rehearsal's value (Python source). Steps, rows, batches, repeats, generation lengths.
SHORT_SFT = "helpers.train.sft_recipe(profile, max_steps=2, batch_size=2, grad_accum=1)"  # 03's recipe, 2 small steps
OVERRIDES = {
    "00_setup": {"MAX_NEW_TOKENS": "8"},
    "01_lora-from-scratch": {"MAX_STEPS": "3", "BATCH_SIZE": "2", "TRAIN_ROWS": "64", "TEST_ROWS": "8",
                             "N_PROMPTS": "2", "MAX_NEW_TOKENS": "8", "TIMING_PAIRS": "6", "MERGE_REPEATS": "2",
                             "TIMING_SHAPES": "[(256, 960, 960), (256, 960, 2560), (256, 2560, 960)]"},  # fewer tokens
    "02_what-lora-saves": {"TIME_BATCH": "1", "WARMUP": "1", "REPEATS": "2"},
    "03_sft": {"TRAIN_PAIRS": "64", "EVAL_PAIRS": "8", "BATCH_SIZE": "2", "GRAD_ACCUM": "1", "MAX_STEPS": "4",
               "LOG_STEPS": "1", "EVAL_STEPS": "2", "SAVE_STEPS": "2", "DISCONNECT_AT": "2", "MAX_NEW_TOKENS": "8"},
    "04_dpo": {"MAX_STEPS": "2", "BATCH_PAIRS": "2", "GRAD_ACCUM": "1", "EVAL_STEPS": "1", "TRAIN_ROWS": "64",
               "TEST_ROWS": "8", "SEEN_PAIRS": "4", "MAX_NEW_TOKENS": "8", "SWEEP_STEPS": "2",
               "SFT_RECIPE": SHORT_SFT},  # the SFT run when 03's adapter is missing
    "05_orpo": {"BATCH_PAIRS": "2", "GRAD_ACCUM": "1", "TRAIN_ROWS": "64", "TEST_ROWS": "8", "EVAL_STEPS": "1",
                "PROBE_PAIRS": "4", "MAX_NEW_TOKENS": "8", "SWEEP_STEPS": "2", "MAX_STEPS": "2"},
    "06_evaluation": {"TEST_PAIRS": "8", "GEN_PROMPTS": "4", "MAX_NEW_TOKENS": "8", "BATCH": "4", "SCORE_BATCH": "4",
                      "DIVERSITY_PROMPTS": "2", "DIVERSITY_SAMPLES": "2",
                      "SFT_RECIPE": SHORT_SFT},  # the SFT run when 03's is missing
    # 07: the full profile's runs (its SmolLM2-360M, 512 tokens) as 2 CPU processes over gloo. On a runtime without
    # two GPUs the config cell picks the quick profile's runs (RUN_PROFILE); the rehearsal keeps the full ones.
    "07_two-gpus": {"RUN_PROFILE": "profile", "EFFECTIVE_BATCH": "2", "BATCH_SIZE": "1", "TRAIN_PAIRS": "16",
                    "MAX_STEPS": "2", "PRINT_EVERY": "1"},
}
# 06 runs twice: once beside 03-05's adapters (all four models compared), once in an empty output folder first
# (no adapter: it trains the missing SFT adapter itself and lists DPO and ORPO as "run 04/05 first").
FRESH_RUNTIME = ("06_evaluation",)
# Not rehearsed yet, and why (printed on every run, so a gap stays visible):
NOT_REHEARSED: dict[str, str] = {}
MARK = "# rehearsal override"
# Notebooks whose own code or trainers run under autocast: rehearsed once more in the quick profile with bf16
# autocast on the CPU, when the full-profile pass has to run in fp32 (no bf16 instructions: emulated bf16 is ~100x
# slower than fp32 at the real vocabulary's width, the quick stand-ins are small enough).
BF16_PASS = ("03_sft",)  # the trainers' autocast path (SFTTrainer); 01 and 04 cost ~7 CPU-minutes more in bf16


def prepare(path: Path) -> Path:
    nb = notebook.read(path)
    try:
        missing = notebook.override_config(nb, OVERRIDES.get(path.stem, {}), MARK, path.name)
    except notebook.ConventionError as err:
        raise SystemExit(str(err)) from None
    if missing:
        print(f"  note: {path.stem}'s config cell has no {', '.join(missing)} - not overridden")
    target = WORK / "notebooks" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    notebook.write(nb, target, mark_slides=False)
    return target


def hub_has_every_model() -> bool:
    """Whether the stand-in hub exists and holds every model a notebook's config cell names."""
    import json

    import build_standin_hub   # its sibling: scripts/ is sys.path[0] for a script

    built = HUB / "standin-hub.json"
    if not built.is_file():
        return False
    have = set(json.loads(built.read_text(encoding="utf-8"))["models"])
    return set(build_standin_hub.config_cell_model_ids()) <= have


def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX). Without them PyTorch emulates bf16 matmuls,
    about 100x slower than fp32 (measured on an AVX2 machine: 0.06 vs 6 GFLOP/s) - far too slow for real widths."""
    import torch

    return torch.backends.cpu.get_cpu_capability() in ("AVX512_BF16", "AMX")


def environment(profile: str, bf16: bool, outputs: str | None = None) -> dict:
    env = dict(os.environ)
    env.update(notebook.QUICK_ENV)          # offline and quiet as in the tests (the root conftest.py, which nbval
    env.update({                            # loads here, adds the inline figures); offline in the full profile too
        "COURSE_PROFILE": profile, "COURSE_REHEARSAL": "1" if profile == "full" else "0",
        "COURSE_OUTPUT_DIR": str(WORK / "outputs" / (outputs or profile)),
    })
    if profile == "full":
        env["HF_HOME"] = str(HUB)
    env.pop("COURSE_CPU_BF16", None)
    if bf16:
        env["COURSE_CPU_BF16"] = "1"
    return env


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: Path, env: dict, log) -> tuple[bool, float, float, str]:
    """Execute one prepared notebook with nbval: (passed, wall seconds, CPU seconds, output)."""
    start, cpu = time.perf_counter(), _child_cpu()
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "--nbval-lax", "--nbval-current-env",
           "--nbval-cell-timeout=900", "-p", "no:cacheprovider", "-o", "addopts=", "--durations=6", str(path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, cpu = time.perf_counter() - start, _child_cpu() - cpu
    log.write(f"===== {path.name}\n{proc.stdout}\n")
    log.flush()
    return proc.returncode == 0, seconds, cpu, proc.stdout


def rehearse(jobs: list[tuple[str, Path, dict]], log) -> list[tuple]:
    """Run (label, notebook, env) jobs one after another; print one line per notebook as it finishes."""
    results = []
    for label, path, env in jobs:
        ok, seconds, cpu, output = run(path, env, log)
        results.append((label, ok, seconds, cpu))
        print(f"{seconds:7.1f} s  {label:38s} {'passed' if ok else 'FAILED'}  (CPU {cpu:,.0f} s: "
              f"{cpu / 2:,.0f}-{cpu:,.0f} s on 2 idle cores)", flush=True)
        for seconds_, cell in re.findall(r"^\s*([\d.]+)s call\s+\S+::(Cell \d+)", output, re.M)[:3]:
            print(f"{'':12s}slowest: {cell} {float(seconds_):,.1f} s")
        if not ok:
            tail = [line for line in output.splitlines() if line.strip()][-25:]
            print("\n".join("    " + line for line in tail), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in OVERRIDES, in order")
    parser.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                        help="bf16 autocast in the full-profile pass (auto: only on a CPU with bf16 instructions)")
    parser.add_argument("--no-precision-pass", action="store_true",
                        help=f"skip the quick-profile bf16 pass over {', '.join(BF16_PASS)}")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stand-in hub even if it exists")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or [NOTEBOOKS / f"{name}.ipynb" for name in OVERRIDES]
    for name, why in NOT_REHEARSED.items():
        print(f"not rehearsed: {name} - {why}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}")
        return 2

    total = time.perf_counter()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)", flush=True)
    if args.rebuild or not hub_has_every_model():
        print("building the stand-in hub (scripts/ci/build_standin_hub.py) ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "ci" / "build_standin_hub.py"), "--out", str(HUB)],
                       check=True, cwd=ROOT)
    if (WORK / "outputs").exists():
        shutil.rmtree(WORK / "outputs")   # a fresh run: no checkpoint of an earlier rehearsal is resumed
    full_bf16 = args.bf16 == "on" or (args.bf16 == "auto" and cpu_has_bf16())
    full_env = environment("full", full_bf16)
    label = f"full {'bf16' if full_bf16 else 'fp32'}"
    jobs = []
    for path in paths:
        prepared = prepare(path)
        if path.stem in FRESH_RUNTIME:   # first in an empty output folder: the branches for missing adapters
            jobs.append((f"{label} {path.stem} (no adapters)", prepared, environment("full", full_bf16, "fresh")))
        jobs.append((f"{label} {path.stem}", prepared, full_env))
    full_jobs = len(jobs)
    if not full_bf16 and not args.no_precision_pass:
        quick_env = environment("quick", True)
        jobs += [(f"quick bf16 {path.stem}", path, quick_env) for path in paths if path.stem in BF16_PASS]
    print(f"rehearsing: {len(paths)} notebook(s) in the full profile ({full_jobs} runs) against {HUB.relative_to(ROOT)} "
          f"({'bf16 autocast' if full_bf16 else 'fp32: this CPU has no bf16 instructions'})"
          + ("" if len(jobs) == full_jobs else f", then {len(jobs) - full_jobs} in the quick profile with bf16 "
             "autocast (COURSE_CPU_BF16=1)") + f"; log: {(WORK / 'rehearsal.log').relative_to(ROOT)}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "rehearsal.log", "w", encoding="utf-8") as log:
        results = rehearse(jobs, log)
    cpu = sum(r[3] for r in results)
    print(f"{time.perf_counter() - total:7.1f} s  all ({sum(r[1] for r in results)} of {len(results)} passed; CPU "
          f"{cpu:,.0f} s, i.e. {cpu / 2:,.0f}-{cpu:,.0f} s of wall time on 2 idle cores)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min; this machine has "
          f"{os.cpu_count()} cores)")
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
