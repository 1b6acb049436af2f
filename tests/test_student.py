"""The student build (scripts/teachers/build_student.py): what it changes, that it leaks no answer, that its notebooks run.

- the build: one stub per solution block, outputs cleared, cell ids and metadata kept, nothing but solution
  bodies changed (cell by cell); every solution cell names its exercise, with a tier that matches its text;
- no leaks: no distinctive line of a solution (a non-trivial statement that is not also given code) appears in the
  student notebooks or anywhere in helpers/ except the private helpers/check/_reference.py (docstrings and hints
  included);
- the student notebooks run: each is executed (quick profile, allow errors, checks NOT strict - as a student's
  Jupyter runs it) and fails only at its exercises: every self-check prints its own FAIL line, and no other cell
  raises. Two kernels at a time; 03 -> 04 -> 05 -> 06 in one lane, because the later ones reuse 03-05's adapters
  and runs. Shorter than a student's run: ``QUICK_OVERRIDES`` shrinks step counts, timing repeats and sample counts
  through the config cell (as the rehearsal does) - every cell still runs, which is all this test proves.
- strict mode: in the suite, a FAIL raises - a solution notebook whose exercise broke fails at its check.
- the repository to hand out (``--repo OWNER/NAME``): every link and the setup cell's clone point at it and nothing
  names the solution repository; it holds what the notebooks use and no teacher file; its README is for students;
  and on a fresh runtime its setup cell clones it (a local git repository, through the cell's own code) and 00 runs
  from that clone.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import tomllib
import sys
import time
from pathlib import Path

import nbformat
import pytest

from scripts.teachers import build_student
from scripts.maintainers import nbtool
from tools import notebook

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BEGIN, END = build_student.BEGIN, build_student.END
STUB = re.compile(r'raise NotImplementedError\("Exercise (\d+) \((.+?)\): write your code here - see the exercise text above"\)')
CHECK_CALL = re.compile(r"helpers\.check\.(?!learned\b)(\w+)\(")
LANES = [["03", "04", "05", "06"], ["01", "02", "00", "07"]]   # 04-06 reuse 03's adapter: one after the other


@pytest.fixture(scope="session")
def student_kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "student"
    counts = build_student.build(out)
    return out, counts


def read(path):
    return nbformat.read(path, as_version=4)


def split_blocks(source: str) -> tuple[list[str], list[list[str]]]:
    """(lines outside solution bodies, markers included; the body lines of each block)."""
    outside, bodies, inside = [], [], False
    for line in source.split("\n"):
        if line.strip() == BEGIN:
            inside = True
            bodies.append([])
            outside.append(line)
        elif line.strip() == END:
            inside = False
            outside.append(line)
        elif inside:
            bodies[-1].append(line)
        else:
            outside.append(line)
    return outside, bodies


def exercise_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and BEGIN in c.source]


# --- the build ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_build_changes_only_solution_bodies(student_kit, path):
    out, counts = student_kit
    solution, student = read(path), read(out / "notebooks" / path.name)
    assert [c.id for c in student.cells] == [c.id for c in solution.cells]
    assert student.metadata == solution.metadata
    blocks = 0
    for sol, stu in zip(solution.cells, student.cells):
        assert (stu.cell_type, stu.metadata) == (sol.cell_type, sol.metadata), sol.id
        if stu.cell_type == "code":
            assert stu.outputs == [] and stu.execution_count is None, sol.id
        if BEGIN not in sol.source:
            assert stu.source == sol.source, f"{path.name} {sol.id}: a cell without a solution block changed"
            continue
        sol_outside, sol_bodies = split_blocks(sol.source)
        stu_outside, stu_bodies = split_blocks(stu.source)
        assert stu_outside == sol_outside, f"{path.name} {sol.id}: lines outside the solution blocks changed"
        course = sol.metadata["course"]
        wanted = [(b["exercise"], b["title"]) for b in course["blocks"]] if "blocks" in course \
            else [(course["exercise"], course["title"])] * len(sol_bodies)
        for body, solved, (exercise, title) in zip(stu_bodies, sol_bodies, wanted):
            indent = min((len(l) - len(l.lstrip()) for l in solved if l.strip()), default=0)
            assert body == [" " * indent + f'raise NotImplementedError("Exercise {exercise.split(".")[1]} ({title}): '
                            'write your code here - see the exercise text above")'], f"{path.name} {sol.id}"
        blocks += len(sol_bodies)
    assert blocks > 0 and counts[path.name] == blocks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_cell_names_its_exercise_and_tier(path):
    """README: ⭐ run and read, ⭐⭐ write a function, ⭐⭐⭐ stretch - so code to write is never ⭐, and the stars
    in the exercise's own text are the tier in its metadata."""
    nb = read(path)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for cell in exercise_cells(nb):
        course = cell.metadata.get("course", {})
        assert {"exercise", "title", "tier"} <= set(course), f"{path.name} {cell.id}: metadata {course}"
        assert course["exercise"].startswith(path.name[:2] + ".") and course["tier"] in (2, 3), course
        for exercise in [course["exercise"]] + [b["exercise"] for b in course.get("blocks", [])]:
            number = exercise.split(".")[1]
            stars = re.findall(rf"(⭐+) Exercise {number}\b", text)
            assert stars and {len(s) for s in stars} == {course["tier"]}, \
                f"{path.name}: Exercise {number} is marked {stars} in the text, tier {course['tier']} in metadata"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbtool_round_trip_keeps_cell_metadata(path):
    """Editing through scripts/maintainers/nbtool.py (to-py, to-nb) must not drop the exercise metadata the build needs."""
    nb = read(path)
    back = nbtool.to_nb(nbtool.to_py(nb))
    assert [(c.cell_type, c.metadata) for c in back.cells] == [(c.cell_type, c.metadata) for c in nb.cells]


def test_build_refuses_a_solution_cell_without_metadata():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(f"def f():\n    {BEGIN}\n    return 1\n    {END}\n"))
    with pytest.raises(build_student.BuildError, match="course.exercise"):
        build_student.student_notebook(nb, "x.ipynb")
    nb.cells[0].metadata["course"] = {"exercise": "09.1", "title": "one", "tier": 2}
    nb.cells[0].source = f"def f():\n    {BEGIN}\n    return 1\n"
    with pytest.raises(build_student.BuildError, match="without an"):
        build_student.student_notebook(nb, "x.ipynb")


# --- no leaks ----------------------------------------------------------------------------------------------------

def normal(line: str) -> str:
    """A line without its trailing comment and with single spaces."""
    return " ".join(line.split())


def code_lines(source: str) -> list[str]:
    """The normalised lines of Python source, comments removed (by the tokenizer, so '#' in strings stays)."""
    import io
    import tokenize

    def uncommented(line):
        try:
            for tok in tokenize.generate_tokens(io.StringIO(line.strip()).readline):
                if tok.type == tokenize.COMMENT:
                    return line.strip()[:tok.start[1]]
        except (tokenize.TokenError, IndentationError, SyntaxError):   # a line inside a bracket or a string
            return re.sub(r"\s+#[^'\"]*$", "", line)
        return line

    return [normal(uncommented(l)) for l in source.split("\n")]


def given_code() -> set[str]:
    """Every line of code the solution notebooks show outside solution blocks (the lesson's own code)."""
    given = set()
    for path in NOTEBOOKS:
        for cell in read(path).cells:
            if cell.cell_type == "code":
                given |= set(code_lines("\n".join(split_blocks(cell.source)[0])))
    return given


def distinctive_lines(nb, given: set[str]) -> dict[str, str]:
    """{line: exercise} for the solution lines worth hiding: 20+ characters, and not code some notebook shows
    openly (05 computes per-token log-probabilities in the open, as its own lesson, after 04's exercise)."""
    found = {}
    for cell in exercise_cells(nb):
        for body in split_blocks(cell.source)[1]:
            for n in code_lines("\n".join(l.strip() for l in body)):
                if len(n) >= 20 and n not in given:
                    found[n] = cell.metadata["course"]["exercise"]
    return found


def public_helpers_text() -> dict[str, str]:
    private = ROOT / "helpers" / "check" / "_reference.py"
    return {str(p.relative_to(ROOT)): "\n".join(normal(l) for l in p.read_text(encoding="utf-8").splitlines())
            for p in sorted((ROOT / "helpers").rglob("*.py")) if p != private}


