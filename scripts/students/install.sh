#!/usr/bin/env bash
# Install the course on your own machine and open it - one command, from the repository root or anywhere:
#
#     bash scripts/students/install.sh
#
# 1. creates a virtual environment in .venv (COURSE_VENV=path to put it elsewhere);
# 2. installs PyTorch built for this machine: the CUDA build when an NVIDIA GPU answers `nvidia-smi`, otherwise
#    the CPU build (on Linux from PyTorch's CPU index, so pip does not download gigabytes of CUDA libraries);
#    the chosen index is probed once first (COURSE_PROBE_TIMEOUT seconds, default 5): if it does not answer
#    (offline mirror, campus network), one warning line says so and torch comes from the default index instead -
#    no pip retries against an index that is not there;
# 3. installs the pinned course stack (requirements.txt) and JupyterLab;
#    if Node.js's npm is there, also the JavaScript libraries of the lecture slides (scripts/teachers/build_slides.py --vendor);
# 4. checks that the torch it installed is the build it chose (and stops with a message if not);
# 5. opens `jupyter lab notebooks/` (stop it with Ctrl+C). COURSE_NO_LAUNCH=1 only installs and prints how to start.
#
# Knobs (environment variables): COURSE_TORCH=auto|cpu|cuda (default auto); TORCH_INDEX_URL=<url> the index for
# torch, or "pypi" for the default index; TORCH_SPEC=<pip requirement> (default: requirements.txt's torch range;
# CI pins "torch==2.13.0", whose wheel on its machine is the CPU build); COURSE_PYTHON (default python3, >= 3.10).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${COURSE_VENV:-.venv}
PYTHON=${COURSE_PYTHON:-python3}
CHOICE=${COURSE_TORCH:-auto}
CPU_INDEX=https://download.pytorch.org/whl/cpu

if [ "$CHOICE" = auto ]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then CHOICE=cuda; else CHOICE=cpu; fi
fi
case "$CHOICE" in cpu|cuda) ;; *) echo "COURSE_TORCH must be auto, cpu or cuda, not '$CHOICE'" >&2; exit 2 ;; esac

if [ -n "${TORCH_INDEX_URL:-}" ]; then
    INDEX=$TORCH_INDEX_URL
elif [ "$CHOICE" = cpu ] && [ "$(uname -s)" = Linux ]; then
    INDEX=$CPU_INDEX          # PyPI's Linux wheel bundles CUDA; macOS and Windows wheels from PyPI are CPU builds
else
    INDEX=pypi
fi

echo ">>> torch: $CHOICE build (index: $INDEX) | environment: $VENV"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed")'

# One short probe of the torch index: any HTTP answer counts as reachable; no answer within the timeout (a name
# that does not resolve, a refused or silent connection) means pip would only retry it 5 times per download.
FELL_BACK=0
if [ "$INDEX" != pypi ]; then
    if ! why=$(PROBE_URL="$INDEX" PROBE_TIMEOUT="${COURSE_PROBE_TIMEOUT:-5}" "$PYTHON" - 2>&1 <<'PY'
import os, sys, urllib.error, urllib.request
url = os.environ["PROBE_URL"].rstrip("/") + "/"
try:
    urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=float(os.environ["PROBE_TIMEOUT"])).close()
except urllib.error.HTTPError as err:          # it answered: reachable (pip reports a wrong URL itself)
    sys.exit(0 if err.code < 500 else f"HTTP {err.code}")
except Exception as err:                       # URLError (name not resolved, refused), timeout, ...
    sys.exit(str(getattr(err, "reason", err)) or type(err).__name__)
PY
    ); then
        echo ">>> WARNING: the torch index $INDEX does not answer (${why:-no answer}); installing torch from the default index instead"
        INDEX=pypi
        FELL_BACK=1
    fi
fi
INDEX_ARGS=()
[ "$INDEX" != pypi ] && INDEX_ARGS=(--index-url "$INDEX")
[ -d "$VENV" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip
TORCH_SPEC=${TORCH_SPEC:-$(grep -E '^torch[ <>=]' requirements.txt | sed 's/#.*//; s/[[:space:]]*$//')}   # default: requirements.txt's range
"$PY" -m pip install -q "${INDEX_ARGS[@]}" "$TORCH_SPEC"
"$PY" -m pip install -q -r requirements.txt jupyterlab
# The kit's own packages (pyproject.toml: helpers/, tools/), editable: the scripts import them without sys.path edits.
if [ -f pyproject.toml ]; then   # the student version has none: its notebooks find helpers/ themselves
    "$PY" -m pip install -q --no-deps -e .
fi

CHOICE="$CHOICE" FELL_BACK="$FELL_BACK" "$PY" - <<'PY'
import os, sys
import torch
want = os.environ["CHOICE"]
cuda = torch.version.cuda
print(f">>> installed torch {torch.__version__} (CUDA {cuda or 'none'}; a GPU visible: {torch.cuda.is_available()})")
if want == "cpu" and cuda is not None and os.environ["FELL_BACK"] == "1":
    # the default index's Linux wheel: a CUDA build, larger, and it runs on the CPU all the same - said, not refused
    print(f">>> note: the CPU index did not answer, so this is the default index's CUDA {cuda} build of torch; it runs on "
          "the CPU too. For the small CPU build later: set TORCH_INDEX_URL to a reachable CPU index and run again.")
elif want == "cpu" and cuda is not None:
    sys.exit(f"Expected the CPU build of torch, got a CUDA {cuda} build. Remove {os.environ.get('VIRTUAL_ENV', '.venv')} "
             "and run again, or set TORCH_INDEX_URL to PyTorch's CPU index.")
if want == "cuda" and (cuda is None or not torch.cuda.is_available()):
    sys.exit("Expected a CUDA build of torch that sees the GPU, got "
             f"{'a CPU build' if cuda is None else f'CUDA {cuda}, but no usable GPU (driver too old?)'}. "
             "See https://pytorch.org/get-started/locally/ for the right index, and set TORCH_INDEX_URL.")
PY

# Lecture slides bundle reveal.js and MathJax from npm (into .slides-vendor/): only the slides need them.
if [ ! -f scripts/teachers/build_slides.py ]; then
    :   # the student version (scripts/teachers/build_student.py) has no slides to build
elif command -v npm >/dev/null 2>&1; then
    "$PY" scripts/teachers/build_slides.py --vendor || echo ">>> npm could not fetch the slides' JavaScript libraries; only scripts/teachers/build_slides.py needs them"
else
    echo ">>> npm not found: everything works except building lecture slides (scripts/teachers/build_slides.py needs Node.js's npm)"
fi

echo ">>> installed. Run the tests:   $VENV/bin/pytest"
if [ "${COURSE_NO_LAUNCH:-0}" = 1 ] || [ ! -t 1 ]; then
    echo ">>> open the course:           $VENV/bin/jupyter lab notebooks/"
else
    echo ">>> opening JupyterLab on notebooks/ (Ctrl+C stops it; run the tests in another terminal)"
    exec "$VENV/bin/jupyter" lab notebooks/
fi
