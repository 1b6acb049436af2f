"""scripts/grade.py: grading a folder of handed-in notebooks.

The batch is synthetic: hand-ins built here from the kit's solution notebooks (00, one exercise, ~7 s; 06, three
checked exercises that are pure functions) - solved, partly solved, unsolved, an error in the exercise cell,
broken JSON, an endless loop, no stored outputs, another kit version's outputs - graded for real (quick profile,
two notebooks at a time) and compared row by row with the CSV they must give.
"""
import concurrent.futures
import csv
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import grade  # noqa: E402

VERSION = grade.kit_version()
SETUP = ROOT / "notebooks" / "00_setup.ipynb"
EVAL = ROOT / "notebooks" / "06_evaluation.ipynb"
TOKENS = ("00.1", "the assistant's tokens", "⭐⭐")


def solution(path):
    return nbformat.read(path, as_version=4)


def cell_of(nb, name):
    """The code cell that defines ``name``."""
    return next(c for c in nb.cells if c.cell_type == "code" and re.search(rf"^(def|class) {name}\b", c.source, re.M))


def stub(nb, name, body='raise NotImplementedError("Exercise: write your code here")'):
    """Replace the solution block of the cell defining ``name`` by ``body``, as the student build does."""
    cell = cell_of(nb, name)
    cell.source, n = re.subn(r"^([ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*",
                             lambda m: m.group(1) + body, cell.source, flags=re.S | re.M)
    assert n == 1, name
    return nb


