"""Rehearse the full profile offline: every notebook, real model configs and data layout, shrunk run sizes.

    python scripts/rehearse.py                          # all notebooks (builds outputs/standin-hub/ if missing)
    python scripts/rehearse.py notebooks/03_sft.ipynb   # some of them
    python scripts/rehearse.py --fp32                   # without bf16 autocast on the CPU
    python scripts/rehearse.py --rebuild                # rebuild the stand-in hub first

The full profile is what every Colab/Kaggle user runs; the quick profile (``pytest``) never touches it. This
runs the notebooks with COURSE_PROFILE=full against the offline stand-in Hub of ``scripts/build_standin_hub.py``
(real configs with fewer layers and random weights, a tokenizer of the real vocabulary size, HH-RLHF's layout),
through nbval, one notebook after another in this order (04 reuses the adapter 03 saves), with:

    COURSE_PROFILE=full HF_HOME=outputs/standin-hub HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
    COURSE_REHEARSAL=1   learning claims (helpers.check.learned) are reported, not asserted: weights are random
    COURSE_CPU_BF16=1    helpers.precision() picks bf16 autocast on the CPU, so the mixed-precision path runs

How sizes shrink, with the notebooks' code unchanged: each notebook's config cell (tagged ``parameters``) runs
as written, except that every knob listed in ``OVERRIDES`` below is assigned again right after its own line,
marked ``# rehearsal override``. The derived values and checks in the config cell then use the shrunk sizes.
Only step counts, row counts, batch sizes, timing repeats and generation lengths shrink; sequence lengths,
vocabularies, widths and module names stay real. The modified copies go to outputs/rehearsal/notebooks/ (run
from there; the setup cell finds helpers/ in a parent folder). Every other assertion must hold.

Budget: about 10 minutes for all notebooks on 2 idle CPU cores (see the README); each notebook's time is printed.
"""
from __future__ import annotations

import argparse
import ast
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
WORK = ROOT / "outputs" / "rehearsal"
HUB = ROOT / "outputs" / "standin-hub"
sys.path.insert(0, str(ROOT / "scripts"))

# Per notebook: knob -> the rehearsal's value (Python source). Steps, rows, batches, repeats, generation lengths.
OVERRIDES = {
    "00_setup": {"MAX_NEW_TOKENS": "8"},
    "01_lora-from-scratch": {"MAX_STEPS": "3", "BATCH_SIZE": "2", "TRAIN_ROWS": "64", "TEST_ROWS": "8",
                             "N_PROMPTS": "2", "MAX_NEW_TOKENS": "8", "TIMING_ROUNDS": "1",
                             "TIMING_SHAPES": "[(256, 960, 960), (256, 960, 2560), (256, 2560, 960)]"},  # fewer tokens
    "02_what-lora-saves": {"TIME_BATCH": "1", "WARMUP": "1", "REPEATS": "2"},
    "03_sft": {"TRAIN_PAIRS": "64", "EVAL_PAIRS": "8", "BATCH_SIZE": "2", "GRAD_ACCUM": "1", "MAX_STEPS": "4",
               "LOG_STEPS": "1", "EVAL_STEPS": "2", "SAVE_STEPS": "2", "DISCONNECT_AT": "2", "MAX_NEW_TOKENS": "8"},
    "04_dpo": {"MAX_STEPS": "2", "BATCH_PAIRS": "2", "GRAD_ACCUM": "1", "EVAL_STEPS": "1", "TRAIN_ROWS": "64",
               "TEST_ROWS": "8", "SEEN_PAIRS": "4", "MAX_NEW_TOKENS": "8", "SWEEP_STEPS": "2"},
}
MARK = "# rehearsal override"


def config_cell(nb, name: str):
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"{name}: expected one code cell tagged 'parameters' (the config cell), found {len(cells)}. "
                         "Tag it in the cell's metadata, or with nbtool: '# %% tags=[\"parameters\"]'.")
    return cells[0]


