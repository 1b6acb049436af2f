"""The README's layout table against the tree (issue 26: "the layout table matches the tree").

Both directions: every path the table names exists, and every top-level entry git tracks and every script (each
file and folder of `scripts/`, or of each `scripts/<audience>/` folder the table has a row for) is named in it - in
its own folder's row, so a script moved between folders without its row fails here too.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
NOT_IN_TABLE = {"README.md"}   # the file that holds the table


def layout_rows() -> list[tuple[list[str], str]]:
    """Each row of the README's layout table: (the backticked paths of its first cell, the whole row)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Repository layout\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Repository layout' section"
    lines = [line for line in section.group(1).splitlines() if line.startswith("|")]
    assert len(lines) > 2 and re.fullmatch(r"\|[-|: ]+\|", lines[1]), "the layout section holds no table"
    rows = []
    for line in lines[2:]:
        first = line.split("|")[1]
        paths = re.findall(r"`([^`]+)`", first)
        assert paths, f"a layout row names no `path` in its first column: {line[:80]}"
        rows.append((paths, line))
    return rows


def tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"not a git checkout ({out.stderr.strip()[:80]}): the table is checked against tracked files")
    return [p for p in out.stdout.split("\0") if p]


def names_in(row: str) -> set[str]:
    """What a row names: each backticked token and its last path component (`scripts/x.py` names x.py too)."""
    tokens = re.findall(r"`([^`]+)`", row)
    return {t.rstrip("/") for t in tokens} | {t.rstrip("/").rsplit("/", 1)[-1] for t in tokens}


def test_every_path_in_the_layout_table_exists():
    for paths, _ in layout_rows():
        for path in paths:
            pattern = path.rstrip("/").replace("NN", "[0-9][0-9]")          # `notebooks/NN_*.ipynb`: a pattern
            assert list(ROOT.glob(pattern)), f"README's layout table names {path}, which the tree lacks"
            if path.endswith("/"):
                assert (ROOT / path).is_dir(), f"README's layout table names {path} as a folder; it is not one"


def test_every_tracked_top_level_entry_has_a_row():
    heads = {p.split("/")[0] for paths, _ in layout_rows() for p in paths}
    missing = sorted({p.split("/")[0] for p in tracked()} - heads - NOT_IN_TABLE)
    assert missing == [], f"tracked but not in README's layout table (add a row each): {missing}"


def test_every_script_is_named_in_its_folders_row():
    rows = layout_rows()
    scripts_rows = [(paths, row) for paths, row in rows if any(p.split("/")[0] == "scripts" for p in paths)]
    assert scripts_rows, "README's layout table has no scripts/ row"
    folders = {}                                 # scripts/<folder>/ rows: each folder's scripts named in its own row
    for paths, row in scripts_rows:
        for path in paths:
            parts = path.rstrip("/").split("/")
            if parts[0] == "scripts" and len(parts) == 2 and (ROOT / path).is_dir():
                folders[parts[1]] = row
    flat = "\n".join(row for paths, row in scripts_rows if "scripts/" in paths or "scripts" in paths)
    unnamed = []
    for path in tracked():
        parts = path.split("/")
        if parts[0] != "scripts":
            continue
        if len(parts) > 2 and parts[1] in folders:        # scripts/<folder>/<entry>...: named in the folder's row
            entry, where = parts[2], folders[parts[1]]
        else:                                             # scripts/<entry>...: named in the scripts/ row
            entry, where = parts[1], flat
        if entry not in names_in(where):
            unnamed.append("/".join(parts[:3] if parts[1] in folders else parts[:2]))
    assert unnamed == [], f"scripts that README's layout table does not name in their folder's row: {sorted(set(unnamed))}"


def test_the_check_would_catch_a_missing_row(monkeypatch):
    """The table check can fail: drop the scripts row(s) and the scripts go unnamed."""
    real = layout_rows()
    monkeypatch.setattr(sys.modules[__name__], "layout_rows",
                        lambda: [(p, r) for p, r in real if not any(x.startswith("scripts") for x in p)])
    with pytest.raises(AssertionError, match="no scripts/ row"):
        test_every_script_is_named_in_its_folders_row()
    with pytest.raises(AssertionError, match="scripts"):
        test_every_tracked_top_level_entry_has_a_row()


def test_each_path_has_one_row():
    """Two rows for one path disagree sooner or later (the table once had two `tools/` rows)."""
    paths = [p for row_paths, _ in layout_rows() for p in row_paths]
    assert sorted({p for p in paths if paths.count(p) > 1}) == [], "README's layout table names these in two rows"
