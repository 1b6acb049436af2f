"""Repository conventions: pins agree, notebooks are clean and in sync, generated files are current."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
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
                    "accelerate": "1.16.0", "bitsandbytes": "0.50.2", "nbval": "0.11.0"}
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
    out = run("scripts/sync_notebooks.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_tokenizer_file_is_reproducible():
    out = run("scripts/build_tokenizer.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_readme_documents_the_test_command_and_profiles():
    readme = (ROOT / "README.md").read_text()
    assert "pytest" in readme and "COURSE_PROFILE" in readme and "### BEGIN SOLUTION" in readme
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme
