"""Grades where courses keep them: a Gradescope autograder and a gradebook CSV for Canvas or Moodle.

    python scripts/teachers/export_grades.py handins-graded/             # -> handins-graded/gradebook.csv
                                                                #  + handins-graded/gradescope_autograder.zip
    python scripts/teachers/export_grades.py --notebooks 03 --out gs/    # only the autograder, for an assignment on 03
    options: --notebooks 03 04 (which notebooks; default all)  --points 1=1,2=2,3=1  --timeout S  --id-column NAME

Both are built on scripts/teachers/grade.py's command line and its grades.csv (student, notebook, exercise, title, tier,
status, message), never on its internals.

Points, by tier (the exercises' stars; ``--points`` changes them): ⭐ run and read 1, ⭐⭐ write a function 2,
⭐⭐⭐ stretch 1. An exercise scores its points when its status is ``pass``, else 0 (fail, timeout, error, or no
row: the notebook was not handed in or could not be graded). A notebook's maximum is the sum over the exercises
its kit notebook marks (cell metadata ``course.exercise``/``course.tier``), plus any other exercise row the
grader writes (a hidden check, say), scored by its own tier.

gradebook.csv - one row per student (the hand-in folder's name, under --id-column, default "Student") and one
column per notebook (its file name without .ipynb, e.g. ``03_sft``) holding the points earned; empty where the
student handed in nothing for it. That is the shape Canvas's and Moodle's gradebook imports read: name the hand-in
folders by the identifier your LMS matches students on (login, e-mail or SIS id), and give the column the header
your LMS expects. The printed summary gives each notebook's maximum, to set as the LMS item's points.

gradescope_autograder.zip - upload it as a Gradescope "autograder" (programming assignment). At its root:
  setup.sh        run once when Gradescope builds the image: installs the kit's stack (CPU torch) into
                  /autograder/venv through the kit's own scripts/students/install.sh, and bubblewrap for the grader's sandbox;
                  then runs the kit's cells the checks need once (grade.py --record) into /autograder/source/recordings
  run_autograder  run per submission: every .ipynb under /autograder/submission/ is graded by the kit's
                  scripts/teachers/grade.py (quick profile, --jobs 1, --timeout S, replaying the recordings setup.sh
                  made: --recordings) and /autograder/results/results.json
                  is written: one test per exercise (name, score, max_score, output, visibility "visible",
                  status), score = the sum of the tests' scores, flags and notebook-level errors in "output"
  autograder.json the notebooks of the assignment, the points per tier and the timeout
  kit/            this kit as it is now (every file git tracks or would track: helpers/, data/, notebooks/,
                  scripts/, grading/ ...), the grader's copy - students never see it
``AUTOGRADER_ROOT`` (default /autograder) moves the whole layout, so ``run_autograder`` runs locally on a folder laid
out as Gradescope lays it out; ``COURSE_AUTOGRADER_PYTHON`` picks the Python (default /autograder/venv/bin/python).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import runpy
import tempfile
import time
import zipfile
from pathlib import Path

try:
    from tools import notebook
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = list(notebook.GRADE_COLUMNS)              # scripts/teachers/grade.py's grades.csv (tools/notebook.py: one definition)
POINTS = {1: 1.0, 2: 2.0, 3: 1.0}          # points per tier: ⭐ run and read, ⭐⭐ write a function, ⭐⭐⭐ stretch
ZIP_NAME, GRADEBOOK_NAME = "gradescope_autograder.zip", "gradebook.csv"
RECORDINGS = "recordings"        # in the autograder's source/: setup.sh's recordings (scripts/teachers/grade.py --record)
LEAVE_OUT = {".git", ".venv", "outputs", "student", "slides", ".slides-vendor", "__pycache__", ".ipynb_checkpoints",
             ".pytest_cache"}
OUTPUT_CHARS = 2000

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu). Written by
# scripts/teachers/export_grades.py. It installs the kit's pinned stack with the CPU build of torch into $AG/venv (through
# the kit's own scripts/students/install.sh) and bubblewrap, the sandbox scripts/teachers/grade.py runs each hand-in in.
set -euo pipefail
AG=${AUTOGRADER_ROOT:-/autograder}
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip git bubblewrap
COURSE_VENV="$AG/venv" COURSE_TORCH=cpu COURSE_NO_LAUNCH=1 bash "$AG/source/kit/scripts/students/install.sh"
# the kit's cells that give the checks their inputs, run once here: every submission replays the recording
# (if this fails, each submission runs them itself: slower, the same grades)
"$AG/venv/bin/python" "$AG/source/kit/scripts/teachers/export_grades.py" --record-gradescope "$AG" \
    || echo "setup.sh: no recording made; every submission will run the kit's cells itself"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder. Written by scripts/teachers/export_grades.py: it grades the
# notebooks in $AG/submission/ with the kit's scripts/teachers/grade.py and writes $AG/results/results.json.
# AUTOGRADER_ROOT (default /autograder) moves the whole layout, to try it locally; COURSE_AUTOGRADER_PYTHON picks
# the Python (default: the venv setup.sh made).
set -uo pipefail
AG=${AUTOGRADER_ROOT:-/autograder}
PY=${COURSE_AUTOGRADER_PYTHON:-$AG/venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" "$AG/source/kit/scripts/teachers/export_grades.py" --run-gradescope "$AG"
"""


