"""Grade a folder of handed-in notebooks: run each one's exercises against the self-checks, collect the answers.

    python scripts/grade.py HANDINS_DIR [--out DIR] [--timeout S] [--jobs N]

HANDINS_DIR holds one folder per student (``alice/03_sft.ipynb`` ...) or notebooks named after the student
(``alice_03_sft.ipynb``). Each hand-in is matched to the kit notebook it came from (by file name, else by cell ids)
and executed from top to bottom in a fresh kernel in the quick profile (offline, CPU, tiny models), in a scratch
folder, with THIS kit's ``helpers`` and data - whatever the student's folder holds. Each run is a separate process group with a
hard time limit (--timeout, default 300 s per notebook), so a crash or an endless loop costs one notebook, never
the batch; the exercises that ran before the limit keep their grade.

An exercise is a code cell with a solution block in the kit's notebook (metadata ``course.exercise`` when present,
else a ``### BEGIN SOLUTION`` cell and the "Exercise N - title" line above it). Its self-checks print
``PASS <check>`` or ``FAIL <check>: <message>``; it passes when every check it owns printed PASS. A FAIL line, an
error raised in the exercise cell, or no check line at all is a fail, with the message.

Written into --out (default: HANDINS_DIR-graded, next to HANDINS_DIR):
  grades.csv            one row per exercise: student, notebook, exercise, title, tier, status, message
                        status: pass | fail | timeout (not reached within --timeout) | error (the notebook could
                        not be graded: unreadable JSON, not a kit notebook, kernel died); rows with exercise
                        "notebook" are about the whole hand-in, including the flags below (status "flag")
  reports/<student>.md  per student: each notebook's flags, exercises, and the written answers found after the
                        "What to hand in" heading (markdown the student added or changed there)
  executed/<student>/   the notebooks as the grader ran them (outputs included), to look at a failure
It runs the students' code with your permissions: grade hand-ins you do not trust in a container or a VM.
Flags: stored outputs missing (the notebook was never run before hand-in) or made by another kit version (the
setup cell prints "course kit <version>", helpers.__version__).
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COLUMNS = ["student", "notebook", "exercise", "title", "tier", "status", "message"]
CHECK_LINE = re.compile(r"^(PASS|FAIL) ([^:\s][^:]*?)(?::\s*(.*))?$")   # "PASS <check name>[: <detail>]"
EXERCISE_MD = re.compile(r"(⭐+)?\s*Exercise\s+(\d+)\s*[-–—:]\s*([^*\n]+?)\s*(?:\*\*|\.(?:\s|$)|$)", re.MULTILINE)
HAND_IN = re.compile(r"^#+\s*What to hand in\b.*$", re.IGNORECASE | re.MULTILINE)
SETUP_MARK = "# course:setup-cell"
KIT_LINE = re.compile(r"^course kit (\S+)", re.MULTILINE)
MESSAGE_CHARS = 400


def kit_version(root: Path = ROOT) -> str:
    """helpers.__version__ of this kit, read without importing helpers (no torch needed)."""
    for node in ast.parse((root / "helpers" / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__" for t in node.targets):
            return node.value.value
    raise SystemExit("helpers/__init__.py sets no __version__")


# ---------------------------------------------------------------- the exercises of a kit notebook

@dataclass
class Exercise:
    notebook: str            # kit notebook stem, e.g. "03_sft"
    id: str                  # "<nb>.<N>", e.g. "03.2"
    title: str
    tier: str                # "⭐", "⭐⭐", "⭐⭐⭐" or ""
    cell_id: str             # id of its code cell in the kit's notebook
    names: list[str]         # functions/classes the cell defines (to find the cell in a hand-in whose ids changed)
    checks: list[str] = field(default_factory=list)   # self-check names it owns ("PASS <name>")


def _defined_names(source: str) -> list[str]:
    return re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)", source, re.MULTILINE)


def _check_calls(source: str) -> list[tuple[str, str]]:
    """(check name, first argument) of every ``helpers.check.<name>(arg, ...)`` call, learning claims excluded."""
    calls = re.findall(r"\bcheck\.([A-Za-z_]\w*)\(\s*([A-Za-z_]\w*)?", source)
    return [(name, arg) for name, arg in calls if name not in ("learned", "SelfCheckError")]


def _exercise_lines(nb, index: int) -> list[tuple[str, str, str]]:
    """(stars, N, title) from the nearest markdown above code cell ``index`` that names an exercise."""
    for j in range(index - 1, max(index - 8, -1), -1):
        cell = nb.cells[j]
        if cell.cell_type == "markdown":
            found = [(m.group(1) or "", m.group(2), m.group(3).strip(" .")) for m in EXERCISE_MD.finditer(cell.source)]
            if found:
                return found
    return []


def _stars(tier) -> str:
    """A tier as the notebooks print it: metadata's 1-3 -> "⭐".."⭐⭐⭐" (stars already written stay as they are)."""
    return "⭐" * tier if isinstance(tier, int) else str(tier or "")