def stored_outputs(nb, version=VERSION):
    """Outputs as a student's run leaves them: execution counts, and the setup cell's kit line (if ``version``)."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            if grade.SETUP_MARK in cell.source:
                text = (f"course kit {version} - files: /content/course\n" if version else "Course files: /content/course\n")
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def hand_in(folder: Path, name: str, nb) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def read_csv(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def key(row):
    return tuple(row[c] for c in ("student", "notebook", "exercise", "title", "tier", "status"))


# ---------------------------------------------------------------- the synthetic batch, graded once

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    handins = tmp / "handins"
    # alice: solved, run before hand-in with this kit; her folder also holds a helpers/ that must not be imported
    hand_in(handins / "alice", "00_setup.ipynb", stored_outputs(solution(SETUP)))
    (handins / "alice" / "helpers").mkdir()
    (handins / "alice" / "helpers" / "__init__.py").write_text("raise ImportError('the hand-in folder was imported')")
    # bob: unsolved (the stub as handed out), never run; a Jupyter checkpoint copy that must be ignored
    hand_in(handins / "bob", "00_setup.ipynb", stub(solution(SETUP), "answer_token_ids"))
    hand_in(handins / "bob" / ".ipynb_checkpoints", "00_setup-checkpoint.ipynb", solution(SETUP))
    # carol: 06 partly solved (2 solved, 3 unsolved, 4 wrong), run with kit 0.9, two written answers
    nb = stored_outputs(solution(EVAL), version="0.9")
    stub(nb, "distinct_n")
    stub(nb, "length_controlled_win_rate", "return 0.5")
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "What to hand in" in c.source)
    nb.cells[at].source += "\n\nMy answer to 4: BLEU barely moved."
    nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell("**2.** The judge agreed with me 14 times out of 20."))
    hand_in(handins / "carol", "06_evaluation.ipynb", nb)
    # frank: a typo that breaks his exercise cell; outputs from a kit that printed no version
    nb = stored_outputs(solution(SETUP), version=None)
    cell_of(nb, "answer_token_ids").source = "import tokenizers_typo\n" + cell_of(nb, "answer_token_ids").source
    hand_in(handins / "frank", "00_setup.ipynb", nb)
    # dave: broken JSON, handed in flat as <student>_<notebook>.ipynb
    (handins / "dave_00_setup.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = ', encoding="utf-8")

    # erin: an endless loop in her exercise, graded alongside with a short limit (the others keep a long one, so a
    # loaded machine cannot time them out)
    loops = tmp / "loops"
    pidfile = tmp / "erin-kernel.pid"
    body = f"import os; open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n    while True:\n        pass"
    hand_in(loops / "erin", "00_setup.ipynb", stub(stored_outputs(solution(SETUP)), "answer_token_ids", body))

    def timed(*args, **kwargs):
        start = time.perf_counter()
        grade.grade(*args, **kwargs)
        return time.perf_counter() - start

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        main = pool.submit(timed, handins, tmp / "graded", timeout=300, jobs=2)
        loop = pool.submit(timed, loops, tmp / "loops-graded", timeout=15, jobs=1)
        seconds, loop_seconds = main.result(), loop.result()
    return dict(out=tmp / "graded", rows=read_csv(tmp / "graded"), seconds=seconds, loop_rows=read_csv(tmp / "loops-graded"),
                loop_seconds=loop_seconds, pidfile=pidfile)


def test_the_synthetic_batch_gives_exactly_these_rows(batch):
    rows = batch["rows"]
    print(f"\nbatch of 5 hand-ins graded in {batch['seconds']:.0f} s; the endless loop in {batch['loop_seconds']:.0f} s")
    for row in rows + batch["loop_rows"]:
        print(",".join(row.values()))
    assert [key(r) for r in rows] == [
        ("alice", "00_setup", *TOKENS, "pass"),
        ("bob", "00_setup", "notebook", "", "", "flag"),
        ("bob", "00_setup", *TOKENS, "fail"),
        ("carol", "06_evaluation", "notebook", "", "", "flag"),
        ("carol", "06_evaluation", "06.2", "the swap-consistent win rate", "⭐⭐", "pass"),
        ("carol", "06_evaluation", "06.3", "distinct-n", "⭐⭐", "fail"),
        ("carol", "06_evaluation", "06.4", "a length-controlled win rate", "⭐⭐⭐", "fail"),
        ("dave", "00_setup", "notebook", "", "", "error"),
        ("frank", "00_setup", "notebook", "", "", "flag"),
        ("frank", "00_setup", *TOKENS, "fail"),
    ]
    msg = [r["message"] for r in rows]
    assert msg[0] == ""
    assert msg[1] == "no stored outputs: the notebook was not run before it was handed in"
    assert msg[2].startswith("FAIL answer_token_ids: not implemented yet")
    assert msg[3] == f"stored outputs made by course kit 0.9; graded with course kit {VERSION}"
    assert msg[4] == "" and msg[5].startswith("FAIL distinct_n: not implemented yet")
    assert msg[6].startswith("FAIL length_controlled_win_rate: ")
    assert msg[7].startswith("unreadable notebook (NotJSONError")
    assert msg[8].startswith("stored outputs carry no kit version")
    assert msg[9] == "the exercise cell raised ModuleNotFoundError: No module named 'tokenizers_typo'"


def test_an_endless_loop_times_out_and_its_kernel_is_killed(batch):
    assert [key(r) + (r["message"],) for r in batch["loop_rows"]] == [
        ("erin", "00_setup", "notebook", "", "", "timeout", "timed out after 15 s"),
        ("erin", "00_setup", *TOKENS, "timeout", "timed out after 15 s before its self-check ran"),
    ]
    assert batch["loop_seconds"] < 15 + 20, "the time limit was not enforced"
    if batch["pidfile"].exists():     # the loop started (on a loaded machine 15 s may end before it): it is dead now
        pid = int(batch["pidfile"].read_text())
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text(), f"the looping kernel {pid} still runs"


def test_the_report_holds_the_grades_and_the_written_answers(batch):
    report = (batch["out"] / "reports" / "carol.md").read_text(encoding="utf-8")
    assert "1 of 3 exercises pass" in report
    assert "> My answer to 4: BLEU barely moved." in report
    assert "> **2.** The judge agreed with me 14 times out of 20." in report
    assert "stored outputs made by course kit 0.9" in report
    assert "_none found_" in (batch["out"] / "reports" / "alice.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in (batch["out"] / "reports").iterdir()) == [
        "alice.md", "bob.md", "carol.md", "dave.md", "frank.md"]
    executed = nbformat.read(batch["out"] / "executed" / "alice" / "00_setup.ipynb", as_version=4)
    assert "PASS answer_token_ids" in grade.cell_text(cell_of(executed, "answer_token_ids"))


def test_the_command_line_prints_a_summary_and_refuses_a_bad_folder(batch, tmp_path, capsys):
    print(grade.summary(batch["rows"], batch["out"]))
    text = capsys.readouterr().out
    assert re.search(r"carol\s+1\s+2\s+0\s+0\s+06_evaluation: flag", text)
    with pytest.raises(SystemExit, match="not a folder"):
        grade.main([str(tmp_path / "missing")])
    (tmp_path / "in").mkdir()
    with pytest.raises(SystemExit, match="inside the hand-in folder"):
        grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "in" / "graded")])
    with pytest.raises(SystemExit, match="no .ipynb files"):
        grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "graded")])


# ---------------------------------------------------------------- the parts, without running a notebook

def test_every_exercise_of_the_kit_is_found_with_its_checks():
    found = {e.id: e for k in grade.kit_notebooks().values() for e in k.exercises}
    assert list(found) == ["00.1", "01.1", "01.2", "01.3", "01.4", "01.5", "02.1", "02.2", "02.3", "03.1", "03.2",
                           "03.3", "04.1", "04.2", "04.3", "04.4", "05.1", "05.2", "05.4", "06.2", "06.3", "06.4",
                           "07.1", "07.2"]
    assert all(e.title and e.tier and e.checks for e in found.values())
    # one cell, two exercises: LoRALinear's forward (checked two sections later) and its merge (later still)
    assert (found["01.2"].checks, found["01.3"].checks) == (["lora_forward"], ["lora_merge"])
    assert found["01.2"].cell_id == found["01.3"].cell_id
    assert (found["06.4"].title, found["06.4"].tier) == ("a length-controlled win rate", "⭐⭐⭐")


def test_exercise_metadata_comes_first():
    """The student build marks exercise cells with metadata.course; it wins over the markdown above."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("**⭐ Exercise 1 - an old title.**"),
                nbformat.v4.new_code_cell("def f(x):\n    raise NotImplementedError\n\nhelpers.check.f_check(f)"),
                nbformat.v4.new_code_cell("helpers.check.g_check(f)\nhelpers.check.learned(True, 'x')")]
    nb.cells[1].metadata["course"] = {"exercise": "09.7", "title": "a new title", "tier": "⭐⭐"}
    [ex] = grade.exercises(nb, "09_x")
    assert (ex.id, ex.title, ex.tier, ex.checks) == ("09.7", "a new title", "⭐⭐", ["f_check", "g_check"])