def test_no_solution_line_in_the_student_notebooks_or_in_helpers(student_kit):
    out, _ = student_kit
    places = public_helpers_text()
    for path in NOTEBOOKS:
        student = read(out / "notebooks" / path.name)
        places[f"student/notebooks/{path.name}"] = "\n".join(normal(l) for c in student.cells
                                                             for l in c.source.splitlines())
    needles, given = {}, given_code()
    for path in NOTEBOOKS:
        needles.update(distinctive_lines(read(path), given))
    assert len(needles) > 60                      # the solutions really were read
    found = leaks(needles, places)
    assert not found, "solution lines outside helpers/check/_reference.py:\n" + "\n".join(found)


def leaks(needles: dict[str, str], places: dict[str, str]) -> list[str]:
    def found(line, text):           # the whole statement, not the start of a longer one (`x[:, 1:].sum()`)
        return re.search(re.escape(line) + r"(?![\w.\[(])", text)

    return [f"{where}: {line!r} (exercise {exercise})" for line, exercise in needles.items()
            for where, text in places.items() if found(line, text)]


def test_the_leak_test_can_fail():
    """A solution line in a hint string or a docstring (the old 03 hint did exactly this) is found."""
    needles = distinctive_lines(read(ROOT / "notebooks" / "03_sft.ipynb"), given_code())
    line = next(n for n in needles if "-100" in n)
    hint = f'    hint = ("tokenize both; {line}")'
    assert leaks(needles, {"helpers/check/fake.py": normal(hint)}) == [f"helpers/check/fake.py: {line!r} (exercise 03.2)"]
    assert leaks(needles, {"helpers/check/fake.py": normal('hint = ("labels hide the prompt")')}) == []


