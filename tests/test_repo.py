"""Repository conventions: pins agree, notebooks are clean and in sync, generated files are current."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def requirement_lines(text: str) -> list[str]:
    return [re.sub(r"\s+", "", line.split("#")[0]) for line in text.splitlines() if line.split("#")[0].strip()]


def test_requirements_and_environment_yml_agree():
    reqs = requirement_lines((ROOT / "requirements.txt").read_text())
    env = (ROOT / "environment.yml").read_text()
    pip_block = env.split("- pip:", 1)[1]
    env_reqs = [re.sub(r"\s+", "", l.strip()[2:]) for l in pip_block.splitlines() if l.strip().startswith("- ")]
    assert reqs == env_reqs
    pins = dict(r.split("==") for r in reqs if "==" in r)
    assert pins == {"transformers": "5.25.0", "peft": "0.21.2", "trl": "1.16.0", "datasets": "5.2.0",
                    "accelerate": "1.16.0", "bitsandbytes": "0.50.2", "nbval": "0.11.0",
                    "pytest-xdist": "3.8.0"}
    assert not any(r.startswith("torch==") for r in reqs)  # a range: never force a reinstall on Colab


def test_notebooks_exist_and_are_numbered():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup.ipynb"
    for path in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9-]+\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        checked = "NBVAL_CHECK_OUTPUT" in "".join(cell["source"])
        assert checked or not cell.get("outputs"), f"{path.name} cell {i} has stored outputs"
        assert checked or cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("course", {})
    assert {"title", "purpose", "t4_minutes", "gpu_memory", "exercises"} <= set(meta), "README row metadata"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for section in ("**Goal.**", "**Learning objectives.**", "## Summary", "## What to hand in"):
        assert section in markdown, f"{path.name} lacks {section}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert code.count("### BEGIN SOLUTION") == code.count("### END SOLUTION") >= 1
    assert "helpers.check." in code
    assert "get_profile()" in code


def run(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)


def test_notebooks_and_readme_in_sync_with_course_toml():
    out = run("scripts/teachers/sync_notebooks.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_tokenizer_file_is_reproducible():
    out = run("scripts/maintainers/build_tokenizer.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_readme_documents_the_test_command_and_profiles():
    readme = (ROOT / "README.md").read_text()
    assert "pytest" in readme and "COURSE_PROFILE" in readme and "### BEGIN SOLUTION" in readme
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme


# --- how `pytest` shares the run between two workers (pytest.ini, conftest.py) ------------------------------------
def test_pytest_runs_on_two_workers_and_prints_the_slowest_15(pytestconfig):
    addopts = pytestconfig.getini("addopts")
    for option in ("-n", "2", "--dist", "loadfile", "--no-loadscope-reorder", "--durations=15"):
        assert option in addopts, f"pytest.ini's addopts lost {option}: {addopts}"


def test_the_notebooks_are_one_unit_of_work_and_go_first(pytestconfig, monkeypatch):
    """conftest.py's scheduler: every notebook on one worker, in order (06 reads the adapters 03-05 saved in that
    worker's output folder), then AFTER_NOTEBOOKS on the same worker; each other test file whole on one worker; the
    notebooks handed out first, then SLOW_FIRST."""
    root = pytestconfig.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    monkeypatch.setattr(pytestconfig.option, "dist", "loadfile")
    monkeypatch.setattr(pytestconfig.option, "tx", ["2*popen"])           # what `-n 2` means to xdist
    scheduler = root.pytest_xdist_make_scheduler(config=pytestconfig, log=None)
    units = {scheduler._split_scope(nodeid) for nodeid in (
        "notebooks/03_sft.ipynb::Cell 4", "notebooks/06_evaluation.ipynb::Cell 0", "tests/test_repo.py::test_a",
        "tests/test_repo.py::test_b[x]", "tests/test_sft.py::test_c", f"tests/{root.AFTER_NOTEBOOKS[0]}::test_d")}
    assert units == {"notebooks", "tests/test_repo.py", "tests/test_sft.py"}
    monkeypatch.setattr(pytestconfig.option, "dist", "load")                # another --dist: xdist's own scheduler
    assert root.pytest_xdist_make_scheduler(config=pytestconfig, log=None) is None

    class Item:
        def __init__(self, nodeid):
            self.nodeid, self.path = nodeid, Path(nodeid.split("::")[0])

    nodeids = ["tests/test_a.py::t1", f"tests/{root.SLOW_FIRST[1]}::t", "tests/test_a.py::t2",
               f"tests/{root.SLOW_FIRST[0]}::t", f"tests/{root.AFTER_NOTEBOOKS[0]}::t",
               "notebooks/00_setup.ipynb::Cell 0", "notebooks/00_setup.ipynb::Cell 1",
               "notebooks/01_lora-from-scratch.ipynb::Cell 0"]
    items = [Item(n) for n in nodeids]
    monkeypatch.setattr(pytestconfig, "workerinput", {}, raising=False)
    root.pytest_collection_modifyitems(pytestconfig, items)
    assert [i.nodeid for i in items] == [nodeids[5], nodeids[6], nodeids[7], nodeids[4], nodeids[3], nodeids[1],
                                         nodeids[0], nodeids[2]]


def test_each_worker_has_its_own_output_folder():
    import os
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        pytest.skip("not run by a pytest-xdist worker (pytest -n 0)")
    assert Path(os.environ["COURSE_OUTPUT_DIR"]).name == worker