def _is_exercise(cell) -> bool:
    meta = cell.get("metadata", {}).get("course", {})
    return cell.cell_type == "code" and ("exercise" in meta or "### BEGIN SOLUTION" in cell.source)


def exercises(nb, stem: str) -> list[Exercise]:
    """The graded exercises of a kit notebook, in order, each with the self-checks it owns.

    A check belongs to an exercise when it is called in the exercise's cell or on a name that cell defines
    (``helpers.check.lora_merge(LoRALinear)`` three sections later belongs to the cell defining ``LoRALinear``).
    One cell holding two exercises (metadata with a list, or two "Exercise N" lines above it) splits its checks
    between them in order; a markdown cell naming more exercises than the cell has checks gives the nearest ones.
    """
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    out = []
    for index, cell in code:
        if not _is_exercise(cell):
            continue
        names = _defined_names(cell.source)
        checks = [name for name, _ in _check_calls(cell.source)]
        for _, other in code:
            if other is not cell:
                checks += [name for name, arg in _check_calls(other.source) if arg in names]
        checks = list(dict.fromkeys(checks))
        meta = cell.get("metadata", {}).get("course", {})
        if "blocks" in meta:                         # one cell, several exercises: one entry per solution block
            blocks = list({b["exercise"]: b for b in meta["blocks"]}.values())
            found = [(_stars(b.get("tier", meta.get("tier"))), str(b["exercise"]), str(b.get("title", "")))
                     for b in blocks]
        elif "exercise" in meta:
            ids = meta["exercise"] if isinstance(meta["exercise"], list) else [meta["exercise"]]
            titles = meta.get("title") if isinstance(meta.get("title"), list) else [meta.get("title", "")] * len(ids)
            tiers = meta.get("tier") if isinstance(meta.get("tier"), list) else [meta.get("tier", "")] * len(ids)
            found = [(_stars(tier), str(i), str(title or "")) for i, title, tier in zip(ids, titles, tiers)]
        else:
            found = _exercise_lines(nb, index) or [("", str(len(out) + 1), "")]
            if len(found) > max(1, len(checks)):     # other exercises named in the same markdown: keep the nearest
                found = found[-max(1, len(checks)):]
        parts = [checks[k::len(found)] if len(found) == len(checks) else checks for k in range(len(found))]
        if len(found) > 1 and len(found) != len(checks):
            found = [("/".join(dict.fromkeys(s for s, _, _ in found)), "+".join(n for _, n, _ in found),
                      "; ".join(t for _, _, t in found))]
            parts = [checks]
        for (stars, number, title), owned in zip(found, parts):
            ex_id = number if "." in number else f"{stem[:2]}.{number}"
            out.append(Exercise(stem, ex_id, title, stars, cell.get("id", ""), names, owned))
    return out


@dataclass
class KitNotebook:
    stem: str
    path: Path
    nb: object
    exercises: list[Exercise]


def kit_notebooks(root: Path = ROOT) -> dict[str, KitNotebook]:
    kit = {}
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        kit[path.stem] = KitNotebook(path.stem, path, nb, exercises(nb, path.stem))
    return kit