class ExportError(ValueError):
    """Input the export cannot use; the message says what to pass instead."""


# ---------------------------------------------------------------- what each notebook's exercises are worth

def tier_number(tier) -> int | None:
    """1-3 from a tier as metadata (2) or grades.csv ("⭐⭐", "2") writes it; None when there is none."""
    text = str(tier or "").strip()
    if text.isdigit():
        return int(text)
    stars = text.count("⭐")
    return stars or None


def parse_points(text: str) -> dict[int, float]:
    """``"1=1,2=2,3=1"`` -> {1: 1.0, 2: 2.0, 3: 1.0} (tiers not named keep their default)."""
    points = dict(POINTS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"([123])\s*=\s*(\d+(?:\.\d+)?)", part)
        if not match:
            raise ExportError(f"--points takes tier=points pairs such as 1=1,2=2,3=1, not {part!r}")
        points[int(match.group(1))] = float(match.group(2))
    return points


def kit_exercises(root: Path = ROOT) -> dict[str, list[dict]]:
    """{notebook stem: [{exercise, title, tier}, ...]} from the kit notebooks' cell metadata, in order."""
    found = {}
    for path in notebook.lesson_paths(root / "notebooks"):
        exercises = {}
        for cell in notebook.read(path).cells:
            if not notebook.is_exercise_cell(cell):
                continue
            try:
                held = notebook.cell_exercises(cell, f"the kit's {path.name}, cell {cell.get('id')}")
            except notebook.ConventionError as err:      # a solution cell without metadata: fix the kit notebook
                raise ExportError(str(err)) from None
            for number, title, tier in held:
                exercises.setdefault(number, {"exercise": number, "title": title, "tier": tier_number(tier)})
        found[path.stem] = list(exercises.values())
    return found


def pick_notebooks(wanted: list[str] | None, kit: dict[str, list[dict]]) -> list[str]:
    """Kit notebook stems from "03", "03_sft" or "03_sft.ipynb" (all of them when ``wanted`` is empty)."""
    if not wanted:
        return list(kit)
    stems = []
    for name in wanted:
        name = Path(name).stem
        match = [s for s in kit if s == name or s[:2] == name]
        if len(match) != 1:
            raise ExportError(f"--notebooks: {name!r} is not a kit notebook; pick from {', '.join(kit)} "
                              "(or their numbers, e.g. 03)")
        stems.append(match[0])
    return list(dict.fromkeys(stems))


