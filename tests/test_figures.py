"""The figure check of conftest.py can fail: a notebook that draws fewer (or more) figures than its metadata
declares fails its last cell, and the inline backend really renders figures in the kernel the tests use."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))   # every notebook declares its count


def tiny_notebook(path: Path, declared: int | None, plots: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["course"] = {} if declared is None else {"figures": declared}
    nb.cells = [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt")]
    nb.cells += [nbformat.v4.new_code_cell(f"plt.plot([0, {i}])\nplt.show()") for i in range(plots)]
    nb.cells.append(nbformat.v4.new_code_cell("print('done')"))
    nbformat.write(nb, path)


def run_pytest(folder: Path):
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "tests").mkdir(exist_ok=True)                       # conftest installs the drift guard from tests/
    shutil.copy(ROOT / "tests" / "strict_warnings.py", folder / "tests" / "strict_warnings.py")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-current-env", "-o", "testpaths=.", str(folder)],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})   # conftest must override it


def test_figure_count_is_enforced(tmp_path):
    tiny_notebook(tmp_path / "right.ipynb", declared=2, plots=2)
    tiny_notebook(tmp_path / "missing.ipynb", declared=3, plots=2)
    result = run_pytest(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "missing.ipynb drew 2 figure(s), its metadata course.figures says 3" in out, out
    assert "right.ipynb drew" not in out, out
    assert "1 failed" in out, out                     # only missing.ipynb's last cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_declare_their_figures(path):
    course = json.loads(path.read_text(encoding="utf-8"))["metadata"]["course"]
    source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "code")
    assert isinstance(course.get("figures"), int), f"{path.name}: set metadata course.figures (figures it draws)"
    draws = any(call in source for call in ("plt.show()", "plt.subplots(", "plot_history("))
    assert course["figures"] >= 0 and (course["figures"] > 0) == draws, path.name