def _kit_name(filename: str, kit) -> str | None:
    """The kit notebook named in a file name ("alice_03_sft (1).ipynb" -> "03_sft"), if any."""
    return next((stem for stem in sorted(kit, key=len, reverse=True) if stem.lower() in filename.lower()), None)


def match_kit(filename: str, nb, kit: dict[str, KitNotebook]) -> str | None:
    """The kit notebook a hand-in came from: its name in the file name, else most shared cell ids (half at least)."""
    if _kit_name(filename, kit):
        return _kit_name(filename, kit)
    ids = {c.get("id") for c in nb.cells} - {None}
    best = max(kit, key=lambda s: len(ids & {c.get("id") for c in kit[s].nb.cells}), default=None)
    if best and len(ids & {c.get("id") for c in kit[best].nb.cells}) >= len(kit[best].nb.cells) / 2:
        return best
    return None


# ---------------------------------------------------------------- reading a notebook's outputs

def _text(output) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    return "".join(data.get("text/plain", ""))


def cell_text(cell) -> str:
    return "\n".join(_text(o) for o in cell.get("outputs", []))


def cell_error(cell) -> str | None:
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
    return None


def cell_check_lines(cell) -> list[tuple[str, str, str]]:
    """(PASS|FAIL, check name, message) printed by one code cell, in order; a FAIL keeps its Hint line."""
    found = []
    lines = cell_text(cell).splitlines() if cell.cell_type == "code" else []
    for k, line in enumerate(lines):
        m = CHECK_LINE.match(line.strip())
        if m:
            message = m.group(3) or ""
            if m.group(1) == "FAIL" and k + 1 < len(lines) and lines[k + 1].strip().startswith("Hint:"):
                message += " " + lines[k + 1].strip()
            found.append((m.group(1), m.group(2), message))
    return found


