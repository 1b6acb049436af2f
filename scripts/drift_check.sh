#!/usr/bin/env bash
# Drift check: the quick suite against the NEWEST releases of the course stack - the pre-semester check a teacher
# runs before bumping the pins in requirements.txt.
#
#   scripts/drift_check.sh                 # builds outputs/drift-venv/ (ignored by git), runs pytest, summarises
#   DRIFT_PYTEST_ARGS="tests" scripts/drift_check.sh    # a subset
#
# The side environment sees this environment's packages (a .pth file), so torch stays the installed 2.13.0 (CPU)
# and nothing is downloaded twice; transformers, peft, trl, datasets, accelerate and bitsandbytes are upgraded
# into the side environment only (pip never uninstalls what lies outside it). The pinned environment is untouched.
# Expected failures: tests that compare installed versions with the pins (test_environment_report_facts).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIDE="$ROOT/outputs/drift-venv"
LOG="$ROOT/outputs/drift-check.log"
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
"$SIDE/bin/python" -m pip install -q --upgrade -c "$SIDE/constraints.txt" $UPGRADE 2>&1 | grep -v "^Not uninstalling\|outside environment\|^Can't uninstall" || true
"$SIDE/bin/python" - <<'PY'
from importlib.metadata import version
pins = {l.split("==")[0]: l.split("==")[1].split()[0] for l in open("requirements.txt") if "==" in l}
for p in ["torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes"]:
    have = version(p)
    print(f"  {p:13s} {have:12s}" + (f" (pinned {pins[p]})" if p in pins and pins[p] != have else " (= pin)" if p in pins else ""))
PY

echo "drift check: running the quick suite against them (log: outputs/drift-check.log) ..."
start=$(date +%s)
# shellcheck disable=SC2086
"$SIDE/bin/python" -m pytest -q -rf --tb=short ${DRIFT_PYTEST_ARGS:-} > "$LOG" 2>&1
status=$?
echo "drift check: pytest exit status $status after $(( $(date +%s) - start )) s"
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
    print("  nothing broke: the newest releases pass the quick suite")
PY
exit $status
