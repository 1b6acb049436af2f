"""scripts/teachers/grade.py: grading a folder of handed-in notebooks, from the grader's own checks, inside a sandbox.

The batch is synthetic: hand-ins built here from the kit's 03 solution notebook - solved, and one for each way of
forging a grade the issue lists (a printed PASS line with the check call deleted and stored outputs that show it, a
PASS line under a made-up check name, an always-pass ``helpers.check.<name>``, no-op comparison helpers, a
``print`` that rewrites FAIL, the answers module imported or carried), a hard-coded answer that only the hidden
check catches, solutions in new cells under the untouched stubs, and one hand-in that tries every escape from the
sandbox - graded for real (quick profile, two notebooks at a time) and compared row by row with what they must give.
"""
import concurrent.futures
import contextlib
import csv
import io
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
from scripts.teachers import build_student, grade
from tools import notebook

VERSION = grade.kit_version()
SETUP = ROOT / "notebooks" / "00_setup.ipynb"
SFT = ROOT / "notebooks" / "03_sft.ipynb"
SAVES = ROOT / "notebooks" / "02_what-lora-saves.ipynb"
EXERCISES = {"split_dialogue": ("03.1", "split a dialogue"), "masked_labels": ("03.2", "the masked labels"),
             "real_token_share": ("03.3", "the real-token share")}
CALLS = {"split_dialogue": "split_dialogue = helpers.check.split_dialogue(split_dialogue)",
         "masked_labels": "masked_labels = helpers.check.masked_labels(masked_labels, tokenizer)",
         "real_token_share": "real_token_share = helpers.check.real_token_share(real_token_share)"}
SANDBOX = grade.bwrap() is not None
LOOP_LIMIT = 30   # the least of erin's limit (the batch fixture raises it on a slow machine)
# a detached "sleep 86421.<pid>" that must not outlive its sandbox (this run's own: another run of these tests on the
# machine has its own)
SLEEP = f"86421.{os.getpid()}"


def solution(path):
    return nbformat.read(path, as_version=4)


def cell_of(nb, name):
    """The LAST code cell that defines ``name``."""
    return [c for c in nb.cells if c.cell_type == "code" and re.search(rf"^(def|class) {name}\b", c.source, re.M)][-1]


def stub(nb, name, body='raise NotImplementedError("Exercise: write your code here")'):
    """Replace the solution block of the cell defining ``name`` by ``body``, as the student build does."""
    cell = cell_of(nb, name)
    cell.source, n = re.subn(r"^([ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION[^\n]*",
                             lambda m: m.group(1) + body, cell.source, flags=re.S | re.M)
    assert n == 1, name
    return nb


def unsolved(path=SFT):
    nb = solution(path)
    for name in EXERCISES:
        stub(nb, name)
    return nb


def stored_outputs(nb, version=VERSION):
    """Outputs as a student's run leaves them: execution counts, and the setup cell's kit line (if ``version``)."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            if notebook.mentions_setup(cell.source):
                text = (f"course kit {version} - files: /content/course\n" if version else "Course files: /content/course\n")
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def add_cell(nb, source, after=None):
    at = len(nb.cells) if after is None else nb.cells.index(after) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(source))
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


def processes_with(text: str) -> list[int]:
    """Pids whose command line (arguments joined by spaces, one after the last) contains ``text``: end it with a
    space to match a whole argument (``sleep 86421.12 `` is not ``sleep 86421.123``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


# ---------------------------------------------------------------- the adversarial batch

def forged_batch(handins: Path, out: Path, port: int) -> None:
    """One hand-in per forgery (all on the unsolved 03 but 'honest', 'hardcoded', 'below' and 'carrier')."""
    # honest: solved, run before hand-in, handed in as homework.ipynb (matched by metadata, not by name)
    hand_in(handins / "honest", "homework.ipynb", stored_outputs(solution(SFT)))
    # printed: each check call replaced by the PASS line it would print; stored outputs show the PASS lines
    nb = stored_outputs(unsolved())
    for name in EXERCISES:
        cell = cell_of(nb, name)
        cell.source = cell.source.replace(CALLS[name], f'print("PASS {name}: 3 cases")')
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"PASS {name}: 3 cases\n")]
    hand_in(handins / "printed", "03_sft.ipynb", nb)
    # own_tests: a PASS line under a name no check uses (in a cell where the next three forgeries put theirs)
    nb = unsolved()
    hand_in(handins / "own_tests", "03_sft.ipynb",
            add_cell(nb, 'print("PASS my_own_tests: 12 of 12")', after=nb.cells[4]))
    # patched: an always-pass function assigned to helpers.check.<name>, before the checks run
    nb = unsolved()
    add_cell(nb, "def always(fn, *args, **kwargs):\n    print('PASS', fn.__name__)\n    return fn\n\n"
                 + "\n".join(f"helpers.check.{n} = always" for n in EXERCISES), after=nb.cells[4])
    hand_in(handins / "patched", "03_sft.ipynb", nb)
    # noops: helpers.check.sft's comparison helpers made no-ops
    nb = unsolved()
    add_cell(nb, "import helpers.check.sft as _sft\n"
                 "_sft.equal = _sft.close = _sft.failed = lambda *a, **k: None\n"
                 "_sft.attempt = lambda name, fn, *a, hint='', **k: None", after=nb.cells[4])
    hand_in(handins / "noops", "03_sft.ipynb", nb)
    # printer: builtins.print (and stderr) rewrite FAIL as PASS
    nb = unsolved()
    add_cell(nb, "import builtins, sys\n_print = builtins.print\n"
                 "def print(*args, **kwargs):\n"
                 "    kwargs['file'] = sys.stdout\n"
                 "    _print(*(str(a).replace('FAIL', 'PASS') for a in args), **kwargs)\n"
                 "builtins.print = print", after=nb.cells[4])
    hand_in(handins / "printer", "03_sft.ipynb", nb)
    # importer: the answers imported from helpers.check._reference, below the stubs
    hand_in(handins / "importer", "03_sft.ipynb", add_cell(
        unsolved(), "from helpers.check._reference import split_dialogue, masked_labels, real_token_share"))
    # carrier: the answers module's code pasted into the last cell (it computes the right answers: flagged)
    hand_in(handins / "carrier", "03_sft.ipynb",
            add_cell(unsolved(), (ROOT / "helpers" / "check" / "_reference.py").read_text()))
    # hardcoded: real_token_share looks the visible check's cases up (the hidden check has others)
    from helpers.check import _reference as ref, sft
    table = {(tuple(l), b, p): ref.real_token_share(l, b, p) for l, b, p in sft._SHARE_CASES}
    hand_in(handins / "hardcoded", "03_sft.ipynb",
            stub(solution(SFT), "real_token_share", f"return {table!r}[(tuple(lengths), batch_size, pad_to)]"))
    # below: untouched stubs, self-check calls deleted, the solutions in new cells at the end
    nb, done = unsolved(), solution(SFT)
    for name in EXERCISES:
        cell_of(nb, name).source = cell_of(nb, name).source.replace(CALLS[name], "")
        add_cell(nb, cell_of(done, name).source.replace(CALLS[name], ""))
    hand_in(handins / "below", "03_sft.ipynb", nb)
    # mixup: 02 handed in under 03's name
    hand_in(handins / "mixup", "03_sft.ipynb", solution(SAVES))
    if SANDBOX:
        escape_handin(handins, out, port)