def stored_output_flags(nb, version: str) -> list[str]:
    """What is wrong with the outputs a hand-in was saved with: none at all, or another kit version's."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not any(c.get("execution_count") or c.get("outputs") for c in code):
        return ["no stored outputs: the notebook was not run before it was handed in"]
    setup = next((c for c in code if SETUP_MARK in c.source), None)
    printed = KIT_LINE.search(cell_text(setup)) if setup is not None else None
    if printed is None:
        return [f"stored outputs carry no kit version (no 'course kit ...' line from the setup cell): made by a kit "
                f"older than {version}, or the setup cell was not run"]
    if printed.group(1) != version:
        return [f"stored outputs made by course kit {printed.group(1)}; graded with course kit {version}"]
    return []


def answers(handin, reference) -> list[str]:
    """Markdown the student wrote after the "What to hand in" heading: added cells, changed cells, added lines."""
    ref_cells = {c.get("id"): c.source for c in reference.cells if c.cell_type == "markdown"}
    ref_texts = set(ref_cells.values())
    ref_heading = next((c.source for c in reference.cells if c.cell_type == "markdown" and HAND_IN.search(c.source)), "")
    start = next((i for i, c in enumerate(handin.cells) if c.cell_type == "markdown" and HAND_IN.search(c.source)), None)
    if start is None:
        return []
    heading = handin.cells[start]
    out = []
    before = ref_cells.get(heading.get("id"), ref_heading)
    ref_after = HAND_IN.split(before, 1)[-1].splitlines() if before else []
    mine_after = HAND_IN.split(heading.source, 1)[-1].splitlines()
    added = [line[2:] for line in difflib.ndiff(ref_after, mine_after) if line.startswith("+ ")]
    if "".join(added).strip():
        out.append("\n".join(added).strip())
    for cell in handin.cells[start + 1:]:
        if cell.cell_type == "markdown" and cell.source.strip() and cell.source not in ref_texts:
            out.append(cell.source.strip())
    return out


# ---------------------------------------------------------------- running one notebook

def _env(workdir: Path, jobs: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env.update(COURSE_PROFILE="quick", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               TRL_EXPERIMENTAL_SILENCE="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               COURSE_OUTPUT_DIR=str(workdir / "outputs"), IPYTHONDIR=str(workdir / "ipython"),
               MPLBACKEND="module://matplotlib_inline.backend_inline", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONSTARTUP", None)
    if jobs > 1 and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    return env


_RUNNING: dict[int, Path] = {}   # runner pid -> its kernel's pid file, for the runs in progress


def stop_all() -> None:
    """Kill every run in progress (runner and kernel): the grader itself was interrupted."""
    for runner, pidfile in list(_RUNNING.items()):
        if pidfile.exists() and pidfile.read_text().strip().isdigit():
            _kill(int(pidfile.read_text()))
        _kill(runner)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_notebook(handin: Path, executed: Path, timeout: float, jobs: int = 1) -> tuple[str, str]:
    """Execute ``handin`` into ``executed`` (saved after every cell); ("ok"|"timeout"|"error", message).

    The notebook runs in a scratch folder holding a link to this kit's helpers/, so its setup cell finds this kit
    (never the hand-in folder's) and anything it writes stays in the scratch folder. The runner and the kernel each
    lead their own process group; both are killed at the time limit.
    """
    executed.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        (workdir / "helpers").symlink_to(ROOT / "helpers", target_is_directory=True)
        pidfile = workdir / "kernel.pid"
        log = workdir / "runner.log"
        with open(log, "w") as err:
            proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--execute", str(handin),
                                     str(executed), str(pidfile), str(timeout)],
                                    cwd=workdir, env=_env(workdir, jobs), stdout=err, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            _RUNNING[proc.pid] = pidfile
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
            finally:
                if pidfile.exists() and pidfile.read_text().strip().isdigit():
                    _kill(int(pidfile.read_text()))
                _kill(proc.pid)
                proc.wait()
                _RUNNING.pop(proc.pid, None)
        if rc is None:
            return "timeout", f"timed out after {timeout:g} s"
        if rc != 0:
            tail = [l for l in log.read_text(errors="replace").splitlines() if l.strip()][-1:] or ["no output"]
            return "error", f"the notebook could not be run to the end: {tail[0][:MESSAGE_CHARS]}"
        return "ok", ""
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _execute(handin: str, executed: str, pidfile: str, timeout: str) -> int:
    """The runner process: execute every cell (errors included), saving the notebook after each one."""
    from nbclient import NotebookClient

    nb = nbformat.read(handin, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=int(float(timeout)) + 60, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": os.getcwd()}})

    def save(**_):
        tmp = executed + ".part"
        nbformat.write(nb, tmp)
        os.replace(tmp, executed)

    def started(**_):
        if not os.path.exists(pidfile):
            Path(pidfile).write_text(str(client.km.provisioner.pid))

    client.on_cell_start = started
    client.on_cell_executed = save
    client.execute()
    save()
    return 0


# ---------------------------------------------------------------- grading

def _row(student, notebook, exercise="notebook", title="", tier="", status="", message=""):
    return dict(student=student, notebook=notebook, exercise=exercise, title=title, tier=tier, status=status,
                message=" ".join(message.split())[:MESSAGE_CHARS])


def _find_cell(nb, ex: Exercise):
    by_id = next((c for c in nb.cells if c.get("id") == ex.cell_id and c.cell_type == "code"), None)
    if by_id is not None or not ex.names:
        return by_id
    return next((c for c in nb.cells if c.cell_type == "code" and set(ex.names) & set(_defined_names(c.source))), None)


def grade_exercise(executed, ex: Exercise, run_status: str, run_message: str, known: set[str]) -> tuple[str, str]:
    """pass | fail | timeout | error, and why, for one exercise of an executed hand-in.

    Its check lines are those printed under its checks' names anywhere, plus lines under a name no exercise owns
    printed by its own cell or a cell calling its checks (so a renamed check still counts where it runs).
    """
    cell = _find_cell(executed, ex)
    calls = re.compile(r"\bcheck\.(?:%s)\(" % "|".join(map(re.escape, ex.checks))) if ex.checks else None
    owned = [c for c in executed.cells if c is cell or (calls and c.cell_type == "code" and calls.search(c.source))]
    results = [(verdict, name, msg) for c in executed.cells for verdict, name, msg in cell_check_lines(c)
               if name in ex.checks or (name not in known and any(c is o for o in owned))]
    fails = [f"{name}: {msg}" for verdict, name, msg in results if verdict == "FAIL"]
    if fails:
        return "fail", "FAIL " + "; ".join(dict.fromkeys(fails))
    error = cell_error(cell) if cell is not None else None
    if error:
        return "fail", f"the exercise cell raised {error}"
    seen = {name for _, name, _ in results}
    missing = [name for name in ex.checks if name not in seen]
    if results and (not missing or seen - known):
        return "pass", ""
    if run_status != "ok":
        return run_status, f"{run_message} before its self-check ran"
    if cell is None:
        return "fail", "the exercise's cell is not in the hand-in, and its self-check printed nothing"
    first_error = next((cell_error(c) for c in executed.cells if c.cell_type == "code" and cell_error(c)), None)
    return "fail", (f"no self-check line for {', '.join(missing or ['this exercise'])}"
                    + (f" (first error in the notebook: {first_error})" if first_error else ""))


@dataclass
class Graded:
    student: str
    notebook: str
    rows: list[dict]
    answers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def grade_one(student: str, path: Path, kit: dict[str, KitNotebook], out: Path, timeout: float, jobs: int,
              version: str) -> Graded:
    name = _kit_name(path.name, kit) or path.stem
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # broken JSON, not a notebook, unreadable: one row, the batch goes on
        return Graded(student, name, [_row(student, name, status="error",
                                           message=f"unreadable notebook ({type(err).__name__}: {err})")])
    stem = match_kit(path.name, nb, kit)
    if stem is None:
        return Graded(student, name, [_row(student, name, status="error",
                                           message="not a notebook of this kit (no kit notebook name in the file "
                                                   "name, and too few cell ids in common with any)")])
    ref = kit[stem]
    rows = [_row(student, stem, status="flag", message=flag) for flag in stored_output_flags(nb, version)]
    executed = out / "executed" / _safe(student) / f"{_safe(path.stem)}.ipynb"   # two copies of one notebook: two files
    executed.unlink(missing_ok=True)
    start = time.perf_counter()
    status, message = run_notebook(path, executed, timeout, jobs)
    seconds = time.perf_counter() - start
    Path(str(executed) + ".part").unlink(missing_ok=True)   # left by a runner killed while saving
    done = nbformat.read(executed, as_version=4) if executed.exists() else nbformat.v4.new_notebook()
    if status != "ok":
        rows.append(_row(student, stem, status=status, message=message))
    known = {name for k in kit.values() for ex in k.exercises for name in ex.checks}
    for ex in ref.exercises:
        verdict, why = grade_exercise(done, ex, status, message, known)
        rows.append(_row(student, stem, ex.id, ex.title, ex.tier, verdict, why))
    return Graded(student, stem, rows, answers(nb, ref.nb), seconds)


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "student"


def discover(handins: Path, kit: dict[str, KitNotebook]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: a folder per student, or <student>_<notebook>.ipynb files at the top."""
    found = []
    for path in sorted(handins.rglob("*.ipynb")):
        rel = path.relative_to(handins)
        if any(part.startswith(".") for part in rel.parts):   # .ipynb_checkpoints and the like
            continue
        if len(rel.parts) > 1:
            student = rel.parts[0]
        else:
            stem = _kit_name(path.stem, kit)
            student = re.split(re.escape(stem), path.stem, flags=re.IGNORECASE)[0] if stem else path.stem
            student = student.strip(" _-.") or path.stem
        found.append((student, path))
    return found


def report(student: str, graded: list[Graded], timeout: float) -> str:
    lines = [f"# {student}", ""]
    rows = [r for g in graded for r in g.rows if r["exercise"] != "notebook"]
    passed = sum(r["status"] == "pass" for r in rows)
    lines += [f"{passed} of {len(rows)} exercises pass their self-checks (quick profile, {timeout:g} s per notebook).",
              ""]
    for g in graded:
        lines += [f"## {g.notebook}" + (f" ({g.seconds:.0f} s)" if g.seconds else ""), ""]
        for r in g.rows:
            if r["exercise"] == "notebook":
                lines.append(f"- **{r['status']}**: {r['message']}")
        ex_rows = [r for r in g.rows if r["exercise"] != "notebook"]
        if ex_rows:
            lines += ["", "| exercise | tier | title | status | message |", "|---|---|---|---|---|"]
            lines += [f"| {r['exercise']} | {r['tier']} | {r['title']} | {r['status']} | "
                      f"{r['message'].replace('|', '/')} |" for r in ex_rows]
        lines += ["", "**Written answers** (after \"What to hand in\"):", ""]
        if g.answers:
            for text in g.answers:
                lines += ["> " + line for line in text.splitlines()] + [""]
        else:
            lines += ["_none found_", ""]
    return "\n".join(lines).rstrip() + "\n"


def grade(handins: Path, out: Path, timeout: float = 300, jobs: int = 1) -> list[dict]:
    """Grade every hand-in under ``handins``; write grades.csv and reports/ into ``out``; return the rows."""
    if not handins.is_dir():
        raise SystemExit(f"{handins} is not a folder: pass the folder that holds the handed-in notebooks")
    kit = kit_notebooks()
    version = kit_version()
    work = discover(handins, kit)
    if not work:
        raise SystemExit(f"no .ipynb files under {handins}")
    out.mkdir(parents=True, exist_ok=True)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        graded = list(pool.map(lambda sp: grade_one(sp[0], sp[1], kit, out, timeout, jobs, version), work))
    except BaseException:   # Ctrl+C or SIGTERM: start nothing more, kill what runs (their kernels too)
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    rows = [r for g in graded for r in g.rows]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "reports").mkdir(exist_ok=True)
    for student in dict.fromkeys(g.student for g in graded):
        mine = [g for g in graded if g.student == student]
        (out / "reports" / f"{_safe(student)}.md").write_text(report(student, mine, timeout), encoding="utf-8")
    return rows


