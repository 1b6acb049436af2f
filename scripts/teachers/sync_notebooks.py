"""Regenerate what depends on the repository's address (course.toml), so a fork changes it once.

    python scripts/teachers/sync_notebooks.py          # rewrite notebook cells 0-1 and the README's notebook table
    python scripts/teachers/sync_notebooks.py --check  # exit 1 if anything is out of date (a test runs this)

What it writes - notebook cells 0 (the first screen) and 1 (the setup cell), and the README's notebook table - and
how, is described once, in tools/sync.py (the functions; scripts/teachers/build_student.py runs them too).
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

try:
    from tools.notebook import ROOT, course_meta, lesson_paths, read
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)
from tools.sync import (SETUP_METADATA, _meta, badge_cell, lesson_title, readme_table, settings,  # noqa: F401
                        setup_cell, sync_notebook, sync_readme, unpublished_note)


def main(argv) -> int:
    check = "--check" in argv
    cfg = settings()
    if check:
        return _check(cfg)
    changed = [p.name for p in lesson_paths() if sync_notebook(p, cfg)]
    if sync_readme(cfg):
        changed.append("README.md")
    print("updated: " + ", ".join(changed) if changed else "everything up to date")
    return 0


def _check(cfg: dict) -> int:
    stale = []
    for path in lesson_paths():
        nb = read(path)
        rel = path.relative_to(ROOT).as_posix()
        meta = course_meta(nb)
        if len(nb.cells) < 2 or nb.cells[0].source != badge_cell(rel, cfg, lesson_title(nb), meta.get("purpose", "")) \
                or nb.cells[1].source != setup_cell(cfg, meta) or _meta(nb.cells[1]) != SETUP_METADATA:
            stale.append(path.name)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if readme_table(cfg) not in text:
        stale.append("README.md")
    print("out of date: " + ", ".join(stale) + " - run python scripts/teachers/sync_notebooks.py" if stale
          else "notebooks and README are in sync with course.toml")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