def escape_handin(handins: Path, out: Path, port: int) -> None:
    """'escaper': right answers for 03.2 and 03.3 whose code tries every escape; 03.1 copies a sibling's answer."""
    honest = handins / "honest" / "homework.ipynb"
    attempts = f"""
    import os, socket, subprocess
    for target in ({str(ROOT / "helpers" / "check" / "sft.py")!r}, "/kit/helpers/check/sft.py",
                   "/kit/helpers/pwned.py", {str(ROOT / "helpers" / "pwned.py")!r}):
        try:
            with open(target, "a") as f:
                f.write("\\n# pwned\\n")
        except OSError:
            pass
    for target in ({str(out / "grades.csv")!r}, {str(out / "forged.csv")!r}):
        try:
            with open(target, "a") as f:
                f.write("escaper,03_sft,03.4,bonus,,pass,\\n")
        except OSError:
            pass
    try:
        subprocess.Popen(["setsid", "sh", "-c", "sleep {SLEEP}; echo late >> {out / 'grades.csv'}"],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        pass
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"escaped")
    except OSError:
        pass
"""
    nb = solution(SFT)
    copied = f"""
    import json, re
    cells = json.load(open({str(honest)!r}))["cells"]
    source = next("".join(c["source"]) for c in cells if "def split_dialogue" in "".join(c["source"]))
    namespace = {{}}
    exec(source.split("split_dialogue = helpers")[0], namespace)
    return namespace["split_dialogue"](text)"""
    stub(nb, "split_dialogue", copied.strip().replace("\n    ", "\n    "))
    for name in ("masked_labels", "real_token_share"):
        cell = cell_of(nb, name)
        cell.source = cell.source.replace("    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n" + attempts, 1)
    hand_in(handins / "escaper", "03_sft.ipynb", nb)


@pytest.fixture(scope="module")
def grade_recordings(tmp_path_factory):
    """The batches' recordings folder (grade.py --recordings): a kit notebook's cells run once for the checks'
    inputs, and each later batch of this module, or grade.py run as a command, replays them."""
    return tmp_path_factory.mktemp("grade-recordings")


@pytest.fixture(scope="module")
def batch(tmp_path_factory, grade_recordings):
    tmp = tmp_path_factory.mktemp("grading")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.1)
    handins, out = tmp / "handins", tmp / "graded"
    forged_batch(handins, out, listener.getsockname()[1])
    lora_batch_handins(tmp / "01" / "handins")
    sft_before = grade.kit_hash(grade.ROOT)
    first = io.StringIO()
    # 03's batch (what it says is checked below) and, on the other core while 03's lesson cells are recorded, 01's:
    # both into the module's recordings folder (the grade_recordings fixture above), which every later batch and the stop test replay
    with contextlib.redirect_stderr(first), concurrent.futures.ThreadPoolExecutor(1) as pool:
        lora_recorded = pool.submit(grade.record_kit, ["01_lora-from-scratch"], grade_recordings)
        start = time.perf_counter()
        grade.grade(handins, out, timeout=300, jobs=2, recordings=grade_recordings)   # the default limit
        seconds = time.perf_counter() - start
        lora_recorded.result()
    sys.stderr.write(first.getvalue())
    # erin: an endless loop in her second exercise, graded after the batch with a limit of three times its slowest
    # hand-in (so her first check has time to run however loaded the machine is). The loop sleeps instead of
    # spinning, and 01's class batch (lora_batch) is graded while she waits: the limit is wall-clock time, the same
    # case. Both batches replay the recordings saved above.
    loops = tmp / "loops"
    hand_in(loops / "erin", "03_sft.ipynb", stub(solution(SFT), "masked_labels",
                                                 "import time\n    while True:\n        time.sleep(1)"))
    slowest = max(graded_seconds(out, s.stem) for s in (out / "reports").glob("*.md"))
    loop_limit = max(LOOP_LIMIT, math.ceil(3 * slowest))

    def timed(*args, **kwargs):
        start = time.perf_counter()
        grade.grade(*args, **kwargs)
        return time.perf_counter() - start

    said = io.StringIO()
    with contextlib.redirect_stderr(said), concurrent.futures.ThreadPoolExecutor(2) as pool:
        loop = pool.submit(timed, loops, tmp / "loops-graded", timeout=loop_limit, jobs=1, recordings=grade_recordings)
        lora = pool.submit(timed, tmp / "01" / "handins", tmp / "01" / "graded", timeout=600, jobs=2,
                           recordings=grade_recordings)
        loop_seconds, lora_seconds = loop.result(), lora.result()
    connections = []
    try:
        while True:
            connections.append(listener.accept())
    except OSError:
        pass
    listener.close()
    return dict(out=out, rows=read_csv(out), seconds=seconds, recordings=grade_recordings,
                loop_rows=read_csv(tmp / "loops-graded"), loop_seconds=loop_seconds, said_first=first.getvalue(), loop_limit=loop_limit, said=said.getvalue(), connections=connections,
                kit_unchanged=grade.kit_hash(grade.ROOT) == sft_before,
                lora=dict(rows=read_csv(tmp / "01" / "graded"), seconds=lora_seconds, out=tmp / "01" / "graded"))


