"""The first cell of every notebook: a no-op in a checkout, clone + install on a fresh Colab/Kaggle runtime."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "00_setup.ipynb"
TWO_GPUS = ROOT / "notebooks" / "07_two-gpus.ipynb"   # metadata.course.gpus = 2: keeps both of Kaggle's T4s


def setup_source(notebook=NOTEBOOK) -> str:
    return nbformat.read(notebook, as_version=4).cells[1].source


def run_cell(monkeypatch, cwd: Path, notebook=NOTEBOOK) -> tuple[list, dict]:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", list(sys.path))
    namespace = {}
    exec(setup_source(notebook), namespace)
    return calls, namespace


def test_in_a_checkout_it_installs_nothing(monkeypatch):
    calls, ns = run_cell(monkeypatch, ROOT / "notebooks")
    assert calls == [] and ns["ROOT"] == ROOT and str(ROOT) in sys.path


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
    assert len(set(sources.values())) == 1, "run python scripts/sync_notebooks.py"


def test_an_unknown_gpu_count_is_refused_clearly(monkeypatch):
    import pytest

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    from sync_notebooks import setup_cell

    cfg = tomllib.loads((ROOT / "course.toml").read_text())
    assert setup_cell(cfg, {}) == setup_cell(cfg, {"gpus": 1}) != setup_cell(cfg, {"gpus": 2})
    with pytest.raises(SystemExit, match=r"metadata.course.gpus must be one of \[1, 2\], not 3"):
        setup_cell(cfg, {"gpus": 3})