def summary(rows: list[dict], out: Path) -> str:
    lines = [f"{'student':16s} {'pass':>4s} {'fail':>4s} {'timeout':>7s} {'error':>5s}  flags"]
    for student in dict.fromkeys(r["student"] for r in rows):
        mine = [r for r in rows if r["student"] == student]
        count = {s: sum(r["status"] == s and r["exercise"] != "notebook" for r in mine)
                 for s in ("pass", "fail", "timeout", "error")}
        notes = [f"{r['notebook']}: {r['status']}" for r in mine if r["exercise"] == "notebook"]
        lines.append(f"{student[:16]:16s} {count['pass']:4d} {count['fail']:4d} {count['timeout']:7d} "
                     f"{count['error']:5d}  {'; '.join(notes)}")
    lines.append(f"{len(rows)} rows -> {out / 'grades.csv'}; one report per student in {out / 'reports'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--execute"]:
        return _execute(*argv[1:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("handins", type=Path, help="folder of handed-in notebooks (a subfolder per student)")
    parser.add_argument("--out", type=Path, help="where grades.csv, reports/ and executed/ go "
                                                 "(default: HANDINS_DIR-graded next to it)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    args = parser.parse_args(argv)
    handins = args.handins.resolve()
    out = (args.out or handins.with_name(handins.name + "-graded")).resolve()
    if out == handins or handins in out.parents:
        raise SystemExit("--out must not be inside the hand-in folder (its executed notebooks would be graded next time)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # a SIGTERM stops the runs like Ctrl+C does
    start = time.perf_counter()
    try:
        rows = grade(handins, out, args.timeout, args.jobs)
    except KeyboardInterrupt:
        print("interrupted: the runs in progress were stopped; no grades were written", file=sys.stderr)
        return 130
    print(summary(rows, out))
    print(f"graded in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
