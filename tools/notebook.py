"""The kit's notebook conventions, in one place: every script and test that reads or writes a kit notebook goes
through this module (none parses a marker, a tag or a metadata key on its own).

- **Files**: the lessons are ``notebooks/NN_*.ipynb`` (``lesson_paths``), read with ``read`` and written with
  ``write`` (slide metadata set by the rule, validated, one trailing newline - the committed format).
- **First cells** (``scripts/teachers/sync_notebooks.py`` generates them): cell 0 holds ``BADGES_MARK`` (the title, goal and
  links; everything after ``LINKS_MARK`` is links and notes); cell 1 is the setup cell, whose first or second line
  starts with ``SETUP_MARK`` (``is_setup_cell``).
- **The config cell**: the one code cell tagged ``CONFIG_TAG`` (``"parameters"``, papermill's name; ``config_cell``).
  A run can shrink its knobs without editing the lesson: ``override_source`` (``override_config`` on a notebook)
  assigns a knob again right after its own line, ``NAME = value  # <mark>`` (the rehearsal's full profile, the
  student test's quick run).
- **Exercises**: a code cell holding solution blocks, ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
  (``solution_blocks``), names its exercise in cell metadata ``"course": {"exercise": "NN.N", "title": ..., "tier":
  1|2|3}`` - a cell with blocks of several exercises lists them per block in ``"blocks"`` (``block_exercises``;
  ``cell_exercises``: each exercise once, with its tier).
  ``"answer_needs": [names]`` lists the other notebook definitions the answer calls (``answer_needs``).
- **Definitions**: the names a code cell defines at top level (``defined_names``), and the cell reduced to its
  imports and definitions (``definitions_only``): what tests and the generated answers run from a notebook.
- **The run environment**: the quick profile, offline and quiet (``QUICK_ENV``, ``set_run_env``), the same for the
  tests, the slides and the grader's sandbox.
- **Slide marks**: each cell's ``metadata.slideshow.slide_type`` follows the rule of ``slide_types`` (``mark``).

Standard library and nbformat only: importing it needs neither torch nor the kit's helpers.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

# The repository root for tools and scripts: helpers.env.REPO_ROOT names the same folder for helpers, notebooks and
# tests (tests/test_imports.py checks it), but importing helpers would import torch, and helpers may not import tools.
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
# Kit paths that no notebook, helper or check reads: the maintainers' text data/ is generated from (make_data.py,
# pretrain_micro.py). The student repository (build_student.py) and the grader's sandbox (grade.py) leave them out.
MAINTAINER_ONLY = ("data/source",)

BADGES_MARK = "<!-- course:badges -->"
LINKS_MARK = "<!-- course:links -->"      # cell 0: links and notes follow it (slides leave them out)
SETUP_MARK = "# course:setup-cell"
CONFIG_TAG = "parameters"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
LONG_CELL = 20                            # non-blank lines: longer code cells are plumbing on a slide


# --- the environment a lesson runs in -------------------------------------------------------------------------
# The quick profile, offline (no Hugging Face Hub at all), quiet: what the tests' kernels (conftest.py), the slides'
# execution (build_slides.py), the grader's sandbox (grade.py) and the rehearsal (rehearse.py) share. The tests and
# the slides apply it with set_run_env (which also forces INLINE_FIGURES); the sandbox adds its own PATH, LANG, Agg
# figures and Python flags; the rehearsal keeps the offline switches in the full profile too.
QUICK_ENV = {"COURSE_PROFILE": "quick", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
             "TOKENIZERS_PARALLELISM": "false", "TRL_EXPERIMENTAL_SILENCE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
OFFLINE = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")      # forced in the quick profile, left alone in the full one
INLINE_FIGURES = "module://matplotlib_inline.backend_inline"   # figures as in Jupyter (an inherited Agg hides them)


def set_run_env(environ) -> None:
    """Give ``environ`` (``os.environ``: the kernels started after inherit it) the lesson environment: ``QUICK_ENV``'s
    values as defaults (COURSE_PROFILE=full is kept), the ``OFFLINE`` switches forced on when the profile is quick,
    and inline figures forced: it sets only keys of ``QUICK_ENV`` and ``MPLBACKEND``."""
    for key, value in QUICK_ENV.items():
        if key not in OFFLINE:
            environ.setdefault(key, value)
    if environ["COURSE_PROFILE"] == "quick":
        environ.update({key: QUICK_ENV[key] for key in OFFLINE})
    environ["MPLBACKEND"] = INLINE_FIGURES


class ConventionError(ValueError):
    """A notebook that breaks one of the kit's conventions; the message says which cell and what to fix."""


