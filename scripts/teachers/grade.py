"""Grade a folder of handed-in notebooks with the grader's own checks, each hand-in in a sandbox.

    python scripts/teachers/grade.py HANDINS_DIR [--out DIR] [--timeout S] [--jobs N] [--recordings DIR]
    python scripts/teachers/grade.py --record 03_sft [...] --recordings DIR    (the kit's cells only, saved for later)

HANDINS_DIR holds one folder per student (``alice/03_sft.ipynb`` ...) or notebooks named after the student
(``alice_03_sft.ipynb``). Each hand-in is matched to its kit notebook (``metadata.course.notebook``, else the file
name, else the exercises it defines; a notebook under another one's name is refused, naming both).

How a grade is made (the design; README "Grading handed-in notebooks" says the same):
- From the hand-in the grader takes its DEFINITIONS only (``definitions``): top-level imports, the final
  ``def``/``class`` of each name wherever it sits, constant assignments. No other statement of it ever runs, so a
  printed PASS, a patched ``helpers.check``, no-op comparison helpers or a rewritten ``print`` have no effect, and a
  deleted self-check call changes nothing (the row says it was removed).
- In a bubblewrap sandbox (``sandbox_command``: own user/PID/network namespaces, no capabilities, cleared
  environment, read-only system and a read-only COPY of the kit without the answers module, the hidden checks or
  the maintainers' data/source, a private scratch folder), ``grading/worker.py`` runs every check itself, on inputs
  the kit's own cells computed ONCE per kit notebook and batch (``record``: a sandboxed run with no hand-in that
  records each check call's arguments; every hand-in replays them, so no lesson training runs per hand-in); the student's definitions live in a separate fresh process (``grading/student.py``) that receives the
  check's inputs and sends back plain data (``weights_only`` loading). The verdicts come back on a pipe (fd 3) only
  the worker holds; nothing printed is parsed. The one way to pass is to return the right values. Class
  exercises (01) are split: the student's process only runs the kit's probe on the worker's inputs and sends back
  what the object did (outputs, gradients, weights...) as data; the worker judges it (``grading/worker.py``).
- Hidden checks (``grading/hidden/NN.py``, teacher only) run after the visible ones.
- A timeout (``--timeout``, default 300 s per notebook; ``--record-timeout``, default 900 s, for the once-per-notebook
  recording) is blamed only on the checks that had not run; ``--recordings DIR`` keeps each recording (JSON, keyed
  by the kit's hash and the notebook's recording cells and checks) for later runs, and ``--record`` makes them ahead
  (the Gradescope image does, once); the sandbox
  (a PID namespace) dies with every process it started. The kit is hashed before and after each hand-in; a change
  stops the batch. Without a working ``bwrap`` the grader warns loudly and runs the same worker unconfined.

Written into --out (default: HANDINS_DIR-graded, next to HANDINS_DIR):
  grades.csv            one row per exercise: student, notebook, exercise, title, tier, status, message
                        status: pass | fail | timeout (its check had not run within --timeout) | error (the notebook
                        could not be graded: unreadable, not this kit's, another notebook under its name; or the
                        grader could not run a check); rows with exercise "notebook" are about the whole hand-in,
                        including the flags (status "flag")
  reports/<student>.md  per student: each notebook's flags, exercises, and the written answers found after the
                        "What to hand in" heading (markdown the student added or changed there)
Flags: stored outputs missing or made by another kit version, stored PASS lines the re-run contradicts, the answers
module (helpers.check._reference) named, called while graded, or its code carried in the hand-in.
"""
from __future__ import annotations

import argparse
import ast
import base64
import concurrent.futures
import csv
import difflib
import hashlib
import json
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

try:
    from tools import notebook
    from tools.sync import kit_version
except ModuleNotFoundError as err:  # run before the kit was installed: tools/bootstrap.py says how to install it
    runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "bootstrap.py"))["exit_without_kit"](err, __file__)

ROOT = Path(__file__).resolve().parents[2]   # the kit this grader belongs to (the Gradescope copy grades with its own)
NOTEBOOKS = ROOT / "notebooks"
COLUMNS = list(notebook.GRADE_COLUMNS)     # grades.csv, read back by export_grades.py
CHECK_LINE = re.compile(r"^(PASS|FAIL) ([^:\s][^:]*?)(?::\s*(.*))?$")   # "PASS <check name>[: <detail>]"
HAND_IN = re.compile(r"^#+\s*What to hand in\b.*$", re.IGNORECASE | re.MULTILINE)
KIT_LINE = re.compile(r"^course kit (\S+)", re.MULTILINE)
MESSAGE_CHARS = 400


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


def _stars(tier) -> str:
    """A tier as the notebooks print it: metadata's 1-3 -> "⭐".."⭐⭐⭐" (stars already written stay as they are)."""
    return "⭐" * tier if isinstance(tier, int) else str(tier or "")