def test_check_lines_are_read_with_their_hint():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="PASS a: 3 cases\nFAIL b: off by 1\nHint: count again\n"),
        nbformat.v4.new_output("stream", name="stderr", text="FAIL c: wrong shape\nusing the reference instead\n")]
    assert grade.cell_check_lines(cell) == [("PASS", "a", "3 cases"), ("FAIL", "b", "off by 1 Hint: count again"),
                                            ("FAIL", "c", "wrong shape")]


def executed_00(exercise_output=None, check_output=None, separate_check=False):
    """00 as if run: the exercise cell's printed text (or an error), optionally its check call in its own cell."""
    nb = solution(SETUP)
    cell = cell_of(nb, "answer_token_ids")
    if separate_check:
        cell.source = cell.source.replace("helpers.check.answer_token_ids(answer_token_ids, base_tokenizer)", "")
        nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(
            "helpers.check.answer_token_ids(answer_token_ids, base_tokenizer)"))
        nb.cells[nb.cells.index(cell) + 1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=check_output)]
    if isinstance(exercise_output, str):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=exercise_output)]
    elif exercise_output is not None:
        cell.outputs = [nbformat.v4.new_output("error", ename=type(exercise_output).__name__,
                                               evalue=str(exercise_output), traceback=[])]
    return nb


