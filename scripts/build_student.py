"""Build the student version of the kit from the solution notebooks: one command, no server.

    python scripts/build_student.py              # -> student/ (git-ignored): notebooks/, helpers/, data/, ...
    python scripts/build_student.py --out DIR    # somewhere else

What changes, and nothing else:
- in every code cell, the body between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes one line at the
  block's indentation, ``raise NotImplementedError("Exercise 2 (the forward pass): write your code here - see the
  exercise text above")``; the markers stay, so a student (and the grader) sees where their code goes;
- outputs and execution counts are cleared.
Cell ids, cell and notebook metadata, markdown and every other line are copied as they are. Each cell that holds
a solution block must say which exercise it is: cell metadata ``"course": {"exercise": "01.2", "title": "...",
"tier": 1|2|3}``; a cell holding blocks of two exercises lists them per block in ``"blocks"``.

Besides the notebooks, student/ gets what they need to run: helpers/ (the self-checks' answers stay in the private
helpers/check/_reference.py - a check needs them to judge and to stand in for an unsolved exercise), data/,
course.toml, requirements.txt, environment.yml, README.md, scripts/install.sh and scripts/ddp_sft.py (07 runs it).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
COPY = ["helpers", "data", "course.toml", "requirements.txt", "environment.yml", "README.md", "scripts/install.sh",
        "scripts/ddp_sft.py"]


class BuildError(ValueError):
    """A solution notebook the build cannot turn into a student notebook; the message says what to fix."""


def stub_line(indent: str, exercise: str, title: str) -> str:
    number = exercise.split(".", 1)[-1]
    return (f'{indent}raise NotImplementedError("Exercise {number} ({title}): write your code here - '
            f'see the exercise text above")')


def block_exercises(cell, where: str) -> list[tuple[str, str]]:
    """(exercise, title) for each solution block of ``cell``, in order, from its metadata."""
    course = cell.metadata.get("course", {})
    n_blocks = cell.source.count(BEGIN)
    if "exercise" not in course or "title" not in course:
        raise BuildError(f"{where} has {n_blocks} solution block(s) but no cell metadata course.exercise / "
                         'course.title: add "course": {"exercise": "NN.N", "title": "...", "tier": 1|2|3}')
    blocks = course.get("blocks")
    if blocks is None:
        return [(course["exercise"], course["title"])] * n_blocks
    if len(blocks) != n_blocks:
        raise BuildError(f"{where}: metadata course.blocks lists {len(blocks)} exercises for {n_blocks} solution blocks")
    return [(b["exercise"], b["title"]) for b in blocks]


def stub_source(source: str, exercises: list[tuple[str, str]], where: str) -> str:
    """``source`` with each solution block's body replaced by its stub line (markers and the rest kept)."""
    out, inside, k = [], False, 0
    for number, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise BuildError(f"{where}, line {number}: {BEGIN} inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [line, stub_line(indent, *exercises[k])]
            k += 1
        elif stripped == END:
            if not inside:
                raise BuildError(f"{where}, line {number}: {END} without a {BEGIN} before it")
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise BuildError(f"{where}: {BEGIN} without an {END}")
    return "\n".join(out)


def student_notebook(nb, name: str):
    """A copy of ``nb`` with every solution body stubbed and every output cleared."""
    nb = nbformat.from_dict(nb)  # a deep copy
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index} (id {cell.get('id')})"
        if cell.cell_type != "code":
            if BEGIN in cell.source and cell.cell_type != "markdown":
                raise BuildError(f"{where}: a solution block outside a code cell")
            continue
        if BEGIN in cell.source or END in cell.source:
            cell.source = stub_source(cell.source, block_exercises(cell, where), where)
        cell.outputs = []
        cell.execution_count = None
    return nb


def build(out: Path, notebooks: Path = ROOT / "notebooks") -> dict[str, int]:
    """Write the student kit to ``out`` (replaced if it exists); returns {notebook: stubs written}."""
    out = out.resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise BuildError(f"refusing to replace {out}: it holds the repository")
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for item in COPY:
        src, dst = ROOT / item, out / item
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        else:
            shutil.copy2(src, dst)
    counts = {}
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        student = student_notebook(nb, path.name)
        nbformat.validate(student)
        (out / "notebooks" / path.name).write_text(nbformat.writes(student, version=4) + "\n", encoding="utf-8")
        counts[path.name] = sum(len(re.findall(r"raise NotImplementedError\(\"Exercise ", c.source))
                                for c in student.cells if c.cell_type == "code")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    try:
        counts = build(args.out)
    except BuildError as err:
        print(f"build_student: {err}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{n:3d} exercise stub(s)  {name}")
    print(f"student kit: {args.out} ({sum(counts.values())} stubs in {len(counts)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