def exercises(nb, stem: str) -> list[Exercise]:
    """The graded exercises of a kit notebook, in order, each with the self-checks it owns.

    Each exercise is what its cell's metadata says (``course.exercise``, per block ``course.blocks``: read through
    tools/notebook.py; README "Homework conventions"). A check belongs to an exercise when it is called in the
    exercise's cell or on a name that cell defines (``helpers.check.lora_merge(LoRALinear)`` three sections later
    belongs to the cell defining ``LoRALinear``). One cell holding two exercises splits its checks between them in
    order.
    """
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    out = []
    for index, cell in code:
        if not notebook.is_exercise_cell(cell):
            continue
        names = _defined_names(cell.source)
        checks = [name for name, _ in _check_calls(cell.source)]
        for _, other in code:
            if other is not cell:
                checks += [name for name, arg in _check_calls(other.source) if arg in names]
        checks = list(dict.fromkeys(checks))
        where = f"{stem}, cell {index} (id {cell.get('id')})"   # ConventionError: a solution cell without metadata
        found = [(_stars(tier), number, title) for number, title, tier in notebook.cell_exercises(cell, where)]
        if len(found) > 1 and len(found) != len(checks):   # export_grades lists each exercise: never merge two
            raise notebook.ConventionError(f"{where} holds exercises {', '.join(n for _, n, _ in found)} but calls "
                                           f"{len(checks)} check(s): one check per exercise, in order")
        parts = [[c] for c in checks] if len(found) > 1 else [checks]
        for (stars, number, title), owned in zip(found, parts):
            out.append(Exercise(stem, number, title, stars, cell.get("id", ""), names, owned))
    return out


@dataclass
class KitNotebook:
    stem: str
    path: Path
    nb: object
    exercises: list[Exercise]


def kit_notebooks(root: Path = ROOT) -> dict[str, KitNotebook]:
    kit = {}
    for path in notebook.lesson_paths(root / "notebooks"):
        nb = notebook.read(path)
        try:
            kit[path.stem] = KitNotebook(path.stem, path, nb, exercises(nb, path.stem))
        except notebook.ConventionError as err:        # the kit's own notebook, not a hand-in: nothing can be graded
            raise SystemExit(f"grade.py: the kit's {err}") from None
    return kit


def _kit_name(filename: str, kit) -> str | None:
    """The kit notebook named in a file name ("alice_03_sft (1).ipynb" -> "03_sft"), if any."""
    return next((stem for stem in sorted(kit, key=len, reverse=True) if stem.lower() in filename.lower()), None)


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
    setup = next((c for c in code if notebook.mentions_setup(c.source)), None)
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


# ---------------------------------------------------------------- what the grader takes from a hand-in

