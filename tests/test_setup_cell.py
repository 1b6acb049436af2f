"""The first cell of every notebook: a no-op in a checkout, clone + install on a fresh Colab/Kaggle runtime."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
NOTEBOOK = ROOT / "notebooks" / "00_setup.ipynb"
TWO_GPUS = ROOT / "notebooks" / "07_two-gpus.ipynb"   # metadata.course.gpus = 2: keeps both of Kaggle's T4s


def setup_source(notebook=NOTEBOOK) -> str:
    return nbformat.read(notebook, as_version=4).cells[1].source


SETUP_MARK = "# course:setup-cell"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_cell(monkeypatch, cwd: Path, notebook=NOTEBOOK, clone_error: str = "") -> tuple[list, dict]:
    """Run the setup cell with subprocess.run recorded (and a failing `git clone` if ``clone_error``)."""
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        failed = clone_error and cmd[:2] == ["git", "clone"]
        return subprocess.CompletedProcess(cmd, 128 if failed else 0, stdout="", stderr=clone_error)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", list(sys.path))
    namespace = {}
    exec(setup_source(notebook), namespace)
    return calls, namespace


def test_in_a_checkout_it_installs_nothing(monkeypatch):
    calls, ns = run_cell(monkeypatch, ROOT / "notebooks")
    assert calls == [] and ns["ROOT"] == ROOT and str(ROOT) in sys.path


def test_it_prints_one_short_line_kit_profile_device(monkeypatch, capsys):
    import helpers

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    run_cell(monkeypatch, ROOT / "notebooks")
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    assert out.startswith(f"course kit {helpers.__version__} - files: {ROOT} | profile: quick | device: ")
    import torch

    assert out.rstrip().endswith(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "device: CPU")


def test_after_an_upgrade_it_asks_for_a_restart(monkeypatch, tmp_path, capsys):
    """pip upgraded a package this runtime had imported: the kit line, then the restart notice (no profile yet)."""
    import importlib.metadata

    class Dist:
        def __init__(self, version):
            self.metadata, self.version = {"Name": "NumPy"}, version

    versions = iter(["1.0", "2.0"])
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [Dist(next(versions))])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    import numpy  # noqa: F401  (in sys.modules, as on Colab)

    run_cell(monkeypatch, tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("course kit ") and "profile" not in lines[0]
    assert "(numpy)" in lines[1] and lines[2].startswith(">>> Restart the runtime once")


def test_on_a_fresh_runtime_it_clones_and_installs_without_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unset")  # records the original, restored after the test
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    calls, ns = run_cell(monkeypatch, tmp_path)  # no helpers/ anywhere above tmp_path
    cfg = tomllib.loads((ROOT / "course.toml").read_text())
    clone, install = calls
    assert clone[:2] == ["git", "clone"] and f"https://github.com/{cfg['repo']}" in clone and cfg["branch"] in clone
    assert install[1:4] == ["-m", "pip", "install"] and install[-1].endswith("requirements.txt")
    assert "torch" not in " ".join(install)  # the runtime's own torch is kept
    assert ns["ROOT"] in (Path("/content/course"), Path("/kaggle/working/course"))
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"  # Kaggle's second T4 hidden before torch is imported


def test_the_two_gpu_notebook_keeps_both_gpus_visible(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unset")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    calls, _ = run_cell(monkeypatch, tmp_path, TWO_GPUS)
    assert len(calls) == 2                                 # clones and installs like every other notebook ...
    assert "CUDA_VISIBLE_DEVICES" not in os.environ        # ... but hides no GPU
    assert nbformat.read(TWO_GPUS, as_version=4).metadata["course"]["gpus"] == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_setup_cell_shows_folded(path):
    """One line in Colab (a form title, code hidden) and in JupyterLab / Jupyter Notebook (source_hidden)."""
    cell = nbformat.read(path, as_version=4).cells[1]
    first, second = cell.source.splitlines()[:2]
    assert re.fullmatch(r'# @title [^{}]+ \{ display-mode: "form" \}', first), first
    assert second.startswith("# course:setup-cell")
    assert cell.metadata["jupyter"]["source_hidden"] is True and cell.metadata["cellView"] == "form"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_first_cell_is_title_goal_and_links(path):
    nb = nbformat.read(path, as_version=4)
    lines = [l for l in nb.cells[0].source.splitlines() if l.strip() and not l.startswith("<!--")]
    assert nb.cells[0].cell_type == "markdown" and len(lines) == 3, lines
    title, goal, links = lines
    assert title.startswith(f"# {path.name[:2]} · "), title                    # the lesson's title, first
    assert goal == f"*{nb.metadata['course']['purpose'].rstrip('.')}.*"      # its goal, one line
    assert "![" not in links and "[Open in Colab](https://colab.research.google.com/" in links  # text, no images
    assert "[Open in Kaggle](https://kaggle.com/" in links
    titles = [c for c in nb.cells[1:] if c.cell_type == "markdown" and re.match(r"\s*# ", c.source)]
    assert not titles, "the title lives in cell 0 only"


def test_every_notebook_has_the_same_setup_cell():
    """One setup cell for all, except the GPU line of a notebook with metadata.course.gpus = 2."""
    sources = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        source = nb.cells[1].source
        if nb.metadata.get("course", {}).get("gpus", 1) == 2:
            assert 'setdefault("CUDA_VISIBLE_DEVICES"' not in source, path.name
            source = "\n".join(l for l in source.splitlines() if "uses both" not in l)
        else:
            source = "\n".join(l for l in source.splitlines() if "CUDA_VISIBLE_DEVICES" not in l)
        sources[path.name] = source
    assert len(set(sources.values())) == 1, "run python scripts/teachers/sync_notebooks.py"


def test_an_unknown_gpu_count_is_refused_clearly(monkeypatch):
    import pytest

    from tools.sync import setup_cell

    cfg = tomllib.loads((ROOT / "course.toml").read_text())
    assert setup_cell(cfg, {}) == setup_cell(cfg, {"gpus": 1}) != setup_cell(cfg, {"gpus": 2})
    with pytest.raises(SystemExit, match=r"metadata.course.gpus must be one of \[1, 2\], not 3"):
        setup_cell(cfg, {"gpus": 3})


def test_a_failed_clone_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    error = "remote: Repository not found.\nfatal: repository 'https://github.com/x/y/' not found"
    with pytest.raises(SystemExit) as stop:
        run_cell(monkeypatch, tmp_path, clone_error=error)
    message = str(stop.value)
    assert "Repository not found" in message                               # git's own reason, kept
    assert "fork" in message and "course.toml" in message and "sync_notebooks.py" in message
    assert "upload" in message and ("/content/course" in message or "/kaggle/working/course" in message)


def test_links_say_so_while_the_repository_is_not_published():
    cfg = tomllib.loads((ROOT / "course.toml").read_text())
    badges = [nbformat.read(p, as_version=4).cells[0].source for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if cfg.get("published", True):
        assert not any("Not published yet" in b for b in badges) and "Not published yet" not in readme
    else:
        assert all("Not published yet" in b and cfg["repo"] in b and "course.toml" in b for b in badges)
        assert all(len([l for l in b.splitlines() if "Not published" in l]) == 1 for b in badges)
        table = readme.split("<!-- notebooks:start -->")[1].split("<!-- notebooks:end -->")[0]
        assert "Not published yet" in table and "fork" in table


def test_the_note_goes_away_once_published():
    from tools import sync as sync_notebooks

    cfg = {"repo": "me/kit", "branch": "main"}
    assert sync_notebooks.unpublished_note({**cfg, "published": True}) == ""
    assert "me/kit" in sync_notebooks.badge_cell("notebooks/00_setup.ipynb", {**cfg, "published": False})
    assert "Not published" not in sync_notebooks.badge_cell("notebooks/00_setup.ipynb", {**cfg, "published": True})


def test_sync_moves_a_title_out_of_the_first_lesson_cell(tmp_path, monkeypatch):
    """A notebook as the kit had them (badge images, title in the first lesson cell): sync puts the title first."""
    from tools import sync as sync_notebooks

    old = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("<!-- course:badges -->\n[![Open in Colab](x.svg)](y)"),
        nbformat.v4.new_code_cell("# course:setup-cell - old\nprint(1)"),
        nbformat.v4.new_markdown_cell("# 09 · A lesson\n\n**Goal.** Learn."), nbformat.v4.new_code_cell("x = 1")])
    old.metadata["course"] = {"purpose": "Learn one thing"}
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "09_lesson.ipynb"
    nbformat.write(old, path)
    cfg = {"repo": "me/kit", "branch": "main", "published": True}
    assert sync_notebooks.sync_notebook(path, cfg, tmp_path) is True
    assert sync_notebooks.sync_notebook(path, cfg, tmp_path) is False        # idempotent
    new = nbformat.read(path, as_version=4)
    assert new.cells[0].source.splitlines()[1:4] == ["# 09 · A lesson", "", "*Learn one thing.*"]
    assert new.cells[2].source == "**Goal.** Learn." and new.cells[3].source == "x = 1"
    assert new.cells[1].metadata["jupyter"] == {"source_hidden": True} and "print(1)" not in new.cells[1].source
    assert sync_notebooks.badge_cell("notebooks/09_lesson.ipynb", cfg, root=tmp_path) == new.cells[0].source


QUIET = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))  # every notebook


@pytest.mark.parametrize("stem", QUIET)
def test_bitsandbytes_is_silenced_before_peft_or_trl_imports_it(stem):
    """On a CPU, importing bitsandbytes (PEFT and TRL do) logs "Failed to load CPU gemm_4bit_forward from
    kernels-community" unless helpers.quiet_library_notices() ran first: these notebooks' outputs carry no such line."""
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    lines = [line for cell in nb.cells if cell.cell_type == "code" and SETUP_MARK not in cell.source
             for line in cell.source.splitlines()]
    imports = re.compile(r"\s*(import|from)\s+(peft|trl|bitsandbytes)\b")
    first_import = next((i for i, line in enumerate(lines) if imports.match(line)), len(lines))
    quiet = next((i for i, l in enumerate(lines) if re.match(r"\s*helpers\.quiet_library_notices\(\)", l)), None)
    assert quiet is not None and quiet < first_import, lines[first_import] if first_import < len(lines) else stem