@pytest.mark.parametrize("executed, run, want", [
    (executed_00("PASS answer_token_ids: 3 cases\n"), "ok", ("pass", "")),
    (executed_00("FAIL answer_token_ids: wrong\nHint: look\n"), "ok", ("fail", "FAIL answer_token_ids: wrong Hint: look")),
    (executed_00(NameError("name 'x' is not defined")), "ok",
     ("fail", "the exercise cell raised NameError: name 'x' is not defined")),
    (executed_00(), "ok", ("fail", "no self-check line for answer_token_ids")),
    (executed_00(), "timeout", ("timeout", "timed out after 9 s before its self-check ran")),
    # a check printed in its own cell, under a name the kit does not know (renamed): still this exercise's line
    (executed_00("", "PASS Exercise 1: 3 cases\n", separate_check=True), "ok", ("pass", "")),
    (executed_00("", "FAIL Exercise 1: wrong\n", separate_check=True), "ok", ("fail", "FAIL Exercise 1: wrong")),
    # another exercise's check line printed here does not count for this one
    (executed_00("PASS distinct_n: ok\n"), "ok", ("fail", "no self-check line for answer_token_ids")),
])
def test_one_exercise_is_graded_from_its_check_lines(executed, run, want):
    kit = grade.kit_notebooks()
    known = {name for k in kit.values() for ex in k.exercises for name in ex.checks}
    [ex] = kit["00_setup"].exercises
    assert grade.grade_exercise(executed, ex, run, "timed out after 9 s", known) == want


def test_answers_are_what_the_student_added_after_the_hand_in_heading():
    ref = solution(ROOT / "notebooks" / "02_what-lora-saves.ipynb")   # its appendix comes after the hand-in cell
    assert grade.answers(ref, ref) == []
    mine = solution(ROOT / "notebooks" / "02_what-lora-saves.ipynb")
    at = next(i for i, c in enumerate(mine.cells) if grade.HAND_IN.search(c.source))
    mine.cells[at].source += "\n\n(a) Activations dominate."
    mine.cells.insert(at + 1, nbformat.v4.new_markdown_cell("(b) The activations."))
    mine.cells.insert(at + 2, nbformat.v4.new_markdown_cell("   "))
    assert grade.answers(mine, ref) == ["(a) Activations dominate.", "(b) The activations."]


def test_stored_output_flags():
    assert grade.stored_output_flags(solution(SETUP), VERSION) == [
        "no stored outputs: the notebook was not run before it was handed in"]
    assert grade.stored_output_flags(stored_outputs(solution(SETUP)), VERSION) == []
    assert grade.stored_output_flags(stored_outputs(solution(SETUP), "0.9"), VERSION) == [
        f"stored outputs made by course kit 0.9; graded with course kit {VERSION}"]


def test_every_setup_cell_prints_this_kits_version(capsys, monkeypatch):
    import helpers

    assert grade.kit_version() == helpers.__version__
    monkeypatch.chdir(ROOT / "notebooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        exec(solution(path).cells[1].source, {})
        assert capsys.readouterr().out.startswith(f"course kit {helpers.__version__} - files: {ROOT}"), path.name


def test_a_kernel_that_dies_is_an_error_not_a_hang(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('PASS early: ran')"), nbformat.v4.new_code_cell("import os; os._exit(3)"),
                nbformat.v4.new_code_cell("print('never')")]
    nbformat.write(nb, tmp_path / "dies.ipynb")
    status, message = grade.run_notebook(tmp_path / "dies.ipynb", tmp_path / "out" / "dies.ipynb", timeout=120)
    assert status == "error" and message.startswith("the notebook could not be run to the end: "), message
    assert "DeadKernelError" in message or "died" in message.lower(), message
    ran = nbformat.read(tmp_path / "out" / "dies.ipynb", as_version=4)   # saved cell by cell: what ran is kept
    assert grade.cell_check_lines(ran.cells[0]) == [("PASS", "early", "ran")]


def test_stopping_the_grader_stops_its_runs(tmp_path):
    """SIGTERM (or Ctrl+C) to grade.py kills the runner and the kernel of the notebook in progress."""
    pidfile = tmp_path / "kernel.pid"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import os; open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                                          "while True:\n    pass")]
    hand_in(tmp_path / "in" / "zoe", "00_setup.ipynb", nb)
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "grade.py"), str(tmp_path / "in"),
                             "--out", str(tmp_path / "out"), "--timeout", "300"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not pidfile.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    kernel = int(pidfile.read_text())
    proc.terminate()
    assert proc.wait(timeout=30) == 130
    assert "interrupted: the runs in progress were stopped" in proc.stderr.read()
    assert not (tmp_path / "out" / "grades.csv").exists()
    time.sleep(0.5)
    status = Path(f"/proc/{kernel}/status")
    assert not status.exists() or "zombie" in status.read_text(), f"the looping kernel {kernel} still runs"
