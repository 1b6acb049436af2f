"""Convert notebooks to and from a plain-text "percent" script, for editing and reviewing in any editor.

    python scripts/nbtool.py to-py notebooks/01_lora-from-scratch.ipynb   # -> 01_lora-from-scratch.py beside it
    python scripts/nbtool.py to-nb notebooks/01_lora-from-scratch.py      # -> .ipynb, outputs empty

Format: a line "# %%" starts a code cell, "# %% [markdown]" a markdown cell whose lines start with "# ".
A code cell's tags ride on its marker line: "# %% tags=["parameters"]" (the config cell the rehearsal overrides).
Notebook metadata (the README row of the notebook) is kept in a leading "# %% [metadata]" JSON block.
The .ipynb is what is committed; the .py is a scratch copy (ignored by git).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

CODE, MARKDOWN, META = "# %%", "# %% [markdown]", "# %% [metadata]"


def to_py(nb) -> str:
    parts = [META + "\n" + "\n".join("# " + line for line in json.dumps(nb.metadata.get("course", {}), indent=1).splitlines())]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(MARKDOWN + "\n" + "\n".join(("# " + line).rstrip() for line in cell.source.splitlines()))
        else:
            tags = cell.metadata.get("tags", [])
            parts.append(CODE + (f" tags={json.dumps(tags)}" if tags else "") + "\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def to_nb(text: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    blocks, current = [], None
    for line in text.splitlines():
        if line.strip() in (CODE, MARKDOWN, META) or line.startswith(CODE + " tags="):
            current = [line.strip(), []]
            blocks.append(current)
        elif current is not None:
            current[1].append(line)
    for kind, lines in blocks:
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == META:
            nb.metadata["course"] = json.loads("\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines) or "{}")
        elif kind == MARKDOWN:
            nb.cells.append(nbformat.v4.new_markdown_cell("\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)))
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            if kind.startswith(CODE + " tags="):
                cell.metadata["tags"] = json.loads(kind[len(CODE + " tags="):])
            nb.cells.append(cell)
    lesson_cells = 0
    for cell in nb.cells:   # stable ids keep diffs small; the generated first cells keep sync_notebooks' ids
        if "<!-- course:badges -->" in cell.source or "# course:setup-cell" in cell.source:
            cell["id"] = "course-0" if cell.cell_type == "markdown" else "course-1"
        else:
            cell["id"] = f"cell-{lesson_cells:03d}"
            lesson_cells += 1
    return nb


def write_nb(nb, path: Path):
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")


def main(argv) -> int:
    if len(argv) != 3 or argv[1] not in ("to-py", "to-nb"):
        print(__doc__)
        return 2
    src = Path(argv[2])
    if argv[1] == "to-py":
        src.with_suffix(".py").write_text(to_py(nbformat.read(src, as_version=4)), encoding="utf-8")
    else:
        write_nb(to_nb(src.read_text(encoding="utf-8")), src.with_suffix(".ipynb"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
