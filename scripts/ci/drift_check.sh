#!/usr/bin/env bash
# Drift check: the unit tests AND every notebook (quick profile) against the NEWEST releases of the course stack -
# the pre-semester check a teacher runs before bumping the pins in requirements.txt.
#
#   scripts/ci/drift_check.sh                         # builds outputs/drift-venv/ (ignored by git), runs both, summarises
#   DRIFT_PYTEST_ARGS="tests/test_lora.py" scripts/ci/drift_check.sh      # a subset of the unit tests
#   DRIFT_NOTEBOOKS="notebooks/03_sft.ipynb" scripts/ci/drift_check.sh    # a subset of the notebooks
#   DRIFT_SKIP_UNITS=1 / DRIFT_SKIP_NOTEBOOKS=1                        # one half only
#
# The side environment sees this environment's packages (a .pth file), so torch stays the installed one and nothing
# is downloaded twice; transformers, peft, trl, datasets, accelerate and bitsandbytes are upgraded into the side
# environment only (pip never uninstalls what lies outside it). The pinned environment is untouched.
# The notebooks run through nbval in the side environment's own kernel (--nbval-current-env), writing to
# outputs/drift-run/ (COURSE_OUTPUT_DIR), so a run in the pinned environment is not mixed with this one.
# Output: the versions tried, what breaks in the unit tests, then one line per notebook: pass, or the first failing
# cell with the error's last line. Expected failures: tests that compare installed versions with the pins
# (test_environment_report_facts, test_requirements_and_environment_yml_agree).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SIDE="$ROOT/outputs/drift-venv"
LOG="$ROOT/outputs/drift-check.log"
NB_LOG="$ROOT/outputs/drift-notebooks.log"
NB_XML="$ROOT/outputs/drift-notebooks.xml"
BASE_PY=${BASE_PY:-python3}
UPGRADE="transformers peft trl datasets accelerate bitsandbytes"
mkdir -p "$ROOT/outputs"

torch_version=$("$BASE_PY" -c "import torch; print(torch.__version__.split('+')[0])") || {
    echo "drift check: '$BASE_PY' cannot import torch; activate the course environment first"; exit 2; }
if [ ! -x "$SIDE/bin/python" ]; then
    "$BASE_PY" -m venv "$SIDE" || exit 2
