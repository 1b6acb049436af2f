"""pytest setup shared by the unit tests and the notebook runs (nbval).

Runs before any notebook kernel starts, so the kernels inherit this environment: quick profile unless
COURSE_PROFILE says otherwise, and - in the quick profile - no network access to the Hugging Face Hub at all.

Figures: the kernels draw with matplotlib's inline backend, exactly as in Jupyter, so every figure is rendered
in the tests (a figure that fails to draw fails its cell). Each notebook declares how many figures it draws in
its metadata (``metadata["course"]["figures"]``); after its last cell the count of image outputs must match, so a
plot that silently vanishes fails the notebook. At the end the run prints each notebook's time and figures.
"""
import json
import os
import tempfile
import time
from collections import defaultdict

import pytest

from tools.notebook import set_run_env  # standard library and nbformat only: no torch, no helpers

# The lessons' environment, shared with the slides and the grader (tools/notebook.py): quick unless COURSE_PROFILE
# says otherwise, offline in the quick profile, inline figures forced - an inherited MPLBACKEND=Agg would make every
# figure vanish without a word.
set_run_env(os.environ)
# Strict self-checks: in the suite a FAIL raises (so a broken solution notebook fails at its check) instead of
# falling back to the reference as it does for students (helpers/check/_core.py).
os.environ["COURSE_STRICT_CHECKS"] = "1"
os.environ.setdefault("COURSE_OUTPUT_DIR", os.path.join(os.path.dirname(__file__), "outputs", "test-run"))
# pytest runs on two workers (pytest.ini: -n 2, pytest-xdist): each gets its own output folder (test-run/gw0, /gw1),
# so a test and a notebook that train the same configuration at the same moment never meet at one run lock.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and os.path.basename(os.environ["COURSE_OUTPUT_DIR"]) != _WORKER:
    os.environ["COURSE_OUTPUT_DIR"] = os.path.join(os.environ["COURSE_OUTPUT_DIR"], _WORKER)
# ... and its share of the cores: torch's default (one thread per core) in each of two workers, and in the notebook
# kernels they start, puts twice as many busy threads as cores on the machine, and each thread's spin-waits slow the
# other worker down several times over. Set before torch is imported here; kernels and subprocesses inherit it.
if _WORKER:
    _share = str(max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, _share)

import matplotlib  # noqa: E402  (after MPLBACKEND: the kernels read it; this pytest process itself draws off-screen)

matplotlib.use("Agg")

# Drift guard: deprecations triggered by the kit's own calls are errors, here and in every notebook kernel
# (an IPython startup file, via IPYTHONDIR). See tests/strict_warnings.py.
from tests import strict_warnings  # noqa: E402  (pytest.ini's pythonpath: the repository root)

strict_warnings.install(os.path.dirname(__file__))
os.environ["IPYTHONDIR"] = tempfile.mkdtemp(prefix="kit-ipython-")
strict_warnings.write_kernel_startup(os.environ["IPYTHONDIR"], os.path.dirname(__file__))

_durations = defaultdict(float)
_failed = defaultdict(int)
_figures = defaultdict(int)          # notebook path -> image outputs seen so far (in the process that runs it)
_reported_figures = defaultdict(int)  # the same, from the test reports (the process that prints the summary)
_collected = defaultdict(int)        # notebook path -> cells collected (before -k / deselection)
_last_cell = {}                      # notebook path -> nodeid of its last selected cell, when all cells run
_start = time.perf_counter()