def test_the_answers_are_not_exported():
    import helpers

    assert not hasattr(helpers, "split_dialogue")
    for name in dir(helpers.check):
        obj = getattr(helpers.check, name)
        assert getattr(obj, "__module__", "") != "helpers.check._reference", name
    header = (ROOT / "helpers" / "check" / "_reference.py").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"""THE ANSWERS.')


# --- the student notebooks run -------------------------------------------------------------------------------------

# Knobs this test runs smaller (Python source, assigned again right after the knob's own line in the config cell,
# marked QUICK_MARK). Only what repeats the same code more often: steps, timing repeats, samples. A knob stays as it
# is where a cell asserts something the smaller size would not show: 03 (the SFT run must make more answers stop with
# EOS - its steps, prompts and answer lengths), 02's timed sizes (a timing assert needs some repeats), 06's
# bootstrap (a coverage assert). 00 and 07 run as they are: their time is loading (07: three processes that each
# import the stack; 2 steps instead of 6 saved no CPU time). Each comment gives the quick profile's own value.
QUICK_MARK = "# quick student-test override"
QUICK_OVERRIDES = {
    "01_lora-from-scratch": {"MAX_STEPS": "20",        # 40: the loss falls within 20 (two runs of it)
                             "TIMING_PAIRS": "10",     # 30 back-to-back pairs per shape
                             "MERGE_REPEATS": "5"},    # 15 timed forward passes
    "02_what-lora-saves": {"WARMUP": "1", "REPEATS": "3"},    # 2 warm-up, 7 timed calls per configuration
    "04_dpo": {"MAX_STEPS": "10", "EVAL_STEPS": "5",   # 20 steps, an evaluation every 10
               "SWEEP_STEPS": "4"},                    # 8 steps per beta of exercise 3
    "05_orpo": {"MAX_STEPS": "14", "EVAL_STEPS": "7",  # 28 steps (as many sequences as 03 + 04), evaluated every 14
                "MAX_NEW_TOKENS": "64",                # 128 tokens per answer
                "SWEEP_STEPS": "2"},                   # 4 steps per lambda of exercise 3
    "06_evaluation": {"GEN_PROMPTS": "6", "MAX_NEW_TOKENS": "32",          # 12 prompts, 64 tokens per answer
                      "DIVERSITY_PROMPTS": "4", "DIVERSITY_SAMPLES": "3"},  # 12 prompts x 5 samples
}


def quick_run_notebook(path):
    """The student notebook at ``path`` with QUICK_OVERRIDES applied to its config cell."""
    nb = read(path)
    missing = notebook.override_config(nb, QUICK_OVERRIDES.get(path.stem, {}), QUICK_MARK, path.name)
    assert not missing, f"{path.name}'s config cell assigns no {missing}: update QUICK_OVERRIDES"
    return nb


def test_every_quick_override_names_a_knob_of_its_config_cell():
    assert set(QUICK_OVERRIDES) <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        quick_run_notebook(path)           # asserts that its config cell assigns every knob it overrides


async def _run_lane(paths, results, kernel_env):
    from nbclient import NotebookClient

    for path in paths:
        nb = quick_run_notebook(path)
        start = time.perf_counter()
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        await client.async_execute(env=kernel_env)
        results[path.name] = (nb, time.perf_counter() - start)


@pytest.fixture(scope="session")
def executed_student_notebooks(student_kit, tmp_path_factory, request):
    out, _ = student_kit
    wanted = {item.callspec.params["path"].name for item in request.session.items      # -k picks a few: run those
              if getattr(item, "originalname", "") == "test_student_notebook_fails_only_at_its_exercises"}
    env = {k: v for k, v in os.environ.items() if k != "COURSE_STRICT_CHECKS"}   # as a student runs it
    env["COURSE_OUTPUT_DIR"] = str(tmp_path_factory.mktemp("student-outputs"))
    by_number = {p.name[:2]: out / "notebooks" / p.name for p in NOTEBOOKS if p.name in wanted}
    lanes = [[by_number.pop(n) for n in lane if n in by_number] for lane in LANES]
    lanes[-1] += list(by_number.values())        # a notebook added later runs too
    results = {}
    start = time.perf_counter()

    async def main():
        await asyncio.gather(*(_run_lane(lane, results, env) for lane in lanes))

    asyncio.run(main())
    total = time.perf_counter() - start
    print("\nstudent notebooks executed: " + ", ".join(f"{n} {s:.0f} s" for n, (_, s) in sorted(results.items()))
          + f"; {total:.0f} s wall for all")
    return results


def _cell_report(cell):
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
    fails = [line.split(":")[0][len("FAIL "):] for line in text.splitlines() if line.startswith("FAIL ")]
    return text, errors, fails


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_notebook_fails_only_at_its_exercises(executed_student_notebooks, path):
    nb, _ = executed_student_notebooks[path.name]
    assert_fails_only_at_its_exercises(nb, path)


def assert_fails_only_at_its_exercises(nb, path):
    called = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text, errors, fails = _cell_report(cell)
        checks = set(CHECK_CALL.findall(cell.source))
        called |= checks
        numbers = {m.group(1) for m in STUB.finditer(cell.source)}
        for ename, evalue in errors:            # only an exercise's own stub may raise, naming its exercise
            assert ename == "NotImplementedError" and any(f"Exercise {n} " in evalue for n in numbers), \
                f"{path.name} {cell.id} raised {ename}: {evalue[:300]}"
        assert set(fails) == checks, f"{path.name} {cell.id}: FAIL lines {fails}, checks called {sorted(checks)}"
        if checks:
            assert text.count("this exercise is NOT solved") == len(checks), f"{path.name} {cell.id}"
    assert called, f"{path.name} calls no self-check"


def test_a_student_notebook_that_raises_outside_its_stubs_fails():
    """The run above proves something only if an error anywhere else fails it - e.g. a knob of QUICK_OVERRIDES
    made too small for an assert of the lesson. Executed cells as nbclient leaves them (allow_errors)."""
    stub = ('def f():\n    ### BEGIN SOLUTION\n    raise NotImplementedError("Exercise 1 (f): write your code here - '
            'see the exercise text above")\n    ### END SOLUTION\nf = helpers.check.f(f)')
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(stub, outputs=[nbformat.v4.new_output(
                    "stream", name="stdout", text="FAIL f: this exercise is NOT solved\n")]),
                nbformat.v4.new_code_cell("assert SAVE_STEPS <= DISCONNECT_AT < MAX_STEPS")]
    assert_fails_only_at_its_exercises(nb, Path("x.ipynb"))          # the stub's FAIL alone: passes
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[])]
    with pytest.raises(AssertionError, match="x.ipynb .* raised AssertionError"):
        assert_fails_only_at_its_exercises(nb, Path("x.ipynb"))
    nb.cells[1].outputs = []
    nb.cells[0].outputs += [nbformat.v4.new_output("error", ename="ValueError", evalue="Exercise 1 (f)", traceback=[])]
    with pytest.raises(AssertionError, match="raised ValueError"):                  # a stub raises only its own error
        assert_fails_only_at_its_exercises(nb, Path("x.ipynb"))


def test_strict_mode_fails_a_solution_notebook_at_its_check(tmp_path):
    """What conftest's COURSE_STRICT_CHECKS=1 does to a notebook kernel: a self-check FAIL is an error in that
    cell (nbval fails the notebook there); without it the same cell prints FAIL and runs on. One kernel: it starts
    with the variable, as the suite's kernels do, and the same check runs again after a cell removes it (the check
    reads it at each call)."""
    from nbclient import NotebookClient

    check = "f = helpers.check.distinct_n(lambda texts, n: 0.5)"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(ROOT)!r}); import helpers"),
                nbformat.v4.new_code_cell(check),
                nbformat.v4.new_code_cell("import os; os.environ.pop('COURSE_STRICT_CHECKS')"),
                nbformat.v4.new_code_cell(check)]
    env = dict(os.environ, COURSE_STRICT_CHECKS="1")
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    asyncio.run(client.async_execute(env=env))
    assert _cell_report(nb.cells[2])[1] == []
    for cell, strict in ((nb.cells[1], True), (nb.cells[3], False)):
        text, errors, fails = _cell_report(cell)
        assert fails == ["distinct_n"]
        if strict:
            assert [e for e, _ in errors] == ["SelfCheckError"]
        else:
            assert errors == [] and "using the reference distinct_n" in text



# --- the repository to hand out (--repo OWNER/NAME) ----------------------------------------------------------------

STUDENT_REPO = "my-school/llm-course-2027"
KIT_REPO = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))["repo"]
TEACHER_ONLY = ["TEACHING.md", "tests", "grading", "conftest.py", "pytest.ini", "scripts/teachers/grade.py",
                "scripts/teachers/build_student.py", "scripts/teachers/build_slides.py", "scripts/teachers/export_grades.py",
                "scripts/ci/rehearse.py", "scripts/teachers/student_README.md", ".ci"]


@pytest.fixture(scope="session")
def student_repo(tmp_path_factory):
    out = tmp_path_factory.mktemp("repo") / "llm-course-2027"
    build_student.build(out, repo=STUDENT_REPO)
    return out


def _text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".md", ".ipynb", ".py", ".toml", ".txt", ".yml", ".sh", ".json", ""}:
            yield path, path.read_text(encoding="utf-8", errors="replace")


def test_every_link_and_the_clone_point_at_the_student_repository(student_repo, student_kit):
    plain, _ = student_kit
    named = {str(p.relative_to(student_repo)) for p, text in _text_files(student_repo) if KIT_REPO in text}
    assert named == set(), f"files that still name the solution repository {KIT_REPO}: {sorted(named)}"
    for path in NOTEBOOKS:
        nb, before = read(student_repo / "notebooks" / path.name), read(plain / "notebooks" / path.name)
        badges, setup = nb.cells[0].source, nb.cells[1].source
        assert f"colab.research.google.com/github/{STUDENT_REPO}/blob/main/notebooks/{path.name}" in badges
        assert f"kaggle.com/kernels/welcome?src=https://github.com/{STUDENT_REPO}/blob/main/notebooks/{path.name}" in badges
        assert f'REPO_URL, BRANCH, KIT_VERSION = "https://github.com/{STUDENT_REPO}", "main"' in setup
        assert "Not published yet" not in badges                       # --repo: the teacher is about to push it
        # only the generated first cells differ from the plain student build; identity and metadata stay
        assert nb.metadata == before.metadata and nb.metadata["course"] == read(path).metadata["course"]
        assert [(c.id, c.metadata) for c in nb.cells] == [(c.id, c.metadata) for c in before.cells]
        changed = [c.id for c, b in zip(nb.cells, before.cells) if c.source != b.source]
        assert set(changed) <= {before.cells[0].id, before.cells[1].id}, f"{path.name}: {changed}"
    readme = (student_repo / "README.md").read_text(encoding="utf-8")
    assert readme.count(f"https://colab.research.google.com/github/{STUDENT_REPO}/blob/main/notebooks/") == len(NOTEBOOKS)
    assert tomllib.loads((student_repo / "course.toml").read_text())["repo"] == STUDENT_REPO


def test_the_repository_holds_what_the_notebooks_use_and_no_teacher_file(student_repo):
    for item in TEACHER_ONLY:
        assert not (student_repo / item).exists(), f"{item} is teacher-only"
    assert sorted(p.name for p in (student_repo / "scripts" / "students").iterdir()) == ["ddp_sft.py", "install.sh"]
    assert (student_repo / "helpers" / "check" / "_reference.py").exists()   # the self-checks' fallbacks need it
    assert not (student_repo / "data" / "source").exists() and (student_repo / "data" / "hh_pref").is_dir()  # no sources
    assert sorted(p.name for p in (student_repo / "notebooks").iterdir()) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:                     # every kit file a notebook names (scripts/x.py, data/...) is there
        # (not the generated first cells: they tell whoever maintains the repository how to regenerate them)
        text = "\n".join(c.source for c in read(student_repo / "notebooks" / path.name).cells[2:])
        for ref in set(re.findall(r"\b((?:scripts|data|helpers)/[\w./-]*\w)", text)):
            assert (student_repo / ref).exists(), f"{path.name} names {ref}, which the student repository lacks"
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-v", "--stdin"], cwd=student_repo, text=True,
                             input="\n".join(str(p.relative_to(student_repo)) for p in student_repo.rglob("*")
                                             if p.is_file()), capture_output=True).stdout
    assert ignored == "", f"its .gitignore would leave out files it needs:\n{ignored}"


def test_the_readme_lists_what_the_student_repository_holds(student_repo):
    """README's "The student version" is the one list of the repository's contents (build_student.py points to it):
    every file the build writes is named in its bullets before "nothing a teacher keeps" (the notebooks and the
    student README in words, the rest as paths), a kit path named there is in the build - unless it is named as left
    out ("(without `data/source/`, ...)": each of MAINTAINER_ONLY is) or as where a shipped file comes from ("from `X`",
    "`X` regenerates") - and so a teacher-only file listed as shipped fails."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^### The student version\b.*?(?=^##)", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '### The student version' section"
    bullets = re.search(r"^- \*\*the notebooks\*\*.*?(?=^- \*\*nothing a teacher keeps\*\*)", section.group(0),
                        re.MULTILINE | re.DOTALL)
    assert bullets, "README's student version lists no '- **the notebooks**' ... '- **nothing a teacher keeps**' bullets"
    shipped = bullets.group(0)
    assert "a README for students" in shipped
    left_out = {name.rstrip("/") for name in re.findall(r"\(without `([^`\s]+)`", shipped)}
    listed = re.sub(r"\(without [^)]*\)", "", shipped)      # "(without `X`, the text `Y` makes it from)": X, Y stay out
    sources = set(re.findall(r"\bfrom `([^`\s]+)`", listed)) | set(re.findall(r"`([^`\s]+)` regenerates", listed))
    named = {name.rstrip("/") for name in re.findall(r"`([^`\s]+)`", listed)}
    files = [p.relative_to(student_repo).as_posix() for p in student_repo.rglob("*") if p.is_file()]
    unlisted = sorted({f for f in files if f != "README.md" and not f.startswith("notebooks/")
                       and not any(f == n or f.startswith(n + "/") for n in named)})
    assert unlisted == [], f"the student build writes files README's student-version list does not name: {unlisted}"
    for path in build_student.COPY:
        assert path in named, f"README's student-version list does not name {path}"
    for path in notebook.MAINTAINER_ONLY:
        assert path in left_out, f"README's student-version list does not say it leaves out {path} ('without `{path}/`')"
        assert not (student_repo / path).exists(), f"the student build ships {path}"
    teacher_only = sorted(name for name in named - sources
                          if (ROOT / name).exists() and not (student_repo / name).exists())
    assert teacher_only == [], f"README's student-version list names as shipped what the build leaves out: {teacher_only}"