def read_grades(path: Path) -> list[dict]:
    """grades.csv rows (``path`` is the file or the folder scripts/teachers/grade.py wrote it into)."""
    path = path / "grades.csv" if path.is_dir() else path
    if not path.is_file():
        raise ExportError(f"no grades.csv at {path}: pass the folder `scripts/teachers/grade.py HANDINS --out DIR` wrote")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ExportError(f"{path} is not a grades.csv of scripts/teachers/grade.py: no column {', '.join(missing)}")
        return list(reader)


def score_notebook(rows: list[dict], stem: str, expected: list[dict], points: dict[int, float]) -> list[dict]:
    """One entry per exercise of notebook ``stem`` for one student's rows: exercise, title, tier, score,
    max_score, status, message. Exercises with no row score 0 and say why (the notebook-level rows' messages)."""
    mine = [r for r in rows if r["notebook"] == stem]
    about = [f"{r['status']}: {r['message']}".strip(": ") for r in mine if r["exercise"] == "notebook"]
    by_exercise: dict[str, list[dict]] = {}
    for r in mine:
        if r["exercise"] != "notebook":
            by_exercise.setdefault(r["exercise"], []).append(r)
    listed = {e["exercise"]: e for e in expected}
    order = list(listed) + [e for e in by_exercise if e not in listed]     # a hidden check's own rows count too
    out = []
    for exercise in order:
        given = by_exercise.get(exercise, [])
        info = listed.get(exercise) or {"exercise": exercise, "title": given[0]["title"],
                                        "tier": tier_number(given[0]["tier"])}
        tier = info["tier"] or (tier_number(given[0]["tier"]) if given else None)
        worth = points.get(tier, 0.0) if tier else 0.0
        if given:
            passed = any(r["status"] == "pass" for r in given)         # two copies handed in: the better one
            status = "pass" if passed else given[0]["status"]
            message = "" if passed else "; ".join(dict.fromkeys(r["message"] for r in given if r["message"]))
        elif mine:
            status, message = "error", ("not graded: " + "; ".join(about)) if about else "not graded"
        else:
            status, message = "missing", f"no {stem}.ipynb was handed in"
        out.append(dict(exercise=exercise, title=info["title"], tier=tier, score=worth if status == "pass" else 0.0,
                        max_score=worth, status=status, message=message))
    return out


# ---------------------------------------------------------------- gradebook.csv

def gradebook(rows: list[dict], stems: list[str], expected: dict[str, list[dict]], points: dict[int, float],
              id_column: str = "Student") -> tuple[list[str], list[list], dict[str, float]]:
    """(header, one row per student, {notebook: max points}) - empty cells where nothing was handed in."""
    students = list(dict.fromkeys(r["student"] for r in rows))
    table, maxima = [], {}
    for student in students:
        mine = [r for r in rows if r["student"] == student]
        line = [student]
        for stem in stems:
            scored = score_notebook(mine, stem, expected.get(stem, []), points)
            maxima[stem] = max(maxima.get(stem, 0.0), sum(s["max_score"] for s in scored))
            line.append(_number(sum(s["score"] for s in scored)) if any(r["notebook"] == stem for r in mine) else "")
        table.append(line)
    for stem in stems:
        maxima.setdefault(stem, sum(points.get(e["tier"], 0.0) for e in expected.get(stem, []) if e["tier"]))
    return [id_column] + stems, table, maxima