# --- files ---------------------------------------------------------------------------------------------------

def lesson_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The lesson notebooks of ``folder``, in order (``NN_*.ipynb``)."""
    return sorted(Path(folder).glob(LESSON_GLOB))


def read(path):
    return nbformat.read(path, as_version=4)


def write(nb, path, *, mark_slides: bool = True) -> None:
    """Write ``nb`` as the kit commits notebooks: slide metadata by the rule (``mark``), validated, one newline."""
    if mark_slides:
        mark(nb)
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")


def course_meta(obj) -> dict:
    """``metadata["course"]`` of a notebook or a cell ({} when absent)."""
    return obj.metadata.get("course", {}) or {}


# --- first cells, config cell --------------------------------------------------------------------------------

def is_badges_cell(cell) -> bool:
    return cell.cell_type == "markdown" and BADGES_MARK in cell.source


def is_setup_cell(cell) -> bool:
    """The generated setup cell: its marker opens the first or second line (after a Colab ``# @title``)."""
    return cell.cell_type == "code" and any(line.startswith(SETUP_MARK)
                                            for line in cell.source.lstrip().splitlines()[:2])


def mentions_setup(source: str) -> bool:
    """Whether a code cell's source holds the setup cell's marker anywhere (the loose test hand-ins get)."""
    return SETUP_MARK in source


def is_config_cell(cell) -> bool:
    return cell.cell_type == "code" and CONFIG_TAG in cell.metadata.get("tags", [])


def config_cells(nb) -> list:
    return [c for c in nb.cells if is_config_cell(c)]


def config_cell(nb, name: str = "notebook"):
    """The notebook's one config cell; ConventionError (saying how to tag it) unless there is exactly one."""
    cells = config_cells(nb)
    if len(cells) != 1:
        raise ConventionError(f"{name}: expected one code cell tagged '{CONFIG_TAG}' (the config cell), found "
                              f"{len(cells)}. Tag it in the cell's metadata, or with nbtool: "
                              f"'# %% tags=[\"{CONFIG_TAG}\"]'.")
    return cells[0]


def override_source(source: str, overrides: dict[str, str], mark: str) -> tuple[str, list[str]]:
    """``source`` with ``NAME = value  <mark>`` inserted after each top-level assignment to an overridden NAME
    (``value`` is Python source), so that the lines after it - derived values, checks - use the new value; returns
    (new source, names in ``overrides`` that the source never assigns, sorted)."""
    lines = source.splitlines()
    inserts: dict[int, list[str]] = {}
    found = set()
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for target in targets for t in ast.walk(target)     # X = ..., X, Y = ...; not X[k] = ...
                 if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)]
        for name in names:
            if name in overrides:
                inserts.setdefault(node.end_lineno, []).append(f"{name} = {overrides[name]}  {mark}")
                found.add(name)
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        out.extend(inserts.get(number, []))
    return "\n".join(out) + source[len(source.rstrip("\n")):], sorted(set(overrides) - found)


def override_config(nb, overrides: dict[str, str], mark: str, name: str = "notebook") -> list[str]:
    """Apply ``override_source`` to the notebook's config cell, in place; returns the names it does not assign."""
    cell = config_cell(nb, name)
    cell.source, missing = override_source(cell.source, overrides, mark)
    return missing


# --- exercises -----------------------------------------------------------------------------------------------