fi
base_site=$("$BASE_PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
side_site=$("$SIDE/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$base_site" > "$side_site/course-base.pth"          # the pinned environment, after the side's own packages
echo "torch==$torch_version" > "$SIDE/constraints.txt"   # keep torch

echo "drift check: upgrading $UPGRADE in $SIDE (torch kept at $torch_version) ..."
"$SIDE/bin/python" -m pip install -q --upgrade -c "$SIDE/constraints.txt" $UPGRADE 2>&1 | grep -v "^Not uninstalling\|outside environment\|^Can't uninstall\|^WARNING: Location" || true
"$SIDE/bin/python" - <<'PY'
from importlib.metadata import version
pins = {l.split("==")[0]: l.split("==")[1].split()[0] for l in open("requirements.txt") if "==" in l}
for p in ["torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes"]:
    have = version(p)
    print(f"  {p:13s} {have:12s}" + (f" (pinned {pins[p]})" if p in pins and pins[p] != have else " (= pin)" if p in pins else ""))
PY

status=0
if [ -z "${DRIFT_SKIP_UNITS:-}" ]; then
    echo "drift check: running the unit tests against them (log: outputs/drift-check.log) ..."
    start=$(date +%s)
    # shellcheck disable=SC2086
    COURSE_OUTPUT_DIR="$ROOT/outputs/drift-run" "$SIDE/bin/python" -m pytest -q -rf --tb=short ${DRIFT_PYTEST_ARGS:-tests} > "$LOG" 2>&1
    units=$?
    [ $units -ne 0 ] && status=$units
    echo "drift check: unit tests: pytest exit status $units after $(( $(date +%s) - start )) s"
    echo "--- what breaks, and where (first lines of each failure; the whole story is in the log) ---"
    "$SIDE/bin/python" - "$LOG" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
failed = re.findall(r"^FAILED (\S+)(?: - (.*))?$", text, re.M)
for node, why in failed:
    print(f"  FAILED {node}: {(why or '').strip()[:220]}")
errors = re.findall(r"^ERROR (\S+)(?: - (.*))?$", text, re.M)
for node, why in errors:
    print(f"  ERROR  {node}: {(why or '').strip()[:220]}")
tail = [l for l in text.splitlines() if re.match(r"^=* ?\d+ (passed|failed|error)", l)]
print(tail[-1] if tail else "(no pytest summary line: see the log)")
if not failed and not errors:
    print("  nothing broke: the newest releases pass the unit tests")
PY
fi

if [ -z "${DRIFT_SKIP_NOTEBOOKS:-}" ]; then
    # shellcheck disable=SC2086
    notebooks=${DRIFT_NOTEBOOKS:-$(ls notebooks/[0-9][0-9]_*.ipynb)}
    echo "drift check: executing the notebooks (quick profile) in the side environment (log: outputs/drift-notebooks.log) ..."
    start=$(date +%s)
    rm -f "$NB_XML"
    # shellcheck disable=SC2086
    COURSE_PROFILE=quick COURSE_OUTPUT_DIR="$ROOT/outputs/drift-run" "$SIDE/bin/python" -m pytest -v -rf --tb=short \
        -o junit_family=xunit1 --junitxml="$NB_XML" $notebooks > "$NB_LOG" 2>&1
    nbs=$?
    [ $nbs -ne 0 ] && [ $status -eq 0 ] && status=$nbs
    echo "drift check: notebooks: pytest exit status $nbs after $(( $(date +%s) - start )) s"
    "$SIDE/bin/python" - "$NB_XML" $notebooks <<'PY'
import re, sys
import xml.etree.ElementTree as ET
from pathlib import Path

xml, notebooks = sys.argv[1], [Path(p).name for p in sys.argv[2:]]
runs = {name: {"cells": 0, "seconds": 0.0, "first": None} for name in notebooks}
try:
    cases = ET.parse(xml).getroot().iter("testcase")
except (OSError, ET.ParseError) as err:
    print(f"  no test report ({err}): pytest stopped before the notebooks ran - see the log")
    sys.exit(0)
for case in cases:
    name = case.get("classname", "").split(".", 1)[-1]           # notebooks.03_sft.ipynb -> 03_sft.ipynb
    if name not in runs:
        name = next((n for n in runs if case.get("classname", "").endswith(n)), None)
        if name is None:
            continue
    run = runs[name]
    run["cells"] += 1
    run["seconds"] += float(case.get("time") or 0)
    bad = case.find("failure") if case.find("failure") is not None else case.find("error")
    cell = int(m.group(1)) if (m := re.search(r"(\d+)$", case.get("name", ""))) else -1
    if bad is not None and (run["first"] is None or cell < run["first"][0]):
        # the report's text (the message is a truncated copy); colour codes come as ESC or as junit's "#x1B"
        text = re.sub(r"(\x1b|#x1B)\[[0-9;]*m", "", bad.text or bad.get("message") or "")
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        errs = [l for l in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt|Exit|Failed)(:|$)", l)]
        errs += [m.group(1) for l in lines if (m := re.match(r"^Cell \d+: (Timeout .*?)(\. Failed to .*)?$", l))]
        run["first"] = (cell, (errs[-1] if errs else lines[-1] if lines else "(no message)")[:200])
import json
print(f"  {'notebook':34s} result")
for name, run in runs.items():
    path = Path("notebooks") / name
    total = sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"]) if path.exists() else None
    if run["cells"] == 0:
        print(f"  {name:34s} NOT RUN (collection failed or the run was stopped before it: see the log)")
    elif run["first"] is None and total is not None and run["cells"] < total:
        print(f"  {name:34s} UNFINISHED: cells 0-{run['cells'] - 1} of {total} passed, then the run was stopped")
    elif run["first"] is None:
        print(f"  {name:34s} pass ({run['cells']} cells, {run['seconds']:.0f} s)")
    else:
        cell, why = run["first"]
        print(f"  {name:34s} FAIL first at cell {cell}: {why}")
PY
fi
exit $status