def _parse(source: str):
    """A code cell as a Python module (magics and shell escapes turned into calls first); SyntaxError if it is none."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def _literal(node) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def definitions(nb, roots=None) -> tuple[list[tuple[int, str]], dict[str, int], dict[int, str]]:
    """What of a hand-in is run to grade it: (statements, where each name's final definition sits, syntax errors).

    Statements, in the notebook's order: top-level imports, the LAST ``def``/``class`` of each name (a solution in a
    new cell below the untouched stub wins), and assignments of constants (``MAX_LEN = 128``). Nothing else of the
    hand-in ever runs: its prints, its check calls, its patches of ``helpers`` or ``builtins`` stay text.
    With ``roots`` (the exercises' names), only the statements those definitions reach are kept.
    """
    found: list[tuple[int, str, str | None]] = []
    errors: dict[int, str] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = _parse(cell.source)
        except (SyntaxError, ValueError) as err:
            errors[index] = f"SyntaxError: {getattr(err, 'msg', err)} (line {getattr(err, 'lineno', '?')})"
            continue
        for node in tree.body:
            name = None
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = node.name
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                pass
            elif (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
                  and _literal(node.value)):
                pass
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None \
                    and _literal(node.value):
                pass
            else:
                continue
            found.append((index, ast.unparse(node), name))
    final = {name: index for index, _, name in found if name}
    last = {name: k for k, (_, _, name) in enumerate(found) if name}
    statements = [(index, source) for k, (index, source, name) in enumerate(found) if name is None or last[name] == k]
    if roots is not None:        # only what the exercises' definitions reach: no import of the training stack
        names = [(_top_bound(ast.parse(source).body[0]), _names(ast.parse(source))[1]) for _, source in statements]
        wanted, keep = set(roots), set()
        while True:
            more = {k for k, (bound, _) in enumerate(names) if k not in keep and bound & wanted}
            if not more:
                break
            keep |= more
            for k in more:
                wanted |= names[k][1]
        statements = [st for k, st in enumerate(statements) if k in keep]
    return statements, final, errors


def _top_bound(node) -> set[str]:
    """The names one top-level statement binds (not the names bound inside a function it defines)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def identify(path: Path, nb, kit: dict[str, "KitNotebook"]) -> tuple[str | None, str]:
    """The kit notebook a hand-in is: metadata.course.notebook, else the file name, else the exercises it defines.

    A notebook handed in under another notebook's name is refused, with both names (it would be graded against
    the wrong exercises)."""
    meta = notebook.course_meta(nb).get("notebook")
    named = _kit_name(path.name, kit)
    if meta in kit:
        if named and named != meta:
            return None, (f"this is {meta} handed in as {path.name} (the name of {named}): hand in {meta} under its own "
                          f"name, and {named} as its own notebook")
        return meta, ""
    _, final, _ = definitions(nb)
    by_defs = max(kit, key=lambda s: len({n for e in kit[s].exercises for n in e.names} & set(final)), default=None)
    if by_defs and not {n for e in kit[by_defs].exercises for n in e.names} & set(final):
        by_defs = None
    if named:
        mine = {n for e in kit[named].exercises for n in e.names}
        if by_defs and by_defs != named and not mine & set(final):
            return None, (f"this looks like {by_defs} (it defines {by_defs}'s exercises) handed in as {path.name} (the "
                          f"name of {named}): hand in each notebook under its own name")
        return named, ""
    if by_defs:
        return by_defs, ""
    return None, ("not a notebook of this kit (no metadata.course.notebook, no kit notebook name in the file name, "
                  "and none of the kit's exercises defined)")


def _distinctive_answer_lines(root: Path = ROOT) -> set[str]:
    """Lines of the answers module found in no kit notebook: a hand-in holding several carries its code."""
    lines = {line.strip() for line in (root / "helpers" / "check" / "_reference.py").read_text().splitlines()}
    lines = {l for l in lines if len(l) >= 30 and not l.startswith(("#", '"', "'", "def ", "return ", "raise "))}
    taught = set()
    for path in notebook.lesson_paths(root / "notebooks"):
        for cell in notebook.read(path).cells:
            taught |= {l.strip() for l in cell.source.splitlines()}
    return lines - taught


def answer_flags(nb, distinctive: set[str]) -> list[str]:
    """Flags for a hand-in that uses the answers module: imports or names it, or carries its code."""
    flags = []
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    named = [i for i, src in code if re.search(r"_reference\b", src)]
    if named:
        flags.append(f"uses the answers module helpers.check._reference (cell {', '.join(map(str, named))}): the "
                     "answers are not the student's work, whatever the grade says")
    lines = {l.strip() for _, src in code for l in src.splitlines()} & distinctive
    if len(lines) >= 3:
        flags.append(f"carries the code of the answers module helpers.check._reference ({len(lines)} of its lines)")
    return flags


# ---------------------------------------------------------------- the sandbox

# the lessons' quick, offline environment (tools/notebook.py), plus the sandbox's own: off-screen figures, a bare PATH
SANDBOX_ENV = dict(notebook.QUICK_ENV, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1",
                   LANG="C.UTF-8", PATH="/usr/local/bin:/usr/bin:/bin")
# what a hand-in's run needs: make_kit_copy copies sandbox_files (no MAINTAINER_ONLY, no caches) less the answers module
KIT_PARTS = ("helpers", "data", "grading/__init__.py", "grading/worker.py", "grading/student.py", "grading/wire.py",
             "course.toml", "requirements.txt")
_WARNED = []
INPUTS = "inputs.pkl"    # the checks' inputs, recorded once per kit notebook (grading/worker.py "record")


def bwrap() -> str | None:
    """The bubblewrap binary, if it runs here (user namespaces may be off); None, with the reason printed once."""
    path = shutil.which("bwrap")
    if path is None:
        reason = "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    else:
        probe = subprocess.run([path, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                                "--dev", "/dev", "true"], capture_output=True, text=True)
        if probe.returncode == 0:
            return path
        reason = f"bwrap cannot create its namespaces here: {probe.stderr.strip()[:300]}"
    if not _WARNED:
        _WARNED.append(reason)
        bar = "!" * 100
        print(f"{bar}\nWARNING: NO SANDBOX. {reason}.\nThe hand-ins run with YOUR rights: they can read and write your "
              f"files, other hand-ins and the network, and leave processes behind. Grades still come only from the\n"
              f"grader's own checks, but grade hand-ins you do not trust only where bwrap works.\n{bar}", file=sys.stderr)
    return None


def sandbox_files(root: Path, parts=KIT_PARTS) -> list[Path]:
    """The files of ``parts`` under ``root``, in order: no caches, nothing no notebook reads (``MAINTAINER_ONLY``)."""
    files = []
    for part in parts:
        base = root / part
        found = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base] if base.exists() else []
        files += [f for f in found if "__pycache__" not in f.parts and not any(
            f.relative_to(root).is_relative_to(skip) for skip in notebook.MAINTAINER_ONLY)]
    return files


def kit_hash(root: Path) -> str:
    """One hash over the kit files a hand-in could reach (``KIT_PARTS``: helpers/, data/, grading/, the config files)
    and the hidden checks."""
    digest = hashlib.sha256()
    for f in sandbox_files(root, KIT_PARTS + ("grading/hidden",)):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def make_kit_copy(dest: Path, inputs: bytes | None = None) -> Path:
    """A read-only copy (never a link) of what a hand-in's run needs (``sandbox_files``), WITHOUT the answers module and
    the hidden checks; ``inputs``: the checks' recorded inputs (``INPUTS``), for a grading run."""
    for src in sandbox_files(ROOT):
        if src.name != "_reference.py":
            (dest / src.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / src.relative_to(ROOT))
    (dest / "scratch").mkdir()
    if inputs is not None:
        (dest / INPUTS).write_bytes(inputs)
    for path in sorted(dest.rglob("*"), reverse=True):
        if path != dest / "scratch":
            path.chmod(0o555 if path.is_dir() else 0o444)
    dest.chmod(0o555)
    return dest