def has_solution(cell) -> bool:
    return BEGIN in cell.source


def is_exercise_cell(cell) -> bool:
    """A code cell that is (part of) an exercise: exercise metadata, or a solution block."""
    return cell.cell_type == "code" and ("exercise" in course_meta(cell) or has_solution(cell))


def solution_blocks(source: str, where: str = "cell") -> list[tuple[int, int, str]]:
    """(line of BEGIN, line of END, indentation) of each solution block, 0-based lines of ``source.split("\\n")``;
    ConventionError for a nested, unclosed or unopened block."""
    blocks, start, indent = [], None, ""
    for number, line in enumerate(source.split("\n")):
        stripped = line.strip()
        if stripped == BEGIN:
            if start is not None:
                raise ConventionError(f"{where}, line {number + 1}: {BEGIN} inside another solution block")
            start, indent = number, line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if start is None:
                raise ConventionError(f"{where}, line {number + 1}: {END} without a {BEGIN} before it")
            blocks.append((start, number, indent))
            start = None
    if start is not None:
        raise ConventionError(f"{where}: {BEGIN} without an {END}")
    return blocks


def block_exercises(cell, where: str = "cell") -> list[tuple[str, str]]:
    """(exercise, title) for each solution block of ``cell``, in order, from its metadata."""
    course = course_meta(cell)
    n_blocks = cell.source.count(BEGIN)
    if "exercise" not in course or "title" not in course:
        raise ConventionError(f"{where} has {n_blocks} solution block(s) but no cell metadata course.exercise / "
                              'course.title: add "course": {"exercise": "NN.N", "title": "...", "tier": 1|2|3}')
    blocks = course.get("blocks")
    if blocks is None:
        return [(course["exercise"], course["title"])] * n_blocks
    if len(blocks) != n_blocks:
        raise ConventionError(f"{where}: metadata course.blocks lists {len(blocks)} exercises for {n_blocks} "
                              "solution blocks")
    return [(b["exercise"], b["title"]) for b in blocks]


def cell_exercises(cell, where: str = "cell") -> list[tuple[str, str, object]]:
    """Each exercise a code cell holds, once, in order: (exercise, title, tier as the metadata gives it - a block's
    own, else the cell's). A cell with exercise metadata and no solution block holds its one exercise."""
    course = course_meta(cell)
    if BEGIN not in cell.source and "exercise" in course:
        return [(str(course["exercise"]), str(course.get("title", "")), course.get("tier"))]
    pairs = block_exercises(cell, where)
    tiers = {str(b["exercise"]): b.get("tier", course.get("tier")) for b in course.get("blocks") or [course]}
    return [(str(e), str(t), tiers[str(e)]) for e, t in dict.fromkeys(pairs)]


def replace_solutions(source: str, replacement, where: str = "cell") -> str:
    """``source`` with each solution block's body replaced by ``replacement(k, indent)`` (a list of lines) for the
    k-th block; the markers and every other line kept."""
    lines = source.split("\n")
    blocks = solution_blocks(source, where)
    out, last = [], 0
    for k, (begin, end, indent) in enumerate(blocks):
        out += lines[last:begin + 1] + list(replacement(k, indent))
        last = end
    return "\n".join(out + lines[last:])


# grade.py's grades.csv: one row per exercise of a hand-in (export_grades.py reads it back)
GRADE_COLUMNS = ("student", "notebook", "exercise", "title", "tier", "status", "message")


def exercise_cells(nb) -> list:
    """The code cells that hold solution blocks, in order."""
    return [c for c in nb.cells if c.cell_type == "code" and has_solution(c)]


def answer_needs(cell) -> list[str]:
    """Other notebook definitions an exercise's answer calls (cell metadata ``course.answer_needs``)."""
    return list(course_meta(cell).get("answer_needs", []))


# --- definitions ---------------------------------------------------------------------------------------------