def test_relative_links_resolve_inside_the_student_repository(student_repo):
    places = {student_repo / "README.md": (student_repo / "README.md").read_text(encoding="utf-8")}
    for path in (student_repo / "notebooks").glob("*.ipynb"):
        places[path] = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    for place, text in places.items():
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
            if not re.match(r"[a-z]+:", target):
                assert (place.parent / target).exists(), f"{place.name} links to {target}, missing in the repository"


def test_the_readme_is_written_for_students(student_repo):
    readme = (student_repo / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    code_free = re.sub(r"```.*?```", "", readme, flags=re.DOTALL)
    teacher = [h for h in re.findall(r"^#+ (.+)$", code_free, re.MULTILINE)
               if re.search(r"grad|slide|build|teach|rehears|contribut|fork", h, re.IGNORECASE)]
    assert teacher == [], f"teacher sections in the student README: {teacher}"
    for word in ["grade.py", "build_student", "build_slides", "TEACHING", "export_grades", "_reference", "pytest",
                 "solution notebook", "rubric"]:
        assert word not in readme, f"the student README mentions {word!r}"
    assert {"The notebooks", "Start on Colab or Kaggle", "The exercises", "Hand in"} <= set(headings), headings
    for stars in ("| ⭐ |", "| ⭐⭐ |", "| ⭐⭐⭐ |"):
        assert stars in readme                                    # the tiers, explained
    assert "bash scripts/students/install.sh" in readme and "What to hand in" in readme and STUDENT_REPO in readme


def test_a_bad_repository_name_is_refused_in_one_line(tmp_path, capsys):
    for bad in ["finetuning-kit", "https://github.com/a/b", "a/b/c", "a b/c"]:
        assert build_student.main(["--repo", bad, "--out", str(tmp_path / "x")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "OWNER/NAME" in err and repr(bad) in err, err
    assert not (tmp_path / "x").exists()


def fresh_runtime_setup_cell(source: str, clone_url: str, runtime: Path) -> str:
    """The setup cell as a fresh Colab/Kaggle runtime runs it, except: its clone URL is ``clone_url`` (the built
    repository, as a local git repository), /content/course and /kaggle/working/course are ``runtime``/course, and
    pip is recorded (printed) rather than run - this machine has the stack already and no network."""
    github = f'"https://github.com/{STUDENT_REPO}"'
    assert source.count(github) == 1, "the setup cell must name the student repository's URL once"
    source = source.replace(github, json.dumps(clone_url))
    for place in ("/content/course", "/kaggle/working/course"):
        assert f'"{place}"' in source, place
        source = source.replace(f'"{place}"', json.dumps(str(runtime / "course")))
    fake_pip = ("import subprocess as _sp\n_real_run = _sp.run\n"
                "def _run(cmd, *a, **k):\n"
                "    if list(cmd[1:4]) == ['-m', 'pip', 'install']:\n"
                "        print('PIP', *cmd[4:])\n"
                "        return _sp.CompletedProcess(cmd, 0)\n"
                "    return _real_run(cmd, *a, **k)\n"
                "_sp.run = _run\n")
    return f"{fake_pip}{source}\n_sp.run = _real_run\n"


def test_the_setup_cell_clones_the_student_repository_on_a_fresh_runtime(student_repo, tmp_path):
    """git-init the built folder as its own repository, then open its 00 notebook as Colab would: from a folder
    with no kit above it, the setup cell clones the repository through its own code and the notebook runs from
    that clone - failing only at its exercise stubs."""
    from nbclient import NotebookClient

    git = ["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org", "-c", "init.defaultBranch=main"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "course notebooks"]):
        subprocess.run(git + cmd, cwd=student_repo, check=True, capture_output=True)
    runtime = tmp_path / "content"
    runtime.mkdir()
    nb = read(student_repo / "notebooks" / "00_setup.ipynb")          # Colab opens it from the repository
    nb.cells[1].source = fresh_runtime_setup_cell(nb.cells[1].source, student_repo.as_uri(), runtime)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_STRICT_CHECKS", "PYTHONPATH")}
    env["COURSE_OUTPUT_DIR"] = str(tmp_path / "outputs")
    where = nbformat.v4.new_code_cell("import helpers; print(helpers.__file__)")   # after the lesson: which kit?
    nb.cells.append(where)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(runtime)}})
    asyncio.run(client.async_execute(env=env))          # one run: the clone, the lesson, then the question
    clone = runtime / "course"
    text, errors, _ = _cell_report(nb.cells[1])
    assert errors == [], errors
    assert (clone / ".git").is_dir() and (clone / "helpers" / "check" / "_reference.py").exists()
    assert f"PIP -q -r {clone / 'requirements.txt'}" in text and (clone / "requirements.txt").exists()
    assert f"- files: {clone}" in text
    assert _cell_report(where)[0].strip() == str(clone / "helpers" / "__init__.py")   # the clone's, not this kit's
    for cell in nb.cells[2:-1]:
        if cell.cell_type == "code":
            _, errors, fails = _cell_report(cell)
            numbers = {m.group(1) for m in STUB.finditer(cell.source)}
            for ename, evalue in errors:
                assert ename == "NotImplementedError" and any(f"Exercise {n} " in evalue for n in numbers), \
                    f"{cell.id} raised {ename}: {evalue[:300]}"
            assert set(fails) == set(CHECK_CALL.findall(cell.source)), cell.id