def sandbox_command(box: str, kit: Path, python: str, threads: int) -> tuple[list[str], str]:
    """(the command that runs the worker, the kit path the worker sees)."""
    env = dict(SANDBOX_ENV, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if box is None:
        env.update(HOME=str(kit / "scratch"), COURSE_OUTPUT_DIR=str(kit / "scratch" / "outputs"),
                   MPLCONFIGDIR=str(kit / "scratch" / "mpl"), HF_HOME=str(kit / "scratch" / "hf"),
                   IPYTHONDIR=str(kit / "scratch" / "ipython"))
        return ["env", "-i", *(f"{k}={v}" for k, v in env.items()), python, "-I", str(kit / "grading" / "worker.py"),
                str(kit), "3"], str(kit)
    env.update(HOME="/tmp", COURSE_OUTPUT_DIR="/kit/scratch/outputs", MPLCONFIGDIR="/tmp/mpl", HF_HOME="/tmp/hf",
               IPYTHONDIR="/tmp/ipython")
    cmd = [box, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--uid", "65534", "--gid", "65534", "--hostname", "grader",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/alternatives"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.exists(top):
            cmd += ["--ro-bind", top, top]
    prefixes = dict.fromkeys(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix))
    for prefix in prefixes:
        if not prefix.startswith(("/usr/", "/bin/", "/lib")):
            cmd += ["--ro-bind", prefix, prefix]
    cmd += ["--ro-bind", str(kit), "/kit", "--bind", str(kit / "scratch"), "/kit/scratch", "--chdir", "/kit/scratch",
            "--clearenv", *(x for k, v in env.items() for x in ("--setenv", k, v)),
            python, "-I", "/kit/grading/worker.py", "/kit", "3"]
    return cmd, "/kit"


_RUNNING: set = set()


def stop_all() -> None:
    """Kill every run in progress: the grader itself was interrupted."""
    for proc in list(_RUNNING):
        _kill(proc.pid)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def threads_per_run(jobs: int) -> int:
    """The CPU threads each of ``jobs`` sandboxed runs at a time gets: the machine's cores shared out, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def run_sandboxed(job: dict, timeout: float, threads: int = 1, inputs: bytes | None = None,
                  fetched: dict | None = None) -> tuple[list[dict], str, str, float]:
    """Run the worker on one job in a fresh sandbox: (its events, "ok"|"timeout"|"error", message, seconds).
    ``inputs`` go into the kit copy (read-only); ``fetched`` receives the recorded inputs a "record" job left.

    The events come on a pipe (fd 3) that only the worker holds; what the worker and the student's code print
    goes to a log nobody grades from. At the end or at the limit the whole sandbox is killed: with bwrap it is a
    PID namespace, so no process of the hand-in survives it."""
    box = bwrap()
    python = os.path.realpath(sys.prefix) + "/bin/python" if sys.prefix != sys.base_prefix else os.path.realpath(sys.executable)
    tmp = Path(tempfile.mkdtemp(prefix="grade-"))
    events, status, message = [], "ok", ""
    start = time.perf_counter()
    try:
        kit = make_kit_copy(tmp / "kit", inputs)
        cmd, kit_seen = sandbox_command(box, kit, python, threads)
        payload = json.dumps(dict(job, kit=kit_seen)).encode()
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        with open(tmp / "worker.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                    pass_fds=(3,), preexec_fn=_fd3(write_end),
                                    start_new_session=True, cwd=kit / "scratch")
        os.close(write_end)
        _RUNNING.add(proc)
        reader = threading.Thread(target=_read_events, args=(read_end, events), daemon=True)
        reader.start()
        try:
            try:
                proc.stdin.write(payload)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            _kill(proc.pid)
            proc.wait()
            _RUNNING.discard(proc)
        reader.join(timeout=10)
        if rc is None:
            status, message = "timeout", f"timed out after {timeout:g} s"
        elif not any(e.get("done") for e in events):
            tail = [l for l in (tmp / "worker.log").read_text(errors="replace").splitlines() if l.strip()][-1:]
            status, message = "error", f"the grading worker stopped early (exit {rc}): {(tail or ['no output'])[0][:300]}"
        if fetched is not None and (kit / "scratch" / INPUTS).is_file():
            fetched["inputs"] = (kit / "scratch" / INPUTS).read_bytes()
    finally:
        if os.environ.get("GRADE_KEEP_LOGS") and (tmp / "worker.log").exists():   # debugging the grader itself
            shutil.copy(tmp / "worker.log", Path(os.environ["GRADE_KEEP_LOGS"]) / f"{tmp.name}.log")
        for path in tmp.rglob("*"):
            try:
                path.chmod(0o700 if path.is_dir() else 0o600)
            except OSError:
                pass
        tmp.chmod(0o700)
        shutil.rmtree(tmp, ignore_errors=True)
    return events, status, message, time.perf_counter() - start


def _fd3(fd: int):
    """preexec: put the result pipe on fd 3 in the child (the worker's command line names fd 3)."""
    def move():
        if fd != 3:
            os.dup2(fd, 3)
            os.set_inheritable(3, True)
    return move


def _read_events(fd: int, events: list) -> None:
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)


# ---------------------------------------------------------------- grading

def _row(student, notebook, exercise="notebook", title="", tier="", status="", message=""):
    return dict(student=student, notebook=notebook, exercise=exercise, title=title, tier=tier, status=status,
                message=" ".join(message.split())[:MESSAGE_CHARS])


def _calls(source: str, checks) -> bool:
    """Whether ``source`` calls one of ``checks`` (``helpers.check.<name>(...)``, read by ``_check_calls``)."""
    return bool(set(checks) & {name for name, _ in _check_calls(source)})


def last_graded_cell(ref: "KitNotebook") -> int:
    """Index of the last kit cell an exercise's grade needs (its definition or a call of its checks)."""
    checks = recording_checks(ref)
    ids = {ex.cell_id for ex in ref.exercises}
    return max((i for i, c in enumerate(ref.nb.cells) if c.cell_type == "code"
                and (c.get("id") in ids or _calls(c.source, checks))), default=-1)


def _names(tree) -> tuple[set[str], set[str]]:
    """(names a cell binds or changes at top level, names it reads)."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            base = node
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                bound.add(base.id)                   # tokenizer.pad_token = ...: changes tokenizer
    return bound, read


def needed_cells(ref: "KitNotebook") -> list[int]:
    """The kit cells the checks need, up to the last graded cell: the exercise cells, the cells that call a check,
    and (backwards) every cell that binds or changes a name one of those reads. The setup cell always runs; the
    lesson's training, plots and generations that no check reads are skipped."""
    checks = recording_checks(ref)
    ids = {ex.cell_id for ex in ref.exercises}
    last = last_graded_cell(ref)
    cells = [(i, c) for i, c in enumerate(ref.nb.cells) if c.cell_type == "code" and i <= last]
    parsed = {}
    for i, c in cells:
        try:
            parsed[i] = _names(_parse(c.source))
        except (SyntaxError, ValueError):
            parsed[i] = (set(), set())
    keep, wanted = set(), set()
    for i, c in reversed(cells):
        bound, read = parsed[i]
        if notebook.mentions_setup(c.source) or c.get("id") in ids or _calls(c.source, checks) or bound & wanted:
            keep.add(i)
            wanted |= read
    return sorted(keep)


def recording_checks(ref: "KitNotebook") -> list[str]:
    """The checks a notebook's exercises call, each once, sorted: what a recording records and a grading run runs."""
    return sorted({c for ex in ref.exercises for c in ex.checks})


def recording_job(ref: "KitNotebook") -> dict:
    """What a recording runs that the kit's files do not hold: the notebook's cells the checks need, and the checks."""
    return dict(checks=recording_checks(ref), cells=[(i, ref.nb.cells[i].source) for i in needed_cells(ref)])


def make_job(stem: str, ref: "KitNotebook", statements, mode: str = "grade") -> dict:
    """A worker's job: "record" runs the kit's cells once and records the checks' inputs; "grade" runs the checks
    on a hand-in's definitions with those inputs (grading/worker.py)."""
    hidden = ROOT / "grading" / "hidden" / f"{stem[:2]}.py"
    # the kit's cells (parsing every one of them: needed_cells) only for a recording; a grading run replays its inputs
    job = recording_job(ref) if mode == "record" else dict(checks=recording_checks(ref), cells=[])
    return dict(mode=mode, statements=statements, inputs=INPUTS,
                reference=(ROOT / "helpers" / "check" / "_reference.py").read_text(),
                hidden=hidden.read_text() if hidden.exists() else "", hidden_name=f"grading/hidden/{hidden.name}",
                checks=job["checks"], cells=job["cells"])


@dataclass
class Recording:
    """The checks' inputs of one kit notebook, computed once by its own cells (no hand-in involved)."""
    inputs: bytes | None
    events: list[dict]
    status: str
    message: str
    seconds: float


def record(stem: str, ref: "KitNotebook", timeout: float, threads: int) -> Recording:
    """Run the kit's cells that the checks need, once, in the sandbox; keep every check call's inputs."""
    fetched: dict = {}
    events, status, message, seconds = run_sandboxed(make_job(stem, ref, [], "record"), timeout, threads,
                                                     fetched=fetched)
    return Recording(fetched.get("inputs"), events, status, message, seconds)


def recording_file(folder: Path, stem: str) -> Path:
    return folder / f"{stem}.json"


def recording_key(stem: str, ref: "KitNotebook", kit: str) -> str:
    """What a recording depends on, each input once: ``kit``, the kit's hash (``kit_hash``: helpers/ with the answers
    module, data/, grading/ with the hidden checks, the config files), and what the notebook adds (``recording_job``:
    the cells the recording runs, the checks). A recording is replayed only while all are unchanged."""
    job = json.dumps(dict(recording_job(ref), notebook=stem), sort_keys=True)
    return hashlib.sha256(f"{kit}\0{job}".encode()).hexdigest()


def reusable(rec: Recording) -> bool:
    """A recording worth keeping for later batches: finished, with inputs, and no kit cell failed on the way (a
    one-off failure - out of memory, say - is recorded again next time instead of replayed)."""
    return rec.status == "ok" and rec.inputs is not None and not any(e.get("error") for e in rec.events)


def save_recording(path: Path, rec: Recording, key: str) -> None:
    """A reusable recording as JSON (the inputs base64-encoded; nothing in it is ever run by the grader itself),
    under its ``recording_key``: ``load_recording`` gives it back only for the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(key=key, inputs=base64.b64encode(rec.inputs).decode("ascii"), events=rec.events, status=rec.status,
                message=rec.message, seconds=rec.seconds)
    path.with_suffix(".part").write_text(json.dumps(data), encoding="utf-8")
    os.replace(path.with_suffix(".part"), path)


def load_recording(path: Path, key: str) -> Recording | None:
    """The recording saved in ``path`` under ``key``, else None (absent, another kit or notebook, unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key or data.get("status") != "ok":
            return None
        return Recording(base64.b64decode(data["inputs"]), list(data["events"]), "ok", str(data["message"]),
                         float(data["seconds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_kit(stems: list[str], folder: Path, timeout: float = 900) -> dict[str, Recording]:
    """Record each kit notebook's checks' inputs once and save them in ``folder`` (``grade(..., recordings=folder)``
    replays them): e.g. once when an autograder image is built, instead of once per submission."""
    kit, reference = kit_notebooks(), kit_hash(ROOT)
    bwrap()
    done = {}
    for stem in stems:
        done[stem] = record(stem, kit[stem], timeout, threads_per_run(1))
        if reusable(done[stem]):
            save_recording(recording_file(folder, stem), done[stem], recording_key(stem, kit[stem], reference))
        broken = [e for e in done[stem].events if e.get("error")]
        why = (f"kit cell {broken[0]['cell']} raised {broken[0]['error']}" if broken
               else done[stem].message or "no check was reached")
        print(f"{stem}: the kit's cells run for the checks' inputs in {done[stem].seconds:.1f} s ({done[stem].status})"
              + (f" -> {recording_file(folder, stem)}" if reusable(done[stem]) else f", not saved: {why}"),
              file=sys.stderr)
    return done


def grade_exercise(ex: Exercise, events: list[dict], run_status: str, run_message: str) -> tuple[str, str]:
    """pass | fail | timeout | error, and why, from the worker's verdicts (the last verdict of each check counts)."""
    last = {e["check"]: e for e in events if "check" in e}
    got = [last[c] for c in ex.checks if c in last]
    if len(got) == len(ex.checks) and got:
        for status in ("error", "fail"):
            bad = [e for e in got if e["status"] == status]
            if bad:
                return status, "; ".join(f"{'FAIL ' if status == 'fail' else ''}{e['message']}" for e in bad)
        return "pass", ""
    if run_status != "ok":
        return run_status, f"{run_message} before its check ran"
    broken = [e for e in events if e.get("error")]
    return "error", ("its check never ran" + (f" (kit cell {broken[0]['cell']} raised {broken[0]['error']})"
                                               if broken else ""))


def contradicted(nb, ex: Exercise, status: str) -> str | None:
    """A stored PASS for this exercise's check that the re-run does not give."""
    if status == "pass":
        return None
    stored = [name for c in nb.cells if c.cell_type == "code" for verdict, name, _ in cell_check_lines(c)
              if verdict == "PASS" and name in ex.checks]
    if stored:
        return (f"{ex.id}: the stored outputs show PASS {stored[-1]}, but graded again it is {status}: the outputs "
                "were not made by this code")
    return None


@dataclass
class Graded:
    student: str
    notebook: str
    rows: list[dict]
    answers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def grade_one(student: str, path: Path, kit: dict[str, KitNotebook], out: Path, timeout: float, jobs: int,
              version: str, distinctive: set[str] = frozenset(), recorded=None, sandboxed=None) -> Graded:
    """Grade one hand-in; ``recorded(stem)`` gives its kit notebook's Recording (made on first use);
    ``sandboxed(job, inputs, threads)`` runs the job (default: ``run_sandboxed`` with ``timeout``)."""
    name = _kit_name(path.name, kit) or path.stem
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # broken JSON, not a notebook, unreadable: one row, the batch goes on
        return Graded(student, name, [_row(student, name, status="error",
                                           message=f"unreadable notebook ({type(err).__name__}: {err})")])
    stem, refusal = identify(path, nb, kit)
    if stem is None:
        return Graded(student, name, [_row(student, name, status="error", message=refusal)])
    ref = kit[stem]
    rows = [_row(student, stem, status="flag", message=flag) for flag in stored_output_flags(nb, version)]
    rows += [_row(student, stem, status="flag", message=flag) for flag in answer_flags(nb, distinctive)]
    statements, final, syntax = definitions(nb, {n for ex in ref.exercises for n in ex.names})
    threads = threads_per_run(jobs)
    rec = recorded(stem) if recorded is not None else record(stem, ref, timeout, threads)
    if rec.inputs is None:
        events, status, message, seconds = [], rec.status if rec.status != "ok" else "error", (
            f"the kit's cells that give the checks their inputs failed: {rec.message or 'nothing recorded'}"), 0.0
    else:
        run = sandboxed or (lambda job, inputs, threads: run_sandboxed(job, timeout, threads, inputs))
        events, status, message, seconds = run(make_job(stem, ref, statements), rec.inputs, threads)
    # a kit cell's error (why a check never ran), a check whose inputs could not be recorded
    events = [e for e in rec.events if e.get("error") or e.get("status")] + events
    if status != "ok":
        rows.append(_row(student, stem, status=status, message=message))
    elif rec.status != "ok":
        status, message = rec.status, f"the kit's cells (run once for this notebook's hand-ins) {rec.message}"
        rows.append(_row(student, stem, status=status, message=message))
    used = sorted({x for e in events for x in e.get("answers_used", [])})
    if used:
        rows.append(_row(student, stem, status="flag", message="used the answers module while graded: " + ", ".join(used)))
    ex_rows, notes = [], []
    for ex in ref.exercises:
        verdict, why = grade_exercise(ex, events, status, message)
        where = next((c for c in nb.cells if c.get("id") == ex.cell_id), None)
        broken = [syntax[i] for i, c in enumerate(nb.cells) if i in syntax and (c is where or set(ex.names) & set(
            re.findall(r"^\s*(?:def|class)\s+(\w+)", c.source, re.M)))]
        if verdict == "fail" and broken and not set(ex.names) & set(final):
            why = f"the exercise cell has a {broken[-1]}"
        if not any(_calls(c.source, ex.checks) for c in nb.cells if c.cell_type == "code"):
            why = (why + "; " if why else "") + "the self-check call was removed (the answer was judged anyway)"
        ex_rows.append(_row(student, stem, ex.id, ex.title, ex.tier, verdict, why))
        notes.append(contradicted(nb, ex, verdict))
    rows += [_row(student, stem, status="flag", message=n) for n in notes if n]
    return Graded(student, stem, rows + ex_rows, answers(nb, ref.nb), seconds)


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


def grade(handins: Path, out: Path, timeout: float = 300, jobs: int = 1, record_timeout: float = 900,
          recordings: Path | None = None) -> list[dict]:
    """Grade every hand-in under ``handins``; write grades.csv and reports/ into ``out``; return the rows.
    ``recordings``: a folder of saved recordings (``record_kit``): one made for this kit and notebook is replayed, and a new one
    is saved there.

    The kit is hashed before and after each hand-in: if it changed, the batch stops (nothing is written)."""
    if not handins.is_dir():
        raise SystemExit(f"{handins} is not a folder: pass the folder that holds the handed-in notebooks")
    kit = kit_notebooks()
    version = kit_version(ROOT)
    work = discover(handins, kit)
    if not work:
        raise SystemExit(f"no .ipynb files under {handins}")
    out.mkdir(parents=True, exist_ok=True)
    distinctive = _distinctive_answer_lines()
    bwrap()                                   # the warning, once, before the first hand-in
    reference = kit_hash(ROOT)
    changed: list[str] = []
    batch: dict[str, Recording] = {}
    reused: dict[str, str] = {}

    recording_locks = {stem: threading.Lock() for stem in kit}

    def recorded(stem: str) -> Recording:
        """The kit notebook's recording: made by the first hand-in that needs it, shared by the others (and by a
        later batch or run while the kit is unchanged: ``recordings``)."""
        with recording_locks[stem]:
            if stem not in batch:
                key = recording_key(stem, kit[stem], reference)
                if recordings and (loaded := load_recording(recording_file(recordings, stem), key)) is not None:
                    batch[stem] = loaded
                    reused[stem] = f"earlier, saved in {recording_file(recordings, stem)}"
                else:
                    batch[stem] = record(stem, kit[stem], record_timeout, threads_per_run(jobs))
                    if recordings and reusable(batch[stem]):   # a failed recording is retried by the next batch
                        save_recording(recording_file(recordings, stem), batch[stem], key)
            return batch[stem]

    runs: dict[str, tuple] = {}
    run_locks: dict[str, threading.Lock] = {}
    shared: list[str] = []
    locks_lock = threading.Lock()

    def sandboxed(job: dict, inputs: bytes, threads: int):
        """One sandbox run per distinct job: hand-ins whose definitions are the same, statement for statement (an
        unsolved notebook handed in twice; forgeries that differ only in what the grader never runs), share the
        first one's finished run - the same code on the same recorded inputs. A run that timed out or broke is
        not shared: the next such hand-in runs for itself."""
        key = hashlib.sha256(json.dumps(job, sort_keys=True).encode() + b"\0" + inputs).hexdigest()
        with locks_lock:
            lock = run_locks.setdefault(key, threading.Lock())
        with lock:
            if key in runs:
                shared.append(key)
                events, status, message, _ = runs[key]
                return [dict(e) for e in events], status, message, 0.0
            result = run_sandboxed(job, timeout, threads, inputs)
            if result[1] == "ok":
                runs[key] = result
            return result

    def one(item):
        student, path = item
        if changed:
            return None
        graded = grade_one(student, path, kit, out, timeout, jobs, version, distinctive, recorded, sandboxed)
        count = {s: sum(r["status"] == s for r in graded.rows if r["exercise"] != "notebook") for s in ("pass", "fail")}
        print(f"graded {student}/{path.name} ({graded.notebook}) in {graded.seconds:.1f} s: {count['pass']} pass, "
              f"{count['fail']} fail", file=sys.stderr, flush=True)
        if kit_hash(ROOT) != reference:
            changed.append(f"{student}/{path.name}")
        return graded

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        graded = list(pool.map(one, work))
    except BaseException:   # Ctrl+C or SIGTERM: start nothing more, kill what runs (their sandboxes too)
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    if changed:
        raise SystemExit(f"the kit changed while grading {changed[0]}: the batch stopped and no grades were written. "
                         "Restore the kit (git status, git checkout) and grade again.")
    graded = [g for g in graded if g is not None]
    rows = [r for g in graded for r in g.rows]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "reports").mkdir(exist_ok=True)
    for student in dict.fromkeys(g.student for g in graded):
        mine = [g for g in graded if g.student == student]
        (out / "reports" / f"{_safe(student)}.md").write_text(report(student, mine, timeout), encoding="utf-8")
    for stem, rec in sorted(batch.items()):
        when = reused.get(stem, "once")
        print(f"{stem}: the kit's cells run {when} for the checks' inputs in {rec.seconds:.1f} s ({rec.status})",
              file=sys.stderr)
    if shared:
        print(f"{len(shared)} hand-in(s) had the same definitions as an earlier one: graded on its run", file=sys.stderr)
    per = [g.seconds for g in graded if g.seconds]
    if per:
        print(f"{len(per)} notebooks graded, {sum(per) / len(per):.1f} s per notebook on average "
              f"(slowest {max(per):.1f} s), {jobs} at a time", file=sys.stderr)
        for stem in sorted({g.notebook for g in graded if g.seconds}):
            mine = [g.seconds for g in graded if g.notebook == stem and g.seconds]
            print(f"  {stem}: {len(mine)} graded, {sum(mine) / len(mine):.1f} s each on average "
                  f"({min(mine):.1f}-{max(mine):.1f} s)", file=sys.stderr)
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("handins", type=Path, nargs="?", help="folder of handed-in notebooks (a subfolder per student)")
    parser.add_argument("--out", type=Path, help="where grades.csv, reports/ and executed/ go "
                                                 "(default: HANDINS_DIR-graded next to it)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    parser.add_argument("--record-timeout", type=float, default=900,
                        help="seconds for the kit's own cells, run once per kit notebook (default 900)")
    parser.add_argument("--recordings", type=Path, help="a folder for the kit's recordings: one saved there for this "
                        "kit is replayed instead of running the kit's cells again, and a new one is saved there")
    parser.add_argument("--record", nargs="+", metavar="NOTEBOOK", help="only record these kit notebooks' cells "
                        "(e.g. 03_sft) into --recordings, for later runs to replay")
    args = parser.parse_args(argv)
    if args.record:
        if args.recordings is None:
            raise SystemExit("--record needs --recordings DIR: the folder the recordings are saved in")
        unknown = sorted(set(args.record) - set(kit_notebooks()))
        if unknown:
            raise SystemExit(f"--record: no kit notebook {', '.join(unknown)}; pick from {', '.join(kit_notebooks())}")
        done = record_kit(args.record, args.recordings.resolve(), args.record_timeout)
        return 0 if all(reusable(r) for r in done.values()) else 1   # 1: something not saved
    if args.handins is None:
        parser.error("pass HANDINS_DIR, the folder of handed-in notebooks (or --record NOTEBOOK ... --recordings DIR)")
    handins = args.handins.resolve()
    out = (args.out or handins.with_name(handins.name + "-graded")).resolve()
    if out == handins or handins in out.parents:
        raise SystemExit("--out must not be inside the hand-in folder (its executed notebooks would be graded next time)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # a SIGTERM stops the runs like Ctrl+C does
    start = time.perf_counter()
    try:
        rows = grade(handins, out, args.timeout, args.jobs, args.record_timeout, args.recordings)
    except KeyboardInterrupt:
        print("interrupted: the runs in progress were stopped; no grades were written", file=sys.stderr)
        return 130
    print(summary(rows, out))
    print(f"graded in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