def graded_seconds(out: Path, student: str) -> float:
    """Seconds the grading of a student's notebook took (its report's heading says), the lesson's cells excluded."""
    text = (out / "reports" / f"{student}.md").read_text(encoding="utf-8")
    return max((float(s) for s in re.findall(r"^## \S+ \((\d+) s\)$", text, re.M)), default=0.0)


def test_the_default_limit_holds_with_margin(batch, lora_batch):
    """Each hand-in replays the checks on inputs the lesson's cells computed once: no training per hand-in, so even
    on a loaded machine a notebook takes at most two thirds of the default 300 s (01 is among the slowest to grade)."""
    slowest = {out.parent.name: max(graded_seconds(out, s.stem) for s in (out / "reports").glob("*.md"))
               for out in (batch["out"], lora_batch["out"])}
    print(f"\nslowest hand-in: {slowest} s; load average {os.getloadavg()}")
    assert max(slowest.values()) < 300 * 2 / 3, slowest


def rows_of(rows, student):
    return [r for r in rows if r["student"] == student]


def statuses(rows, student):
    return {r["exercise"]: r["status"] for r in rows_of(rows, student) if r["exercise"] != "notebook"}


ALL_PASS = {"03.1": "pass", "03.2": "pass", "03.3": "pass"}
ALL_FAIL = {"03.1": "fail", "03.2": "fail", "03.3": "fail"}


def test_the_table_of_forged_hand_ins(batch):
    rows = batch["rows"]
    print(f"\nbatch of {len({r['student'] for r in rows})} hand-ins graded in {batch['seconds']:.0f} s")
    for row in rows:
        print(",".join(row.values()))
    assert statuses(rows, "honest") == ALL_PASS
    for student in ("printed", "own_tests", "patched", "noops", "printer", "importer"):
        assert statuses(rows, student) == ALL_FAIL, student
    assert statuses(rows, "hardcoded") == {"03.1": "pass", "03.2": "pass", "03.3": "fail"}
    assert statuses(rows, "below") == ALL_PASS
    assert statuses(rows, "carrier")["03.3"] == "pass"   # the answers module's code computes right answers: flagged
    # own_tests, patched, noops and printer differ only in statements the grader never runs: one sandbox run grades
    # all four
    assert "3 hand-in(s) had the same definitions as an earlier one: graded on its run" in batch["said_first"]


def test_what_the_rows_say(batch):
    rows = batch["rows"]
    msg = {(r["student"], r["exercise"]): r["message"] for r in rows if r["exercise"] != "notebook"}
    flags = {s: [r["message"] for r in rows_of(rows, s) if r["exercise"] == "notebook"] for s in {r["student"] for r in rows}}
    assert flags["honest"] == [] and msg[("honest", "03.1")] == ""
    # the printed PASS: the re-run's FAIL, the removed call said, and the stored outputs flagged
    assert msg[("printed", "03.1")].startswith("FAIL split_dialogue: not implemented yet")
    assert msg[("printed", "03.1")].endswith("the self-check call was removed (the answer was judged anyway)")
    assert any("03.1: the stored outputs show PASS split_dialogue, but graded again it is fail" in f
               for f in flags["printed"])
    assert msg[("noops", "03.2")].startswith("FAIL masked_labels: not implemented yet")
    assert msg[("importer", "03.1")].startswith("FAIL split_dialogue: your code raised ImportError: the answers module")
    assert any(f.startswith("uses the answers module helpers.check._reference (cell") for f in flags["importer"])
    assert any(f.startswith("used the answers module while graded: ") for f in flags["importer"])
    assert any(f.startswith("carries the code of the answers module") for f in flags["carrier"])
    assert msg[("hardcoded", "03.3")].startswith("FAIL hidden check real_token_share: ")
    assert msg[("below", "03.2")] == "the self-check call was removed (the answer was judged anyway)"
    [mixup] = rows_of(rows, "mixup")
    assert mixup["status"] == "error" and mixup["message"].startswith(
        "this is 02_what-lora-saves handed in as 03_sft.ipynb (the name of 03_sft)")


def test_every_escape_fails_and_the_grade_stands(batch):
    if not SANDBOX:
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is not usable on this CI machine: .ci/run installs it")
        pytest.skip("bubblewrap is not usable here (CI installs it; grade.py warns)")
    rows = batch["rows"]
    # reading a sibling's hand-in failed, so the copied answer is not there; the honest code still passes
    assert statuses(rows, "escaper") == {"03.1": "fail", "03.2": "pass", "03.3": "pass"}
    assert "FAIL split_dialogue: your code raised FileNotFoundError" in rows_of(rows, "escaper")[0]["message"] or \
        "FileNotFoundError" in " ".join(r["message"] for r in rows_of(rows, "escaper"))
    assert batch["kit_unchanged"], "a hand-in changed the kit"
    assert not (ROOT / "helpers" / "pwned.py").exists()
    assert "pwned" not in (ROOT / "helpers" / "check" / "sft.py").read_text()
    assert not (batch["out"] / "forged.csv").exists()
    time.sleep(1)
    assert read_csv(batch["out"]) == batch["rows"], "grades.csv changed after the batch"
    assert not any(r["exercise"] == "03.4" for r in batch["rows"])
    assert processes_with(f"sleep {SLEEP} ") == [], "a process of the hand-in outlived its sandbox"
    assert batch["connections"] == [], "a hand-in opened a socket to this machine"