def defined_names(source: str) -> set[str]:
    """Names a code cell defines at top level: def/class, assignments to plain names, ``from ... import``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cell magics and the like
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom):  # a lesson function that moved to helpers, imported back by name
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def is_self_check(node) -> bool:
    """An assignment from a self-check, ``name = helpers.check.<check>(name, ...)``."""
    value = getattr(node, "value", None)
    return (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call)
            and ast.unparse(value.func).startswith("helpers.check."))


def definitions_only(source: str, names: set[str]) -> ast.Module:
    """The cell's imports, function/class definitions, and assignments to ``names`` - nothing else (an exercise
    cell defines a function, then calls its self-check: the call is left out)."""
    keep = []
    for node in ast.parse(source).body:
        if is_self_check(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            keep.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                keep.append(node)
    return ast.Module(body=keep, type_ignores=[])


# --- slide marks ---------------------------------------------------------------------------------------------
# skip      cell 0 if it holds only links, the setup cell, the config cell, exercise solutions, and long plumbing
#           (a code cell over LONG_CELL non-blank lines that neither prints nor draws nor ends in an expression)
# slide     the title ("# ") and each section ("## ")
# subslide  each "### " heading, and each other markdown cell that follows a code cell
# fragment  every kept code cell
# -         a markdown cell that follows another markdown cell

def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def shows_something(source: str) -> bool:
    """Whether a code cell prints, draws, displays, or ends in an expression (whose value Jupyter shows)."""
    if re.search(r"\b(print|display|plt\.\w+|\w+\.plot|\w+\.show)\s*\(", source):
        return True
    try:
        body = ast.parse(source).body
    except SyntaxError:                           # IPython magics and the like: keep the cell, to be safe
        return True
    return bool(body) and isinstance(body[-1], ast.Expr)


def skip_reason(cell) -> str | None:
    """Why a cell is left out of the slides (None: it is shown)."""
    source = cell.source
    if cell.cell_type == "markdown":
        if BADGES_MARK in source and not re.search(r"^# ", source, re.M):
            return "badges"                       # links only; with the lesson's title it is the title slide
        return None
    if cell.cell_type != "code":
        return "raw cell"
    if is_setup_cell(cell):
        return "setup cell"
    if is_config_cell(cell):
        return "config cell"
    if has_solution(cell):
        return "exercise solution"
    if code_lines(source) > LONG_CELL and not shows_something(source):
        return "long plumbing"
    return None


def slide_types(cells) -> list[str]:
    """The slide_type of each cell, by the rule above (from sources and tags only)."""
    types, previous = [], None                    # previous: the cell type of the last shown cell
    for cell in cells:
        if skip_reason(cell):
            types.append("skip")
            continue
        if cell.cell_type == "code":
            kind = "fragment"
        else:
            first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
            if previous is None or re.match(r"#{1,2} ", first):
                kind = "slide"
            elif first.startswith("### ") or previous == "code":
                kind = "subslide"
            else:
                kind = "-"
        types.append(kind)
        previous = cell.cell_type
    return types


def mark(nb) -> bool:
    """Set every cell's metadata.slideshow.slide_type by the rule; True if anything changed. Idempotent."""
    changed = False
    for cell, kind in zip(nb.cells, slide_types(nb.cells)):
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed = True
    return changed


def count_slides(nb) -> dict[str, int]:
    """Slides (columns) and subslides a deck of this notebook has, from its marked metadata."""
    kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    return {"slides": kinds.count("slide"), "subslides": kinds.count("subslide")}


def full_profile_model_ids(source: str) -> list[str]:
    """The strings a config cell assigns to ``*_ID`` / ``*_MODEL`` names in the full profile: ``X_ID = "a/b"``
    or ``X_ID = profile.pick(full="a/b", quick=...)``."""
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign) or not any(
                isinstance(t, ast.Name) and re.fullmatch(r"\w*_(ID|MODEL)", t.id) for t in node.targets):
            continue
        value = node.value
        if isinstance(value, ast.Call):
            value = next((k.value for k in value.keywords if k.arg == "full"), None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append(value.value)
    return found