def write_gradebook(path: Path, header: list[str], table: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(table)


def _number(x: float):
    return int(x) if float(x).is_integer() else round(x, 2)


# ---------------------------------------------------------------- Gradescope

def gradescope_results(rows: list[dict], stems: list[str], expected: dict[str, list[dict]],
                       points: dict[int, float], note: str = "", seconds: float | None = None) -> dict:
    """results.json for one submission (Gradescope's autograder format): a test per exercise of ``stems``."""
    tests, lines = [], []
    for stem in stems:
        scored = score_notebook(rows, stem, expected.get(stem, []), points)
        for r in rows:
            if r["notebook"] == stem and r["exercise"] == "notebook":
                lines.append(f"{stem}: {r['status']} - {r['message']}")
        for s in scored:
            stars = "⭐" * s["tier"] if s["tier"] else ""
            tests.append({
                "name": f"{stem} · Exercise {s['exercise']}: {s['title']}" + (f" ({stars})" if stars else ""),
                "score": float(s["score"]), "max_score": float(s["max_score"]),
                "status": "passed" if s["status"] == "pass" else "failed",
                "output": (s["status"] + (f": {s['message']}" if s["message"] else ""))[:OUTPUT_CHARS],
                "visibility": "visible",
            })
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    summary = f"{_number(score)} of {_number(total)} points ({sum(t['status'] == 'passed' for t in tests)} of " \
              f"{len(tests)} exercises pass). Points per tier: " + \
              ", ".join(f"{'⭐' * k} {_number(v)}" for k, v in sorted(points.items())) + "."
    results = {"score": score, "output": "\n".join(filter(None, [note, summary] + lines))[:OUTPUT_CHARS * 4],
               "stdout_visibility": "hidden", "tests": tests}
    if seconds is not None:
        results["execution_time"] = int(round(seconds))
    return results


def kit_files(root: Path = ROOT) -> list[Path]:
    """The kit as it stands: every file git tracks or would track (its .gitignore applies); without git, a walk."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = [root / p for p in listed if p]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in root.rglob("*")]
    return sorted(p for p in files if p.is_file() and not LEAVE_OUT & set(p.relative_to(root).parts))


def write_autograder_zip(path: Path, stems: list[str], points: dict[int, float], timeout: float,
                         root: Path = ROOT) -> int:
    """The Gradescope autograder zip; returns how many kit files it holds."""
    def add(zf, name: str, data: bytes, mode: int):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)

    config = {"notebooks": stems, "points": {str(k): v for k, v in points.items()}, "timeout": timeout}
    files = kit_files(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
        add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        add(zf, "autograder.json", (json.dumps(config, indent=1) + "\n").encode(), 0o644)
        for file in files:
            mode = 0o755 if os.access(file, os.X_OK) else 0o644
            add(zf, "kit/" + file.relative_to(root).as_posix(), file.read_bytes(), mode)
    return len(files)


def run_gradescope(ag: Path) -> int:
    """What run_autograder does, in ``ag`` (Gradescope's /autograder): grade the submission, write results.json."""
    start = time.perf_counter()
    source, results_dir = ag / "source", ag / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads((source / "autograder.json").read_text(encoding="utf-8"))
    kit = source / "kit"
    points = {int(k): float(v) for k, v in config["points"].items()}
    stems, expected = config["notebooks"], kit_exercises(kit)

    def finish(rows, note):
        results = gradescope_results(rows, stems, expected, points, note, time.perf_counter() - start)
        (results_dir / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
        print(results["output"])
        return 0

    submission = ag / "submission"
    notebooks = [p for p in sorted(submission.rglob("*.ipynb")) if not any(
        part.startswith(".") or part == "__MACOSX" for part in p.relative_to(submission).parts)] \
        if submission.is_dir() else []
    if not notebooks:
        return finish([], "No .ipynb file in the submission: upload the notebook file(s) you ran, e.g. "
                          f"{', '.join(s + '.ipynb' for s in stems)}.")
    work = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        handins = work / "handins" / "submission"
        handins.mkdir(parents=True)
        for i, nb in enumerate(notebooks):
            target = handins / nb.name
            if target.exists():                  # the same name in two folders of the upload: keep both
                target = handins / f"{nb.stem}-{i}{nb.suffix}"
            shutil.copyfile(nb, target)
        graded = work / "graded"
        cmd = [sys.executable, str(kit / "scripts" / "teachers" / "grade.py"), str(handins.parent), "--out", str(graded),
               "--jobs", "1", "--timeout", str(config["timeout"]), "--recordings", str(source / RECORDINGS)]
        run = subprocess.run(cmd, cwd=kit, capture_output=True, text=True)
        print(run.stdout + run.stderr)
        try:
            rows = read_grades(graded)
        except ExportError:
            tail = [l for l in (run.stderr or run.stdout).splitlines() if l.strip()][-1:] or ["no output"]
            return finish([], f"The autograder could not grade this submission (grade.py exit {run.returncode}: "
                              f"{tail[0][:300]}); your instructor will look at it.")
        return finish(rows, "")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def record_gradescope(ag: Path) -> int:
    """What setup.sh does last, in ``ag``: record the assignment's kit notebooks once (grade.py --record) into
    source/recordings, which every submission's grading replays."""
    source = ag / "source"
    config = json.loads((source / "autograder.json").read_text(encoding="utf-8"))
    cmd = [sys.executable, str(source / "kit" / "scripts" / "teachers" / "grade.py"), "--record", *config["notebooks"],
           "--recordings", str(source / RECORDINGS)]
    return subprocess.run(cmd, cwd=source / "kit").returncode


# ---------------------------------------------------------------- command line

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("graded", type=Path, nargs="?",
                        help="grades.csv, or the folder scripts/teachers/grade.py wrote it into: writes gradebook.csv")
    parser.add_argument("--out", type=Path, help="where the files go (default: the graded folder, else lms-export/)")
    parser.add_argument("--notebooks", nargs="+", metavar="NB",
                        help="the notebooks of the assignment: 03, 03_sft or 03_sft.ipynb (default: all)")
    parser.add_argument("--points", default="", help="points per tier, e.g. 1=1,2=2,3=1 (the default)")
    parser.add_argument("--timeout", type=float, default=300, help="grade.py's seconds per notebook (default 300)")
    parser.add_argument("--id-column", default="Student", help="header of the gradebook's student column")
    parser.add_argument("--run-gradescope", type=Path, metavar="AUTOGRADER_ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--record-gradescope", type=Path, metavar="AUTOGRADER_ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.run_gradescope:
            return run_gradescope(args.run_gradescope)
        if args.record_gradescope:
            return record_gradescope(args.record_gradescope)
        points = parse_points(args.points)
        expected = kit_exercises()
        stems = pick_notebooks(args.notebooks, expected)
        rows = read_grades(args.graded) if args.graded else None
        out = args.out or ((args.graded if args.graded.is_dir() else args.graded.parent) if args.graded
                           else Path("lms-export"))
        out.mkdir(parents=True, exist_ok=True)
        n = write_autograder_zip(out / ZIP_NAME, stems, points, args.timeout)
        maxima = {s: sum(points.get(e["tier"], 0.0) for e in expected[s] if e["tier"]) for s in stems}
        print(f"{out / ZIP_NAME}: Gradescope autograder for {', '.join(stems)} ({n} kit files)")
        if rows is not None:
            if not args.notebooks:       # the gradebook: the notebooks graded, unless named
                stems = [s for s in expected if any(r["notebook"] == s for r in rows)] or stems
            header, table, maxima = gradebook(rows, stems, expected, points, args.id_column)
            write_gradebook(out / GRADEBOOK_NAME, header, table)
            print(f"{out / GRADEBOOK_NAME}: {len(table)} students x {len(stems)} notebooks")
    except ExportError as err:
        print(f"export_grades: {err}", file=sys.stderr)
        return 1
    print("maximum points: " + ", ".join(f"{s} {_number(m)}" for s, m in maxima.items()) + " (per tier: "
          + ", ".join(f"{'⭐' * k} {_number(v)}" for k, v in sorted(points.items())) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
