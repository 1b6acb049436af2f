"""Grades where courses keep them (scripts/teachers/export_grades.py): the Gradescope autograder and the gradebook CSV.

- points by tier, from grades.csv (scripts/teachers/grade.py's columns) and the kit notebooks' exercise metadata;
- gradebook.csv: one row per student, one column per notebook, empty where nothing was handed in;
- the autograder zip: setup.sh and run_autograder at its root (executable), the kit inside;
- run_autograder, run locally on a folder laid out as Gradescope lays it out (AUTOGRADER_ROOT), on a solved 00 and
  on the student build's unsolved 00: results.json passes Gradescope's documented schema and scores them apart.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
from scripts.teachers import build_student, export_grades, grade

COLUMNS = grade.COLUMNS      # the header grade.py writes: what export_grades must read


def test_grades_csv_has_the_columns_the_readme_lists():
    assert list(COLUMNS) == ["student", "notebook", "exercise", "title", "tier", "status", "message"]  # README


# Gradescope's autograder output format (gradescope-autograders.readthedocs.io, "Autograder Specifications"):
# results.json has "score" (required unless every test has one) and optional "execution_time", "output",
# "output_format", "test_output_format", "test_name_format", "visibility", "stdout_visibility", "extra_data",
# "tests", "leaderboard"; each test has "score", "max_score", "name", "output" and optional "status"
# ("passed"/"failed"), "number", "tags", "visibility", "extra_data", "name_format", "output_format".
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_gradescope_schema(results: dict) -> None:
    json.loads(json.dumps(results))                                    # plain JSON
    assert set(results) <= TOP_KEYS, set(results) - TOP_KEYS
    assert isinstance(results["score"], (int, float)) and not isinstance(results["score"], bool)
    assert isinstance(results.get("output", ""), str)
    assert isinstance(results.get("execution_time", 0), int)
    for key in ("visibility", "stdout_visibility"):
        assert results.get(key, "visible") in VISIBILITY, results.get(key)
    tests = results["tests"]
    assert isinstance(tests, list) and tests
    for test in tests:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert {"name", "score", "max_score", "output"} <= set(test), test
        assert isinstance(test["name"], str) and test["name"] and isinstance(test["output"], str)
        for key in ("score", "max_score"):
            assert isinstance(test[key], (int, float)) and not isinstance(test[key], bool)
        assert 0 <= test["score"] <= test["max_score"], test
        assert test.get("visibility", "visible") in VISIBILITY and test.get("status", "passed") in {"passed", "failed"}
    assert abs(results["score"] - sum(t["score"] for t in tests)) < 1e-9   # the total is the tests' sum
    assert len({t["name"] for t in tests}) == len(tests)                  # one test per exercise, told apart


def test_the_schema_check_can_fail():
    good = {"score": 2.0, "tests": [{"name": "a", "score": 2.0, "max_score": 2.0, "output": "pass"}]}
    check_gradescope_schema(good)
    for bad in ({**good, "score": 3.0}, {**good, "tests": [{"name": "a", "score": 2.0, "output": ""}]},
                {**good, "tests": [{**good["tests"][0], "visibility": "students"}]}, {**good, "grade": 1}):
        with pytest.raises(AssertionError):
            check_gradescope_schema(bad)


def rows(*specs):
    return [dict(zip(COLUMNS, spec)) for spec in specs]


GRADES = rows(
    ("alice", "03_sft", "notebook", "", "", "flag", "stored outputs missing (never run before hand-in)"),
    ("alice", "03_sft", "03.1", "split a dialogue", "⭐⭐", "pass", ""),
    ("alice", "03_sft", "03.2", "the masked labels", "⭐⭐", "fail", "FAIL masked_labels: the prompt is trained"),
    ("alice", "03_sft", "03.3", "the real-token share", "⭐⭐", "pass", ""),
    ("alice", "01_lora-from-scratch", "01.5", "DoRA's magnitude vector", "⭐⭐⭐", "pass", ""),
    ("bob", "03_sft", "notebook", "", "", "error", "not a notebook of this kit"),
    ("carol", "03_sft", "03.1", "split a dialogue", "2", "pass", ""),                # a tier written as a number
    ("carol", "03_sft", "03.2", "the masked labels", "⭐⭐", "timeout", "timed out after 300 s"),
    ("carol", "03_sft", "03.9", "a hidden check", "⭐⭐", "pass", ""),               # not in the kit's metadata
)


def test_points_by_tier_from_the_kit_and_the_grades():
    kit = export_grades.kit_exercises()
    assert [e["exercise"] for e in kit["03_sft"]] == ["03.1", "03.2", "03.3"] and {e["tier"] for e in kit["03_sft"]} == {2}
    assert [e["exercise"] for e in kit["01_lora-from-scratch"]] == ["01.1", "01.2", "01.3", "01.4", "01.5"]
    points = export_grades.POINTS
    alice = export_grades.score_notebook(GRADES[:4], "03_sft", kit["03_sft"], points)
    assert [(s["exercise"], s["score"], s["max_score"]) for s in alice] == [("03.1", 2, 2), ("03.2", 0, 2), ("03.3", 2, 2)]
    bob = export_grades.score_notebook(GRADES[5:6], "03_sft", kit["03_sft"], points)
    assert [s["score"] for s in bob] == [0, 0, 0] and all("not a notebook of this kit" in s["message"] for s in bob)
    carol = export_grades.score_notebook(GRADES[6:], "03_sft", kit["03_sft"], points)
    assert [(s["exercise"], s["status"], s["score"], s["max_score"]) for s in carol] == \
        [("03.1", "pass", 2, 2), ("03.2", "timeout", 0, 2), ("03.3", "error", 0, 2), ("03.9", "pass", 2, 2)]
    nobody = export_grades.score_notebook([], "03_sft", kit["03_sft"], points)
    assert {s["status"] for s in nobody} == {"missing"} and "no 03_sft.ipynb was handed in" in nobody[0]["message"]
    assert export_grades.parse_points("3=5") == {1: 1.0, 2: 2.0, 3: 5.0}
    with pytest.raises(export_grades.ExportError, match="tier=points"):
        export_grades.parse_points("stretch=5")


def test_the_gradebook_has_a_row_per_student_and_a_column_per_notebook(tmp_path):
    graded = tmp_path / "handins-graded"
    graded.mkdir()
    with open(graded / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(GRADES)
    assert export_grades.main([str(graded), "--id-column", "SIS Login ID"]) == 0
    with open(graded / "gradebook.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table == [["SIS Login ID", "01_lora-from-scratch", "03_sft"],
                     ["alice", "1", "4"],          # 01: only the stretch (1 point); 03: 2 + 0 + 2
                     ["bob", "", "0"],             # handed in 03 (ungradable): 0; never handed in 01: empty
                     ["carol", "", "4"]]           # 2 + 0 (timeout) + 0 (no row) + 2 (the extra check)
    assert (graded / "gradescope_autograder.zip").exists()


def test_bad_input_gets_one_line(tmp_path, capsys):
    assert export_grades.main([str(tmp_path)]) == 1
    assert "no grades.csv" in capsys.readouterr().err
    (tmp_path / "grades.csv").write_text("name,score\nx,1\n")
    assert export_grades.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not a grades.csv" in err and err.count("\n") == 1
    assert export_grades.main(["--notebooks", "99", "--out", str(tmp_path)]) == 1
    assert "pick from 00_setup" in capsys.readouterr().err


def extract(zip_path: Path, into: Path) -> None:
    """Unzip as Gradescope does (`unzip`), file modes included."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = into / info.filename
            zf.extract(info, into)
            if info.external_attr >> 16:
                target.chmod(stat.S_IMODE(info.external_attr >> 16))


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """/autograder as Gradescope lays it out: source/ (the zip, extracted), run_autograder copied next to it, and
    the recording setup.sh makes last (its other steps install what this machine has already)."""
    out = tmp_path_factory.mktemp("export")
    assert export_grades.main(["--notebooks", "00", "--out", str(out), "--timeout", "300"]) == 0
    ag = out / "autograder"
    extract(out / export_grades.ZIP_NAME, ag / "source")
    shutil.copy2(ag / "source" / "run_autograder", ag / "run_autograder")
    kit = ag / "source" / "kit"
    made = subprocess.run([sys.executable, str(kit / "scripts" / "teachers" / "export_grades.py"), "--record-gradescope",
                           str(ag)], cwd=kit, capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    assert "00_setup: the kit's cells run for the checks' inputs" in made.stderr
    return ag


def test_the_zip_has_setup_and_run_autograder_at_its_root(autograder):
    source = autograder / "source"
    for name in ("setup.sh", "run_autograder"):
        assert os.access(source / name, os.X_OK), f"{name} is not executable"
        subprocess.run(["bash", "-n", str(source / name)], check=True)
    assert "AUTOGRADER_ROOT" in (source / "run_autograder").read_text()
    assert "install.sh" in (source / "setup.sh").read_text() and (source / "kit" / "scripts" / "students" / "install.sh").exists()
    assert "--record-gradescope" in (source / "setup.sh").read_text()
    assert json.loads((source / "recordings" / "00_setup.json").read_text())["status"] == "ok"   # setup.sh's recording
    config = json.loads((source / "autograder.json").read_text())
    assert config == {"notebooks": ["00_setup"], "points": {"1": 1.0, "2": 2.0, "3": 1.0}, "timeout": 300.0}
    for needed in ("scripts/teachers/grade.py", "scripts/teachers/export_grades.py", "helpers/check/_reference.py", "requirements.txt",
                   "data/tokenizer.json", "notebooks/00_setup.ipynb"):
        assert (source / "kit" / needed).is_file(), needed
    for never in ("outputs", ".venv", "student", ".git"):
        assert not (source / "kit" / never).exists(), never


def run_autograder(ag: Path, notebooks: dict[str, Path]) -> dict:
    for folder in ("submission", "results"):
        shutil.rmtree(ag / folder, ignore_errors=True)
    (ag / "submission").mkdir()
    for name, path in notebooks.items():
        shutil.copyfile(path, ag / "submission" / name)
    env = {**os.environ, "AUTOGRADER_ROOT": str(ag), "COURSE_AUTOGRADER_PYTHON": sys.executable}
    run = subprocess.run([str(ag / "run_autograder")], cwd=ag, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    if notebooks:                     # graded on the recording setup.sh made: the kit's cells did not run again
        assert "00_setup: the kit's cells run earlier, saved in" in run.stdout, run.stdout[-2000:]
    results = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
    check_gradescope_schema(results)
    return results


def test_run_autograder_scores_a_solved_and_an_unsolved_notebook(autograder, tmp_path):
    student = tmp_path / "student"
    build_student.build(student)
    solved = run_autograder(autograder, {"00_setup.ipynb": ROOT / "notebooks" / "00_setup.ipynb"})
    unsolved = run_autograder(autograder, {"00_setup.ipynb": student / "notebooks" / "00_setup.ipynb"})
    [test] = solved["tests"]
    assert test["name"] == "00_setup · Exercise 00.1: the assistant's tokens (⭐⭐)"
    assert (test["score"], test["max_score"], test["status"]) == (2.0, 2.0, "passed") and solved["score"] == 2.0
    [test] = unsolved["tests"]
    assert (test["score"], test["max_score"], test["status"]) == (0.0, 2.0, "failed") and unsolved["score"] == 0.0
    assert test["output"].startswith("fail")
    assert "2 of 2 points" in solved["output"] and "0 of 2 points" in unsolved["output"]


def test_run_autograder_on_an_empty_submission_says_what_to_upload(autograder):
    results = run_autograder(autograder, {})
    assert results["score"] == 0 and "No .ipynb file in the submission" in results["output"]
    assert "00_setup.ipynb" in results["output"] and results["tests"][0]["max_score"] == 2.0