def test_an_endless_loop_times_out_and_only_the_checks_that_never_ran_are_blamed(batch):
    limit = batch["loop_limit"]
    assert [key(r) + (r["message"],) for r in batch["loop_rows"] if r["status"] != "flag"] == [
        ("erin", "03_sft", "notebook", "", "", "timeout", f"timed out after {limit} s"),
        ("erin", "03_sft", "03.1", "split a dialogue", "⭐⭐", "pass", ""),     # judged before the loop
        ("erin", "03_sft", "03.2", "the masked labels", "⭐⭐", "timeout", f"timed out after {limit} s before its "
         "check ran"),
        ("erin", "03_sft", "03.3", "the real-token share", "⭐⭐", "timeout", f"timed out after {limit} s before "
         "its check ran"),
    ]
    assert graded_seconds(batch["out"].parent / "loops-graded", "erin") < limit + 30, "the time limit was not enforced"
    assert f"03_sft: the kit's cells run earlier, saved in {batch['recordings'] / '03_sft.json'}" in batch["said"], \
        batch["said"]


def test_a_timeout_is_blamed_only_on_the_checks_that_never_ran():
    [ex1, ex2, ex3] = grade.kit_notebooks()["03_sft"].exercises
    events = [{"cell": 12}, {"check": "split_dialogue", "status": "pass", "message": ""},
              {"check": "masked_labels", "status": "fail", "message": "masked_labels: 2 prompt token(s) are trained"}]
    assert grade.grade_exercise(ex1, events, "timeout", "timed out after 9 s") == ("pass", "")
    assert grade.grade_exercise(ex2, events, "timeout", "timed out after 9 s") == (
        "fail", "FAIL masked_labels: 2 prompt token(s) are trained")
    assert grade.grade_exercise(ex3, events, "timeout", "timed out after 9 s") == (
        "timeout", "timed out after 9 s before its check ran")


def test_the_report_holds_the_grades_and_the_flags(batch):
    report = (batch["out"] / "reports" / "importer.md").read_text(encoding="utf-8")
    assert "0 of 3 exercises pass" in report and "uses the answers module" in report
    assert "3 of 3 exercises pass" in (batch["out"] / "reports" / "honest.md").read_text(encoding="utf-8")


def test_the_command_line_prints_a_summary_and_refuses_a_bad_folder(batch, tmp_path, capsys):
    print(grade.summary(batch["rows"], batch["out"]))
    text = capsys.readouterr().out
    assert re.search(r"honest\s+3\s+0\s+0\s+0", text)
    with pytest.raises(SystemExit, match="not a folder"):
        grade.main([str(tmp_path / "missing")])
    (tmp_path / "in").mkdir()
    with pytest.raises(SystemExit, match="inside the hand-in folder"):
        grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "in" / "graded")])
    with pytest.raises(SystemExit, match="no .ipynb files"):
        grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "graded")])


# ---------------------------------------------------------------- the parts, without running a notebook

def test_which_notebook_a_hand_in_is():
    kit = grade.kit_notebooks()
    sft, saves = solution(SFT), solution(SAVES)
    assert grade.identify(Path("homework.ipynb"), sft, kit) == ("03_sft", "")
    stem, why = grade.identify(Path("03_sft.ipynb"), saves, kit)
    assert stem is None and why.startswith("this is 02_what-lora-saves handed in as 03_sft.ipynb (the name of 03_sft)")
    del saves.metadata["course"]["notebook"]       # an old kit without the metadata: what it defines tells
    stem, why = grade.identify(Path("alice_03_sft.ipynb"), saves, kit)
    assert stem is None and why.startswith("this looks like 02_what-lora-saves (it defines 02_what-lora-saves's")
    assert grade.identify(Path("anything.ipynb"), saves, kit) == ("02_what-lora-saves", "")
    assert all(grade.identify(k.path, k.nb, kit) == (s, "") for s, k in kit.items())


def test_the_final_definition_counts_and_nothing_else_of_the_hand_in_runs():
    nb = unsolved()
    add_cell(nb, "def split_dialogue(text):\n    return 'mine'\n\nprint('PASS split_dialogue')\nhelpers.check.x = 1\n"
                 "LIMIT = 3\nfrom math import pi\nz = compute()")
    statements, final, errors = grade.definitions(nb)
    sources = [s for _, s in statements]
    assert final["split_dialogue"] == len(nb.cells) - 1 and errors == {}
    assert [s for s in sources if s.startswith("def split_dialogue")] == ["def split_dialogue(text):\n    return 'mine'"]
    assert "LIMIT = 3" in sources and "from math import pi" in sources
    assert not any("print(" in s.split("\n")[0] or "helpers.check.x" in s or "compute()" in s for s in sources)
    nb.cells.append(nbformat.v4.new_code_cell("def broken(:\n    pass"))
    assert list(grade.definitions(nb)[2].values()) == ["SyntaxError: invalid syntax (line 1)"]


def test_the_answers_module_is_recognised_but_the_kit_notebooks_are_not_flagged():
    distinctive = grade._distinctive_answer_lines()
    assert len(distinctive) >= 10
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert grade.answer_flags(solution(path), distinctive) == [], path.name
    nb = unsolved()
    add_cell(nb, (ROOT / "helpers" / "check" / "_reference.py").read_text())
    assert [f.split(" (")[0] for f in grade.answer_flags(nb, distinctive)] == [
        "carries the code of the answers module helpers.check._reference"]


