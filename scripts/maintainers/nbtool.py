"""Convert notebooks to and from a plain-text "percent" script, for editing and reviewing in any editor.

    python scripts/maintainers/nbtool.py to-py notebooks/01_lora-from-scratch.ipynb   # -> 01_lora-from-scratch.py beside it
    python scripts/maintainers/nbtool.py to-nb notebooks/01_lora-from-scratch.py      # -> .ipynb, outputs empty

Format: a line "# %%" starts a code cell, "# %% [markdown]" a markdown cell whose lines start with "# ".
A code cell's tags ride on its marker line: "# %% tags=["parameters"]" (the config cell the rehearsal overrides);
any other cell metadata (an exercise's "course" entry, slide settings) too, as JSON: "# %% meta={...}".
Notebook metadata (the README row of the notebook) is kept in a leading "# %% [metadata]" JSON block.
The .ipynb is what is committed; the .py is a scratch copy (ignored by git).
Writing a notebook also sets each cell's slide metadata by the slide rule (tools/notebook.py, `mark`).
"""
from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

import nbformat

try:
    from tools.notebook import BADGES_MARK, SETUP_MARK, read, write
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

CODE, MARKDOWN, META = "# %%", "# %% [markdown]", "# %% [metadata]"
MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[[^\]]*\]))?(?: meta=(?P<meta>\{.*\}))?\s*$")


def marker(kind: str, metadata) -> str:
    tags = metadata.get("tags", [])
    rest = {k: v for k, v in metadata.items() if k != "tags"}
    return (kind + (f" tags={json.dumps(tags)}" if tags else "")
            + (f" meta={json.dumps(rest, ensure_ascii=False, sort_keys=True)}" if rest else ""))


def to_py(nb) -> str:
    parts = [META + "\n" + "\n".join("# " + line for line in json.dumps(nb.metadata.get("course", {}), indent=1).splitlines())]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(marker(MARKDOWN, cell.metadata) + "\n"
                         + "\n".join(("# " + line).rstrip() for line in cell.source.splitlines()))
        else:
            parts.append(marker(CODE, cell.metadata) + "\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def to_nb(text: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    blocks, current = [], None
    for line in text.splitlines():
        match = MARKER.match(line.strip()) if line.startswith(CODE) else None
        if line.strip() == META or match:
            current = [line.strip(), []]
            blocks.append(current)
        elif current is not None:
            current[1].append(line)
    for kind, lines in blocks:
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == META:
            nb.metadata["course"] = json.loads("\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines) or "{}")
            continue
        match = MARKER.match(kind)
        if match["md"]:
            cell = nbformat.v4.new_markdown_cell("\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines))
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if match["tags"]:
            cell.metadata["tags"] = json.loads(match["tags"])
        if match["meta"]:
            cell.metadata.update(json.loads(match["meta"]))
        nb.cells.append(cell)
    lesson_cells = 0
    for cell in nb.cells:   # stable ids keep diffs small; the generated first cells keep sync_notebooks' ids
        if BADGES_MARK in cell.source or SETUP_MARK in cell.source:
            cell["id"] = "course-0" if cell.cell_type == "markdown" else "course-1"
        else:
            cell["id"] = f"cell-{lesson_cells:03d}"
            lesson_cells += 1
    return nb


def write_nb(nb, path: Path):
    """Write as the kit commits notebooks (tools.notebook.write: slide metadata kept current, validated)."""
    write(nb, path)


def main(argv) -> int:
    if len(argv) != 3 or argv[1] not in ("to-py", "to-nb"):
        print(__doc__)
        return 2
    src = Path(argv[2])
    if argv[1] == "to-py":
        src.with_suffix(".py").write_text(to_py(read(src)), encoding="utf-8")
    else:
        write_nb(to_nb(src.read_text(encoding="utf-8")), src.with_suffix(".ipynb"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
