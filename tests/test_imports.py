"""No import circles among the kit's own modules (helpers/, tools/, scripts/), read with ast - nothing is imported.

Every import statement counts, the ones inside functions too (a lazy import still ties two modules together: the
circle helpers/data.py <-> helpers/check/_reference.py was one). An edge goes from a module to the kit module an
import names: ``from .text import X`` and ``from . import text`` -> helpers.text; ``import helpers`` or ``from ..
import name`` (a name, not a module) -> the package's __init__; a script's ``import build_standin_hub`` -> its
sibling script. Importing a submodule is not counted as importing its parents' __init__ (as linters count it).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
PACKAGES = ("helpers", "tools")


def kit_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file, for every module of helpers/, tools/ and scripts/ (a package is its __init__)."""
    modules = {}
    for folder in (*PACKAGES, "scripts"):
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The kit modules that ``name`` (at ``path``) imports, anywhere in its code."""
    found = set()
    package = _package_of(name, path)

    def add(target: str):
        while target and target not in modules:        # helpers.check.sft.x (a name) -> helpers.check.sft
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    add(alias.name)
                elif name.startswith("scripts.") and f"scripts.{alias.name}" in modules:   # a sibling script
                    add(f"scripts.{alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
                if module.split(".")[0] not in PACKAGES and not module.startswith("scripts"):
                    if name.startswith("scripts.") and f"scripts.{module}" in modules:
                        module = f"scripts.{module}"
                    else:
                        continue
            for alias in node.names:                      # `from . import text`: the module, when it is one
                add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = kit_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_kit_has_no_import_circle():
    graph = import_graph()
    assert {"helpers", "helpers.data", "helpers.check._reference", "tools.notebook", "scripts.maintainers.nbtool"} <= set(graph)
    assert "tools.notebook" in graph["scripts.teachers.build_slides"] and "tools.notebook" in graph["scripts.maintainers.nbtool"]
    found = circles(graph)
    assert not found, "import circles (move what both sides need into a module that imports neither): " + "; ".join(
        " <-> ".join(c) for c in found)


@pytest.mark.parametrize("files, circle", [
    ({"helpers/__init__.py": "", "helpers/data.py": "def f():\n    from .check._reference import g\n",
      "helpers/check/__init__.py": "", "helpers/check/_reference.py": "from ..data import HUMAN\n"},
     ["helpers.check._reference", "helpers.data"]),
    ({"scripts/a.py": "import b\n", "scripts/b.py": "def f():\n    from a import x\n"}, ["scripts.a", "scripts.b"]),
    ({"helpers/__init__.py": "from .x import y\n", "helpers/x.py": "from . import z\n",
      "helpers/z.py": "import helpers\n"}, ["helpers", "helpers.x", "helpers.z"]),
])
def test_the_walk_finds_a_circle(tmp_path, files, circle):
    """The test above can fail: each of these trees has one circle (a lazy import, sibling scripts, a package)."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    for folder in (*PACKAGES, "scripts"):
        (tmp_path / folder).mkdir(exist_ok=True)
    assert circles(import_graph(tmp_path)) == [circle]


# Files that still put a folder on sys.path, and why. Remove a line when its edit goes.
SYS_PATH_EDITS = {
    "tests/test_teaching.py": "also runs as a script (`python tests/test_teaching.py`), outside pytest's pythonpath",
    "tests/test_rehearsal.py": "a throwaway module of its own in tmp_path, not the kit",
    "tests/test_student.py": "inside a test notebook's cell: the kernel that runs it, not the test",
    "tools/sync.py": "inside the setup cell's text: how a notebook finds helpers/ on Colab",
    "scripts/students/ddp_sft.py": "students run it (07) in the student repository, which is not pip-installed",
    "scripts/ci/gpu_check.py": "run on a Colab/Kaggle T4 after `pip install -r requirements.txt` only (README)",
    "scripts/maintainers/train_scorers.py": "maintainers' script, run as a file (not converted yet)",
}


def test_no_test_or_script_edits_sys_path_to_import_the_kit():
    """pytest.ini's pythonpath (tests) and `pip install -e .` (scripts) make helpers, tools and scripts importable;
    the few edits left are listed, with their reason, in SYS_PATH_EDITS."""
    offenders = []
    for path in sorted([*(ROOT / "tests").glob("*.py"), *(ROOT / "scripts").rglob("*.py"),
                        *(ROOT / "tools").rglob("*.py"), ROOT / "conftest.py"]):
        rel = path.relative_to(ROOT).as_posix()
        if rel in SYS_PATH_EDITS or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "sys.path.insert(" in line or "sys.path.append(" in line or "syspath_prepend(" in line:
                offenders.append(f"{rel}:{number}")
    assert not offenders, offenders


def test_tools_and_helpers_name_the_same_root():
    """tools/notebook.py's ROOT (tools import no helpers) is helpers.env.REPO_ROOT: one folder, two spellings."""
    import tools.notebook

    assert tools.notebook.ROOT == ROOT


BOOTSTRAPPED = ["scripts/ci/build_standin_hub.py", "scripts/ci/rehearse.py", "scripts/maintainers/nbtool.py",
                "scripts/teachers/build_slides.py", "scripts/teachers/build_student.py", "scripts/teachers/export_grades.py",
                "scripts/teachers/grade.py", "scripts/teachers/sync_notebooks.py"]


def test_the_install_message_is_written_once():
    """Scripts that need the kit installed leave the message to tools/bootstrap.py, the one place that writes it."""
    message = "needs the kit installed"
    holders = sorted(path.relative_to(ROOT).as_posix() for folder in ("scripts", "tools")
                     for path in (ROOT / folder).rglob("*.py") if message in path.read_text(encoding="utf-8"))
    assert holders == ["tools/bootstrap.py"]
    for script in BOOTSTRAPPED:
        assert '"tools" / "bootstrap.py"' in (ROOT / script).read_text(encoding="utf-8"), script


@pytest.mark.parametrize("script", ["scripts/teachers/sync_notebooks.py", "scripts/ci/build_standin_hub.py"])
def test_a_script_run_before_the_kit_is_installed_says_how_to_install_it(tmp_path, script):
    """``python -S`` leaves out site-packages, and `pip install -e .` with it: `import tools` fails as on a fresh
    clone, and the script exits with one line saying what to run."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-S", str(ROOT / script)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert (out.returncode, out.stdout) == (1, ""), out.stderr
    assert out.stderr == (f"{script} needs the kit installed: run `bash scripts/students/install.sh` (or "
                          "`pip install -e .`) in its folder\n")