def test_the_sandbox_gets_a_read_only_copy_without_answers_or_hidden_checks(tmp_path):
    kit = grade.make_kit_copy(tmp_path / "kit")
    assert (kit / "helpers" / "check" / "sft.py").is_file() and not (kit / "helpers").is_symlink()
    assert not (kit / "helpers" / "check" / "_reference.py").exists()
    assert not (kit / "grading" / "hidden").exists()
    assert (kit / "data" / "hh_pref" / "train.jsonl").is_file()
    # data/source (tools/notebook.py's MAINTAINER_ONLY): make_data.py's text, which nothing the grader runs reads
    assert (ROOT / "data" / "source").is_dir() and not (kit / "data" / "source").exists()
    assert not os.access(kit / "helpers" / "check" / "sft.py", os.W_OK) or os.geteuid() == 0
    assert oct((kit / "helpers" / "check" / "sft.py").stat().st_mode)[-3:] == "444"
    cmd, seen = grade.sandbox_command("bwrap", kit, sys.executable, 1)
    assert seen == "/kit" and "--unshare-all" in cmd and "--clearenv" in cmd and "--die-with-parent" in cmd
    at = cmd.index(str(kit))
    assert cmd[at - 1:at + 2] == ["--ro-bind", str(kit), "/kit"]
    assert not any(str(ROOT) == c or str(ROOT / "helpers") == c for c in cmd), "the live kit is visible in the sandbox"
    for p in kit.rglob("*"):
        p.chmod(0o700)