def override_source(source: str, overrides: dict[str, str]) -> tuple[str, list[str]]:
    """``source`` with ``NAME = value  # rehearsal override`` inserted after each top-level assignment to an
    overridden NAME; returns (new source, names not assigned in the cell)."""
    lines = source.splitlines()
    inserts: dict[int, list[str]] = {}
    found = set()
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)]
        for name in names:
            if name in overrides:
                inserts.setdefault(node.end_lineno, []).append(f"{name} = {overrides[name]}  {MARK}")
                found.add(name)
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        out.extend(inserts.get(number, []))
    return "\n".join(out), sorted(set(overrides) - found)


def prepare(path: Path) -> Path:
    nb = nbformat.read(path, as_version=4)
    cell = config_cell(nb, path.name)
    cell.source, missing = override_source(cell.source, OVERRIDES.get(path.stem, {}))
    if missing:
        print(f"  note: {path.stem}'s config cell has no {', '.join(missing)} - not overridden")
    target = WORK / "notebooks" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def environment(fp32: bool) -> dict:
    env = dict(os.environ)
    env.update({
        "COURSE_PROFILE": "full", "HF_HOME": str(HUB), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "COURSE_REHEARSAL": "1", "COURSE_OUTPUT_DIR": str(WORK / "outputs"), "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false", "TRL_EXPERIMENTAL_SILENCE": "1", "MPLBACKEND": "Agg",
    })
    if fp32:
        env.pop("COURSE_CPU_BF16", None)
    else:
        env["COURSE_CPU_BF16"] = "1"
    return env


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: Path, env: dict, log) -> tuple[bool, float, float, str]:
    """Execute one prepared notebook with nbval: (passed, wall seconds, CPU seconds, output)."""
    start, cpu = time.perf_counter(), _child_cpu()
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "--nbval-lax", "--nbval-current-env",
           "--nbval-cell-timeout=900", "-p", "no:cacheprovider", "-o", "addopts=", str(path)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, cpu = time.perf_counter() - start, _child_cpu() - cpu
    log.write(f"===== {path.name}\n{proc.stdout}\n")
    log.flush()
    return proc.returncode == 0, seconds, cpu, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb, in order")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast on the CPU (COURSE_CPU_BF16 unset)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stand-in hub even if it exists")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}")
        return 2

    total = time.perf_counter()
    if args.rebuild or not (HUB / "standin-hub.json").is_file():
        print("building the stand-in hub (scripts/build_standin_hub.py) ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_standin_hub.py"), "--out", str(HUB)],
                       check=True, cwd=ROOT)
    if (WORK / "outputs").exists():
        shutil.rmtree(WORK / "outputs")   # a fresh run: no checkpoint of an earlier rehearsal is resumed
    env = environment(args.fp32)
    print(f"rehearsing {len(paths)} notebook(s) in the full profile against {HUB.relative_to(ROOT)} "
          f"({'fp32' if args.fp32 else 'bf16 autocast'} on the CPU); log: {(WORK / 'rehearsal.log').relative_to(ROOT)}",
          flush=True)
    results = []
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "rehearsal.log", "w", encoding="utf-8") as log:
        for path in paths:
            prepared = prepare(path)
            ok, seconds, cpu, output = run(prepared, env, log)
            results.append((path.name, ok, seconds, cpu))
            print(f"{seconds:7.1f} s  {path.name}  {'passed' if ok else 'FAILED'}  (CPU time {cpu:,.0f} s: "
                  f"{cpu / 2:,.0f}-{cpu:,.0f} s on 2 idle cores)", flush=True)
            if not ok:
                tail = [line for line in output.splitlines() if line.strip()][-25:]
                print("\n".join("    " + line for line in tail), flush=True)
    cpu = sum(r[3] for r in results)
    print(f"{time.perf_counter() - total:7.1f} s  all ({sum(r[1] for r in results)} of {len(results)} passed; CPU time "
          f"{cpu:,.0f} s, i.e. {cpu / 2:,.0f}-{cpu:,.0f} s of wall time on 2 idle cores)")
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
