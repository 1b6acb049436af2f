"""pytest setup shared by the unit tests and the notebook runs (nbval).

Runs before any notebook kernel starts, so the kernels inherit this environment: quick profile unless
COURSE_PROFILE says otherwise, and - in the quick profile - no network access to the Hugging Face Hub at all.
At the end it prints how long each notebook took.
"""
import os
import sys
import tempfile
import time
from collections import defaultdict

os.environ.setdefault("COURSE_PROFILE", "quick")
if os.environ["COURSE_PROFILE"] == "quick":
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("COURSE_OUTPUT_DIR", os.path.join(os.path.dirname(__file__), "outputs", "test-run"))

# Drift guard: deprecations triggered by the kit's own calls are errors, here and in every notebook kernel
# (an IPython startup file, via IPYTHONDIR). See tests/strict_warnings.py.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "tests"))
import strict_warnings  # noqa: E402

strict_warnings.install(os.path.dirname(__file__))
os.environ["IPYTHONDIR"] = tempfile.mkdtemp(prefix="kit-ipython-")
strict_warnings.write_kernel_startup(os.environ["IPYTHONDIR"], os.path.dirname(__file__))
sys.path.remove(os.path.join(os.path.dirname(__file__), "tests"))

_durations = defaultdict(float)
_failed = defaultdict(int)
_start = time.perf_counter()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration
        _failed[path] += report.failed


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    tr = terminalreporter
    tr.section("time per notebook (quick profile)")
    for path, seconds in sorted(_durations.items()):
        tr.write_line(f"{seconds:7.1f} s  {path}" + ("  FAILED" if _failed[path] else ""))
    tr.write_line(f"{sum(_durations.values()):7.1f} s  all notebooks; "
                  f"{time.perf_counter() - _start:.1f} s whole suite")