def _notebook(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return path if path.endswith(".ipynb") else None


def expected_figures(path) -> int | None:
    """The figure count a notebook declares in metadata["course"]["figures"] (None: not declared)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("metadata", {}).get("course", {}).get("figures")


def count_figures(outputs) -> int:
    """Image outputs (PNG, as the inline backend sends them) among one cell's outputs."""
    return sum(1 for out in outputs or [] if "image/png" in (out.get("data") or {}))


def pytest_itemcollected(item):
    if _notebook(item.nodeid):
        _collected[_notebook(item.nodeid)] += 1


# Test files that take longest (test_student, test_grade: measured on 2026-12-06; the rest estimated): handed out
# first, so that no long file starts last.
SLOW_FIRST = ["test_student.py", "test_grade.py", "test_export.py", "test_micro.py", "test_ddp.py", "test_tracker.py",
              "test_slides.py", "test_robust.py", "test_damaged_files.py"]
# Test files that train a notebook's own configuration in the shared output folder: they run on the notebooks'
# worker, after the notebooks, and load what the notebook trained (test_dpo's section-11 test: 04's SFT adapter)
# instead of training it a second time in the other worker's folder.
AFTER_NOTEBOOKS = ["test_dpo.py"]


def _unit(nodeid: str) -> str:
    """The unit of work a test belongs to: "notebooks" (the notebooks and AFTER_NOTEBOOKS), else its file."""
    path = nodeid.split("::")[0]
    return "notebooks" if _notebook(nodeid) or os.path.basename(path) in AFTER_NOTEBOOKS else path


def pytest_collection_modifyitems(config, items):
    """On pytest-xdist's workers: the order in which the work is handed out (see pytest_xdist_make_scheduler):
    the notebooks first, then AFTER_NOTEBOOKS, then the test files, the slowest first (SLOW_FIRST)."""
    if hasattr(config, "workerinput"):
        rank = {name: i for i, name in enumerate(SLOW_FIRST)}
        items.sort(key=lambda item: (0 if _notebook(item.nodeid) else 1 if item.path.name in AFTER_NOTEBOOKS else 2,
                                     rank.get(item.path.name, len(rank))))  # stable: each file's tests and
                                                                            # each notebook's cells keep their order


def pytest_xdist_make_scheduler(config, log):
    """How the two workers share the run (pytest.ini: `-n 2 --dist loadfile`): like loadfile - each test file whole
    on one worker, so its module fixtures are built once - except that all notebooks are one unit, run one after
    another in their numbered order on one worker (06 compares the adapters 03-05 saved in that worker's output
    folder). The notebooks start first; the other worker takes the test files, and the notebooks' worker joins in
    when the notebooks are done."""
    # Not `--dist loadgroup` with xdist_group marks: with pytest 9.2 and xdist 3.8 the marks silently group nothing
    # (xdist writes the group into item._nodeid, which pytest 9.2 no longer reads: pytest-xdist issue #1386).
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NotebooksTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return NotebooksTogether(config, log)


def pytest_collection_finish(session):
    selected = defaultdict(list)
    for item in session.items:
        if _notebook(item.nodeid):
            selected[_notebook(item.nodeid)].append(item.nodeid)
    for path, ids in selected.items():
        if len(ids) == _collected[path]:      # a partial run (-k, one cell) cannot judge the figure count
            _last_cell[path] = ids[-1]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield                            # a failing cell fails here, before any figure check
    path = _notebook(item.nodeid)
    if path:
        seen = count_figures(getattr(item, "test_outputs", None))
        _figures[path] += seen
        item.user_properties.append(("figures", seen))     # for the summary, printed by pytest-xdist's controller
        want = expected_figures(item.path) if _last_cell.get(path) == item.nodeid else None
        if want is not None and _figures[path] != want:
            pytest.fail(f"{path} drew {_figures[path]} figure(s), its metadata course.figures says {want}. "
                        "A figure that vanished (an exception while drawing, a non-inline MPLBACKEND, a plot "
                        "skipped by a condition) or a new figure without updating the count.", pytrace=False)
    return result


def pytest_runtest_logreport(report):
    path = _notebook(report.nodeid)
    if path:
        _durations[path] += report.duration
        _failed[path] += report.failed
        _reported_figures[path] += sum(n for key, n in report.user_properties if key == "figures") \
            if report.when == "call" else 0


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    tr = terminalreporter
    tr.section(f"time per notebook ({os.environ['COURSE_PROFILE']} profile)")
    for path, seconds in sorted(_durations.items()):
        want = expected_figures(path) if os.path.exists(path) else None
        figures = f"{_reported_figures[path]} figure(s)" + (" (count not declared in metadata)" if want is None else "")
        tr.write_line(f"{seconds:7.1f} s  {path}  {figures}" + ("  FAILED" if _failed[path] else ""))
    tr.write_line(f"{sum(_durations.values()):7.1f} s  all notebooks; "
                  f"{time.perf_counter() - _start:.1f} s whole suite")