def test_the_grading_stops_when_the_kit_changes(tmp_path, monkeypatch):
    hashes = iter(["a", "b"])
    monkeypatch.setattr(grade, "kit_hash", lambda root: next(hashes, "b"))
    monkeypatch.setattr(grade, "grade_one", lambda *a, **k: grade.Graded("x", "03_sft", []))
    hand_in(tmp_path / "in" / "x", "03_sft.ipynb", solution(SFT))
    with pytest.raises(SystemExit, match="the kit changed while grading x/03_sft.ipynb"):
        grade.grade(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out" / "grades.csv").exists()


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


def test_an_exercise_is_its_cells_metadata_and_a_solution_without_it_is_refused():
    """An exercise is what its cell's metadata.course says (the markdown above is not read); a solution cell
    without that metadata is refused, naming the cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("**⭐ Exercise 1 - an old title.**"),
                nbformat.v4.new_code_cell("def f(x):\n    raise NotImplementedError\n\nhelpers.check.f_check(f)"),
                nbformat.v4.new_code_cell("helpers.check.g_check(f)\nhelpers.check.learned(True, 'x')")]
    nb.cells[1].metadata["course"] = {"exercise": "09.7", "title": "a new title", "tier": "⭐⭐"}
    [ex] = grade.exercises(nb, "09_x")
    assert (ex.id, ex.title, ex.tier, ex.checks) == ("09.7", "a new title", "⭐⭐", ["f_check", "g_check"])
    nb.cells[1].metadata = {}
    nb.cells[1].source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    with pytest.raises(notebook.ConventionError, match=r"09_x, cell 1 \(id .*\) has 1 solution block\(s\) but no"):
        grade.exercises(nb, "09_x")
    two = "\n".join(f"def {n}(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION" for n in "fg")
    nb.cells[1].source = two + "\n\nhelpers.check.f_check(f)\nhelpers.check.g_check(g)"
    nb.cells[1].metadata["course"] = {"exercise": "09.7", "title": "f", "tier": "⭐",
                                      "blocks": [{"exercise": "09.7", "title": "f"}, {"exercise": "09.8", "title": "g"}]}
    nb.cells[2].source = ""
    assert [(ex.id, ex.checks) for ex in grade.exercises(nb, "09_x")] == [("09.7", ["f_check"]), ("09.8", ["g_check"])]
    nb.cells[1].source = two + "\n\nhelpers.check.f_check(f)"      # two exercises, one check: never merged into one row
    with pytest.raises(notebook.ConventionError, match=r"holds exercises 09.7, 09.8 but calls 1 check"):
        grade.exercises(nb, "09_x")


def test_check_lines_are_read_with_their_hint():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="PASS a: 3 cases\nFAIL b: off by 1\nHint: count again\n"),
        nbformat.v4.new_output("stream", name="stderr", text="FAIL c: wrong shape\nusing the reference instead\n")]
    assert grade.cell_check_lines(cell) == [("PASS", "a", "3 cases"), ("FAIL", "b", "off by 1 Hint: count again"),
                                            ("FAIL", "c", "wrong shape")]


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


def wait_for(condition, seconds: float, every: float = 0.2):
    """Poll ``condition`` until it gives something true or ``seconds`` pass; its last value."""
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(every)
    return value


def test_stopping_the_grader_stops_its_runs(batch, tmp_path):
    """SIGTERM (or Ctrl+C) to grade.py kills the sandbox of the notebook in progress, and all it started."""
    marker = f"86423.{os.getpid()}"     # this run's own (GNU sleep takes fractions)
    nb = stub(solution(SFT), "split_dialogue", f"import subprocess\n    subprocess.run(['sleep', '{marker}'])")
    hand_in(tmp_path / "in" / "zoe", "03_sft.ipynb", nb)   # her first check, on the batch's saved recording of 03
    assert (batch["recordings"] / "03_sft.json").is_file(), "the batch saved no recording of 03 to replay"
    # grade.py run as a command finds the kit as the tests do (pytest.ini's pythonpath), installed or not
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "teachers" / "grade.py"), str(tmp_path / "in"),
                             "--out", str(tmp_path / "out"), "--timeout", "300", "--recordings", str(batch["recordings"])],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        # the event itself, not a guess at how long it takes: her sleep started, or grade.py ended without it (a
        # loaded machine takes minutes to reach the first check)
        wait_for(lambda: processes_with(f"sleep {marker} ") or proc.poll() is not None, 400)
        if not processes_with(f"sleep {marker} "):
            ended = proc.poll()
            proc.kill()
            pytest.fail("the hand-in's code never ran: " + (f"grade.py ended (exit {ended}) first: "
                        f"{proc.communicate()[1][-2000:]}" if ended is not None else "not within 400 s"))
        proc.terminate()
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted: the runs in progress were stopped" in proc.stderr.read()
    assert not (tmp_path / "out" / "grades.csv").exists()

    def alive():
        found = []
        for pid in processes_with(f"sleep {marker} "):
            try:
                if "zombie" not in Path(f"/proc/{pid}/status").read_text():
                    found.append(pid)
            except OSError:          # ended between the two looks
                pass
        return found
    wait_for(lambda: not alive(), 30)    # the kernel takes a moment to end a killed PID namespace's processes
    assert alive() == [], "the hand-in's process still runs"


# ---------------------------------------------------------------- 01: class exercises judged in the grader's process

LORA = ROOT / "notebooks" / "01_lora-from-scratch.ipynb"
LORA_IDS = ["01.1", "01.2", "01.3", "01.4", "01.5"]

# class-body code that, in the student's process, patches every piece of the checks it can reach and tries to write
# PASS verdicts into the worker's result pipe
PATCH_CHECKS = '''
    import os as _os
    import helpers.check as _hc
    import helpers.check.lora as _hl
    for _n in ("lora_forward", "lora_merge", "inject_lora", "dora_forward"):
        getattr(_hc, _n).judge = lambda inputs, data: None
    _hl.close = _hl.equal = lambda *a, **k: 0.0
    _hl.failed = lambda *a, **k: None
    _hl.attempt = lambda name, fn, *a, hint="", **k: None
    print("PASS lora_forward: forged")
    try:                             # the worker's verdict pipe
        _fd = _os.open("/proc/%d/fd/3" % _os.getppid(), _os.O_WRONLY)
        for _n in ("lora_scaling", "lora_forward", "lora_merge", "inject_lora", "dora_forward"):
            _os.write(_fd, ('{"check": "%s", "name": "x", "status": "pass", "message": ""}\\n' % _n).encode())
    except OSError:
        pass
'''
# a function, called from a class body, that replaces each probe by one that sends plausible data: the frozen
# layer's outputs, zero gradients, the right names and counts, logits of an untouched model
FORGE_PROBES = '''
def forge_probes():
    import helpers.check as hc
    import torch as t

    def lin(s, x):
        return x.float() @ s["weight"].T + (s["bias"] if s["bias"] is not None else 0)

    def forward(cls, inputs):
        return {"layers": [{"out": lin(s, s["x"]), "requires_grad": True,
                            "grads": {"A": t.zeros_like(s["A"]), "B": t.zeros_like(s["B"])}} for s in inputs["layers"]],
                "dropout": lin(inputs["dropout"], inputs["dropout"]["x"]),
                "half": [{"factors": ("torch.float32", "torch.float32"),
                          "out": lin(s, s["x"].float()).to(getattr(t, s["dtype"]))} for s in inputs["half"]]}

    def merge(cls, inputs):
        return {"layers": [{"delta": t.zeros_like(s["weight"]), "merged": s["weight"], "after": lin(s, s["x"]),
                            "restored": s["weight"]} for s in inputs["layers"]]}

    def dora(cls, inputs):
        return {"layers": [{"initial": s["weight"].norm(dim=1), "start": lin(s, s["x"]), "out": lin(s, s["x"]),
                            "grads": {"A": t.zeros_like(s["A"]), "B": t.zeros_like(s["B"]),
                                      "magnitude": t.zeros_like(s["magnitude"])}} for s in inputs["layers"]]}

    def inject(fn, inputs):
        from helpers.models import load_model
        cases = []
        for case in inputs["cases"]:
            model = load_model(case["model_id"], "quick", device="cpu")
            params = [(n, p.numel(), False) for n, p in model.named_parameters()]
            for layer, (A, B) in case["factors"].items():
                params += [(layer + ".A", A.numel(), True), (layer + ".B", B.numel(), True)]
            with t.no_grad():
                logits = model(input_ids=inputs["ids"]).logits
            cases.append({"names": sorted(case["factors"]), "params": params, "logits": logits, "trained": logits})
        return {"cases": cases, "wrong_name": "ValueError"}

    hc.lora_forward.probe, hc.lora_merge.probe, hc.dora_forward.probe, hc.inject_lora.probe = forward, merge, dora, inject
'''
# answers that lie: an object equal to everything, a tensor subclass equal to everything, a list equal to any list
CRAFTED = '''
class Yes:
    """Equal to everything, close to everything."""
    shape = dtype = requires_grad = None

    def __eq__(self, other):
        return True

    def __getattr__(self, name):
        return lambda *a, **k: Yes()


class YesTensor(torch.Tensor):
    def __eq__(self, other):
        return torch.ones_like(other, dtype=torch.bool) if isinstance(other, torch.Tensor) else True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func.__name__ in ("allclose", "equal", "isclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


class AnyNames(list):
    def __eq__(self, other):
        return True
'''


def in_class(nb, cls, code):
    """``code`` (class-level lines) put first in the body of the LAST definition of class ``cls``."""
    cell = cell_of(nb, cls)
    cell.source = re.sub(rf"^(class {cls}\b.*:\n)", lambda m: m.group(1) + code.strip("\n") + "\n", cell.source,
                         count=1, flags=re.M)
    return nb


def lora_unsolved():
    return build_student.student_notebook(solution(LORA), LORA.stem)


def lora_batch_handins(handins: Path) -> None:
    hand_in(handins / "honest", "01_lora-from-scratch.ipynb", solution(LORA))
    hand_in(handins / "unsolved", "01_lora-from-scratch.ipynb", lora_unsolved())
    # everything solved but the scaling: the class is judged on the reference scaling, as the notebook runs it
    hand_in(handins / "no_scaling", "01_lora-from-scratch.ipynb", stub(solution(LORA), "lora_scaling"))
    nb = in_class(lora_unsolved(), "LoRALinear", PATCH_CHECKS)
    cell = cell_of(nb, "inject_lora")           # a function that, when called, patches the counting and freezes
    cell.source = re.sub(r"raise NotImplementedError\(.*\)", "import helpers.measure\n    helpers.measure.count_parameters"
                         " = lambda m: (7168, 134522496)\n    model.requires_grad_(False)", cell.source, count=1)
    hand_in(handins / "patcher", "01_lora-from-scratch.ipynb", nb)
    nb = in_class(lora_unsolved(), "LoRALinear", "    forge_probes()")
    add_cell(nb, FORGE_PROBES, after=nb.cells[5])
    hand_in(handins / "prober", "01_lora-from-scratch.ipynb", nb)
    nb = lora_unsolved()
    add_cell(nb, CRAFTED, after=nb.cells[5])
    cell = cell_of(nb, "LoRALinear")
    cell.source = re.sub(r'raise NotImplementedError\("Exercise [23][^\n]*', "return Yes()", cell.source)
    cell = cell_of(nb, "DoRALinear")
    cell.source = re.sub(r'raise NotImplementedError\("Exercise 5[^\n]*',
                         "self.magnitude = nn.Parameter(self.base.weight.detach().float().norm(dim=1))",
                         cell.source, count=1)
    cell.source = re.sub(r'raise NotImplementedError\("Exercise 5[^\n]*', "return self.base(x).as_subclass(YesTensor)",
                         cell.source, count=1)
    cell = cell_of(nb, "inject_lora")
    cell.source = re.sub(r"raise NotImplementedError\(.*\)", "return AnyNames(names)", cell.source, count=1)
    hand_in(handins / "crafty", "01_lora-from-scratch.ipynb", nb)


@pytest.fixture(scope="module")
def lora_batch(batch):
    """01's batch: graded inside the `batch` fixture, while erin's endless loop waits out its limit."""
    return batch["lora"]


def test_01s_class_exercises_cannot_be_forged_from_the_students_process(lora_batch):
    rows = lora_batch["rows"]
    print(f"\n01 batch graded in {lora_batch['seconds']:.0f} s")
    for row in rows:
        print(",".join(row.values()))
    assert statuses(rows, "honest") == dict.fromkeys(LORA_IDS, "pass")
    for student in ("unsolved", "patcher", "prober", "crafty"):
        assert statuses(rows, student) == dict.fromkeys(LORA_IDS, "fail"), student
    assert statuses(rows, "no_scaling") == dict(dict.fromkeys(LORA_IDS, "pass"), **{"01.1": "fail"})
    msg = {(r["student"], r["exercise"]): r["message"] for r in rows if r["exercise"] != "notebook"}
    for ex, check in zip(LORA_IDS, ["lora_scaling", "lora_forward", "lora_merge", "inject_lora", "dora_forward"]):
        assert msg[("unsolved", ex)].startswith(f"FAIL {check}: not implemented yet"), ex
    # the patched checks, comparison helpers and verdict pipe are the student's process's own: the worker judges
    assert msg[("patcher", "01.2")].startswith("FAIL lora_forward: your code raised AttributeError")
    assert msg[("patcher", "01.4")].startswith("FAIL inject_lora: the trainable count for HuggingFaceTB/SmolLM2-135M")
    # forged probes: every structural answer right, the behaviour (outputs, gradients, trained logits) not
    assert msg[("prober", "01.2")].startswith("FAIL lora_forward: the output of a 12 -> 7, r=4 layer is off by")
    assert msg[("prober", "01.3")].startswith("FAIL lora_merge: the delta_weight() is off by")
    assert msg[("prober", "01.4")].startswith("FAIL inject_lora: the logits with trained A and B")
    assert msg[("prober", "01.5")].startswith("FAIL dora_forward: the output with trained A, B, magnitude is off by")
    # crafted return values never reach a comparison as anything but data
    assert msg[("crafty", "01.2")].startswith("FAIL lora_forward: your code raised TypeError")
    assert msg[("crafty", "01.4")].startswith("FAIL inject_lora: the layer (Linear) has no parameter 'A'")
    assert msg[("crafty", "01.5")].startswith("FAIL dora_forward: the output with trained A, B, magnitude is off by")
    assert not [r for r in rows if r["status"] in ("error", "timeout")], "a check could not run"


def test_a_class_check_is_judged_from_data_alone():
    """The judge half of a split check never touches the student's object: right data passes, crafted data fails."""
    import copy

    from helpers import check
    from helpers.check import SelfCheckError

    from tests import check_cases_lora as cases

    for name, solved in [("lora_forward", cases.LoRALinear), ("lora_merge", cases.LoRALinear),
                         ("dora_forward", cases.DoRALinear)]:
        split = getattr(check, name)
        inputs = split.cases(7)                 # the grader's own seed, not the notebook's
        data = split.probe(solved, inputs)
        split.judge(inputs, data)
        forged = copy.deepcopy(data)
        first = forged["layers"][0]
        key = "out" if "out" in first else "delta"
        first[key] = type("Yes", (), {"__eq__": lambda self, other: True})()
        with pytest.raises(SelfCheckError, match="not a tensor"):
            split.judge(inputs, forged)
        first[key] = data["layers"][0][key] + 1e-3
        with pytest.raises(SelfCheckError, match="off by up to 0.001"):
            split.judge(inputs, forged)


def test_after_a_fail_the_students_process_gets_that_answer_alone():
    import helpers.check

    from grading import worker

    source = (ROOT / "helpers" / "check" / "_reference.py").read_text()
    for func, absent in [("build_lora_forward", {"lora_scaling", "build_lora_merge", "dpo_loss"}),
                         ("dpo_loss", {"sequence_logps", "beta_sweep", "lora_scaling"})]:
        scope = {}
        exec(worker.fallback_source(source, func), scope)
        assert callable(scope[func]) and not absent & set(scope), func
    assert worker.fallback_of(helpers.check.lora_forward) == ("build", "build_lora_forward")
    assert worker.fallback_of(helpers.check.lora_scaling) == ("reference", "lora_scaling")
    assert worker.fallback_of(helpers.check.dora_forward) is None        # the lesson does not use DoRALinear again


def test_a_saved_recording_is_replayed_only_for_the_same_kit(tmp_path):
    """grade.py --recordings: a recording saved under one key (the kit's hash and the notebook's recording job) is
    never replayed under another, a damaged or missing file means the kit's cells run again, and a recording that
    reached no check or met a failing kit cell is not kept."""
    rec = grade.Recording(b"\x80\x04inputs", [{"cell": 3}, {"check": "x", "recorded": True}], "ok", "", 1.5)
    path = grade.recording_file(tmp_path / "recordings", "03_sft")
    grade.save_recording(path, rec, "kit-a")
    assert grade.load_recording(path, "kit-a") == rec
    assert grade.load_recording(path, "kit-b") is None
    path.write_text("{not json", encoding="utf-8")
    assert grade.load_recording(path, "kit-a") is None
    assert grade.load_recording(tmp_path / "missing.json", "kit-a") is None
    assert grade.reusable(rec)                                     # kept for later batches; these are recorded again:
    assert not grade.reusable(grade.Recording(None, [], "ok", "", 1.0))                        # no check was reached
    assert not grade.reusable(grade.Recording(b"x", [{"cell": 3, "error": "MemoryError"}], "ok", "", 1.0))
    kit = grade.kit_notebooks()
    one, two = (grade.recording_key(stem, kit[stem], "kit-a") for stem in ("01_lora-from-scratch", "03_sft"))
    assert one != two and one == grade.recording_key("01_lora-from-scratch", kit["01_lora-from-scratch"], "kit-a")
    assert one != grade.recording_key("01_lora-from-scratch", kit["01_lora-from-scratch"], "kit-b")
    sft = kit["03_sft"]                                  # an edited lesson cell that the recording runs: another key
    cell = sft.nb.cells[grade.needed_cells(sft)[-1]]
    cell.source += "\n# edited"
    assert grade.recording_key("03_sft", sft, "kit-a") != two
    assert grade.recording_key("03_sft", sft, "kit-b") != grade.recording_key("03_sft", sft, "kit-a")  # another kit
    with pytest.raises(SystemExit, match="--record needs --recordings DIR"):
        grade.main(["--record", "00_setup"])
    with pytest.raises(SystemExit, match="no kit notebook 99_x"):
        grade.main(["--record", "99_x", "--recordings", str(tmp_path)])


def test_a_grading_job_carries_the_checks_but_parses_no_kit_cell(monkeypatch):
    """make_job: a recording runs the kit's cells the checks need (needed_cells parses every cell); a grading run
    replays the recorded inputs, so it gets the same checks and no cells - without the kit's cells being parsed."""
    sft = grade.kit_notebooks()["03_sft"]
    recording = grade.make_job("03_sft", sft, [], "record")
    assert recording["cells"] and recording["checks"] == grade.recording_checks(sft) == \
        grade.recording_job(sft)["checks"]
    assert "split_dialogue" in recording["checks"]             # 03.1's check
    monkeypatch.setattr(grade, "needed_cells", lambda ref: pytest.fail("a grading job parsed the kit's cells"))
    job = grade.make_job("03_sft", sft, ["x = 1"])
    assert job["mode"] == "grade" and job["cells"] == [] and job["checks"] == recording["checks"]
    assert job["statements"] == ["x = 1"]


def test_the_answers_module_and_the_hidden_checks_reach_the_recording_key_through_the_kits_hash(tmp_path):
    """recording_key hashes each input once: the answers module and the hidden checks, which the recording job
    carries, are kit files, so an edit of either changes ``kit_hash`` - and with it the key."""
    for part in grade.KIT_PARTS + ("grading/hidden",):
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        else:
            (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp_path / part)
    before = grade.kit_hash(tmp_path)
    assert before == grade.kit_hash(ROOT)                # the copy holds every file the hash reads
    kit = grade.kit_notebooks()
    key = grade.recording_key("03_sft", kit["03_sft"], before)
    for edited in ("helpers/check/_reference.py", "grading/hidden/03.py"):
        path = tmp_path / edited
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n# edited\n", encoding="utf-8")
        after = grade.kit_hash(tmp_path)
        assert after != before, f"{edited} is not in the kit's hash"
        assert grade.recording_key("03_sft", kit["03_sft"], after) != key
        path.write_text(text, encoding="utf-8")
    assert grade.kit_hash(tmp_path) == before


def test_hand_ins_with_the_same_definitions_share_one_finished_run(tmp_path, monkeypatch):
    """Two hand-ins whose definitions are the same statement for statement are run once and both graded from that
    run; a run that timed out is not shared (the next one runs for itself)."""
    runs = []
    monkeypatch.setattr(grade, "record", lambda *a, **k: grade.Recording(b"inputs", [], "ok", "", 0.1))
    for status in ("ok", "timeout"):
        def fake(job, timeout, threads, inputs, status=status):
            runs.append(job["statements"])
            return ([{"check": c, "status": "fail", "message": f"{c}: no"} for c in job["checks"]], status,
                    "timed out after 1 s" if status == "timeout" else "", 1.0)
        monkeypatch.setattr(grade, "run_sandboxed", fake)
        runs.clear()
        handins = tmp_path / status
        hand_in(handins / "ann", "03_sft.ipynb", unsolved())
        hand_in(handins / "bob", "03_sft.ipynb", add_cell(unsolved(), "helpers.check.split_dialogue = print"))
        hand_in(handins / "cy", "03_sft.ipynb", solution(SFT))
        rows = grade.grade(handins, tmp_path / f"{status}-graded")
        assert {r["student"] for r in rows} == {"ann", "bob", "cy"}
        assert statuses(rows, "ann") == statuses(rows, "bob")
        assert len(runs) == (2 if status == "ok" else 3) and runs[0] != runs[-1]
