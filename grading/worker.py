"""The grader's worker: one per hand-in, inside the sandbox; it runs the KIT's code and judges the student's.

    python -I grading/worker.py KIT_DIR RESULT_FD      (the job comes as JSON on stdin; scripts/teachers/grade.py starts it)

Why a wrong answer cannot pass (the design note; README "Grading handed-in notebooks" says the same):
- Nothing the student's notebook printed or stored is read for a grade. The hand-in is never run as a notebook: the
  grader takes its DEFINITIONS (imports, the final ``def``/``class`` of each name, constant assignments) and sends
  them to a separate, freshly started process (``grading/student.py``). Top-level statements - printing PASS,
  assigning ``helpers.check.<name>``, patching ``builtins.print``, calling or deleting the self-check - never run.
- Each check gets the inputs the lesson gives it. The kit's own cells compute them (trusted code, up to the last
  exercise), ONCE per kit notebook and batch: a "record" run of this worker, with no hand-in and no student process,
  runs the cells with ``helpers.check.<name>`` replaced by a recorder that pickles each call's arguments (before
  later cells change them) and hands the lesson the kit's own definition back. Every hand-in's "grade" run then loads
  those calls (a read-only file of its sandbox's kit copy, read before any student code starts) and runs each check
  HERE, where no student code has ever run, with a stand-in for the student's function that sends the inputs to the
  student's process and gets the result back as plain data (``weights_only`` loading: tensors, numbers, strings,
  containers). Safe because the kit's cells never see the student's code: per hand-in they would compute the same
  inputs; each hand-in unpickles its own copy, so a check that changes its inputs (a model it trains) cannot reach
  the next hand-in. The student's process can return any value - the only way to pass is to return the right values.
- This worker marks itself non-dumpable, so a process of the same user (the student's) cannot ptrace it or read its
  memory; the answers module comes to it on stdin and is absent from the kit copy the sandbox shows; each verdict is
  written to RESULT_FD, a pipe the student's process never holds (it is started with close_fds).
- Class exercises and checks that change the student's object (01's ``lora_forward``, ``lora_merge``,
  ``dora_forward``, ``inject_lora``) are split in three in ``helpers/check`` (``cases``, ``probe``, ``judge``): the
  worker draws the inputs (a fresh seed per hand-in), the student's process runs only the probe - build the
  student's object, run it on those inputs, send back outputs, gradients, weights, dtypes, names and counts as data -
  and the judge compares that data with PEFT here. A probe the student's code patched, a method that patches the
  check, a crafted return value (an ``__eq__`` that says yes, a tensor subclass) can only change the data sent,
  never the comparison; a FAIL the student's process reports is taken (it can only cost the student), a PASS never.
- After a FAIL, as the notebook hands back the reference, the student's process is sent that ONE answer (the
  answers module's function and the top-level names it uses, ``fallback_source``) in place of the student's: later
  exercises are judged on their own, not on an earlier mistake. The exercise it replaces is already judged.
"""
from __future__ import annotations

import builtins
import ctypes
import json
import os
import pickle
import random
import subprocess
import sys
import time
import types

ALLOWED_ERRORS = {"ValueError", "TypeError", "KeyError", "IndexError", "AttributeError", "NameError", "RuntimeError",
                  "AssertionError", "ZeroDivisionError", "NotImplementedError", "ImportError", "ModuleNotFoundError",
                  "ArithmeticError", "LookupError", "OverflowError", "RecursionError", "UnboundLocalError",
                  "StopIteration", "OSError", "FileNotFoundError", "MemoryError", "UnicodeError", "Exception"}


class GraderError(BaseException):
    """The grader could not ask the student's process (an input it cannot send): not the student's fault.
    A BaseException, so a check's ``except Exception`` does not turn it into the student's FAIL."""


class Student:
    """The student's process, and the one channel to it."""

    def __init__(self, kit: str, statements: list):
        self.kit, self.statements = kit, statements
        self.proc = None
        self.answers_used: list[str] = []
        self.start()

    def start(self):
        from grading import wire

        os.makedirs("student", exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-I", os.path.join(self.kit, "grading", "student.py"), self.kit],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True, cwd="student")
        wire.send(self.proc.stdin, pickle.dumps({"statements": self.statements}))
        self.ready = None

    def hello(self) -> dict:
        from grading import wire

        if self.ready is None:
            try:
                self.ready = wire.load_data(wire.recv(self.proc.stdout))
            except Exception as err:  # noqa: BLE001
                self.ready = {"errors": {"?": f"the hand-in's definitions could not be loaded ({err})"}, "names": []}
        return self.ready

    def ask(self, request: tuple):
        from grading import wire

        self.hello()
        try:
            payload = pickle.dumps(request)
        except Exception as err:  # noqa: BLE001
            raise GraderError(f"the grader cannot send this check's inputs to the student's process: {err}") from None
        try:
            wire.send(self.proc.stdin, payload)
            reply = wire.load_data(wire.recv(self.proc.stdout))
        except Exception as err:  # noqa: BLE001 - the student's code ended its process, or sent something not data
            self.proc.kill()
            self.start()
            raise RuntimeError(f"the student's process stopped or answered with something that is not data ({err})")
        if not isinstance(reply, tuple) or not reply or not isinstance(reply[-1], list):
            raise RuntimeError("the student's process answered out of protocol")
        self.answers_used += [str(x) for x in reply[-1]]
        return reply[:-1]

    def function(self, name: str):
        student = self

        def remote(*args, **kwargs):
            reply = student.ask(("call", name, args, kwargs))
            if reply[0] == "ok":
                return reply[1]
            if reply[0] == "raise":
                cls = getattr(builtins, str(reply[1]), RuntimeError) if str(reply[1]) in ALLOWED_ERRORS else RuntimeError
                raise cls(str(reply[2]))
            raise RuntimeError("the student's process answered out of protocol")

        remote.__name__ = remote.__qualname__ = name
        return remote


def fallback_source(reference_source: str, func: str) -> str:
    """The answers module's ``func`` alone: its imports, the function and the top-level names it uses - what the
    student's process gets after a FAIL, as the notebook does (never the rest of the answers)."""
    import ast

    tree = ast.parse(reference_source)
    defs = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assigns = {t.id: node for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
               if isinstance(t, ast.Name)}
    keep, todo = [], [func]
    while todo:
        name = todo.pop()
        node = defs.get(name) or assigns.get(name)
        if node is None or node in keep:
            continue
        keep.append(node)
        todo += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) and
               not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    ordered = [node for node in tree.body if node in keep]
    return "\n\n".join(ast.unparse(node) for node in imports + ordered)


def fallback_of(check) -> tuple[str, str] | None:
    """("reference" | "build", the answers module's function name) a self-check hands back on FAIL, if any."""
    import inspect

    try:
        found = inspect.getclosurevars(check).nonlocals
    except (TypeError, ValueError):
        return None
    for kind in ("build", "reference"):
        if callable(found.get(kind)):
            return kind, found[kind].__name__
    return None


def _non_dumpable() -> None:
    """PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem for a process of the same user."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except Exception:  # noqa: BLE001 - not Linux: the sandbox is absent anyway, and grade.py warns
        pass


def main() -> int:
    kit, result_fd = sys.argv[1], int(sys.argv[2])
    out = os.fdopen(result_fd, "w", buffering=1)

    def emit(**event):
        event["t"] = round(time.perf_counter(), 2)
        out.write(json.dumps(event) + "\n")
        out.flush()

    _non_dumpable()
    job = json.loads(sys.stdin.read())
    sys.stdin = open(os.devnull)
    sys.path.insert(0, kit)
    answers = types.ModuleType("helpers.check._reference")
    answers.__file__ = "helpers/check/_reference.py"
    exec(compile(job["reference"], answers.__file__, "exec"), answers.__dict__)
    sys.modules["helpers.check._reference"] = answers
    mode = job.get("mode", "grade")
    if mode == "grade":                 # the recorded calls, read before any student code starts
        with open(os.path.join(kit, job["inputs"]), "rb") as f:
            calls = pickle.load(f)
        student = Student(kit, job["statements"])
    hidden = types.ModuleType("hidden_checks")
    if job.get("hidden"):
        exec(compile(job["hidden"], job.get("hidden_name", "hidden.py"), "exec"), hidden.__dict__)
    import helpers.check
    from helpers.check import SelfCheckError

    def probe_and_judge(check_name, name, check):
        """A split check: inputs drawn here, the probe run in the student's process, the verdict judged here."""
        inputs = check.cases(random.SystemRandom().randrange(2**31))
        try:
            reply = student.ask(("probe", check_name, name, inputs))
        except RuntimeError as err:     # the student's code ended its process or sent something that is not data
            return "fail", f"{check_name}: {err}"
        if reply[0] == "fail" and len(reply) == 2:
            return "fail", str(reply[1])
        if reply[0] == "raise" and len(reply) == 3:
            return "fail", f"{check_name}: your code raised {reply[1]}: {reply[2]}"
        if reply[0] != "ok" or len(reply) != 2:
            return "fail", f"{check_name}: the student's process answered out of protocol"
        try:
            check.judge(inputs, reply[1])
        except SelfCheckError as err:
            return "fail", str(err)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as err:
            return "fail", (f"{check_name}: the student's process sent data the check cannot read "
                            f"({type(err).__name__}: {str(err)[:200]})")
        return "pass", ""

    recorded: list[bytes] = []

    def recorder(check_name):
        def run(yours, *args, **kwargs):
            name = getattr(yours, "__name__", str(yours))
            try:
                recorded.append(pickle.dumps((check_name, name, args, kwargs)))   # now: later cells may change them
                emit(check=check_name, name=name, recorded=True)
            except Exception as err:  # noqa: BLE001 - an input the grader cannot keep: its problem, said so
                emit(check=check_name, name=name, status="error",
                     message=f"the grader cannot record this check's inputs: {type(err).__name__}: {err}"[:400])
            return yours                    # the kit's own definition: the lesson goes on with trusted code
        return run

    def judge(check_name, original):
        def run(yours, *args, **kwargs):
            name = getattr(yours, "__name__", str(yours))
            start = time.perf_counter()
            defined = student.hello()
            if name not in defined["names"]:
                emit(check=check_name, name=name, status="fail",
                     message=f"the hand-in defines no {name} (its definition is missing or could not be loaded)")
                return yours
            try:
                if getattr(original, "probe", None) is not None:
                    status, message = probe_and_judge(check_name, name, original)
                else:
                    status, message = "pass", ""
                    for kind, check in [("", original.__wrapped__)] + [
                            ("hidden check ", h) for h in getattr(hidden, "HIDDEN", {}).get(check_name, [])]:
                        try:
                            check(student.function(name), *args, **kwargs)
                        except SelfCheckError as err:
                            status, message = "fail", kind + str(err)
                            break
            except GraderError as err:
                status, message = "error", str(err)
            except Exception as err:  # noqa: BLE001 - the check itself broke: the grader's problem, said so
                status, message = "error", f"the check raised {type(err).__name__}: {err}"
            emit(check=check_name, name=name, status=status, message=message,
                 seconds=round(time.perf_counter() - start, 2), answers_used=sorted(set(student.answers_used)))
            if status != "pass" and fallback_of(original) is not None:
                # as in the notebook: after a FAIL the rest runs on the reference (a class is patched in place),
                # so a later exercise is judged on its own, not on this one's mistake
                kind, func = fallback_of(original)
                try:
                    student.ask(("fallback", name, fallback_source(job["reference"], func), func, kind))
                except (RuntimeError, GraderError):
                    pass
            return yours                    # the kit's own solution: the lesson goes on with trusted code
        run.__wrapped__ = original.__wrapped__
        return run

    if mode == "grade":
        for call in calls:
            check_name, name, args, kwargs = pickle.loads(call)
            judge(check_name, getattr(helpers.check, check_name))(name, *args, **kwargs)
    else:                               # "record": the kit's cells, no hand-in
        for check_name in job["checks"]:
            setattr(helpers.check, check_name, recorder(check_name))
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        saved = 0
        for index, source in job["cells"]:
            emit(cell=index)
            result = shell.run_cell(source, store_history=False, silent=False)
            err = result.error_before_exec or result.error_in_exec
            if err is not None:
                emit(cell=index, error=f"{type(err).__name__}: {err}"[:400])
            if len(recorded) > saved:     # what is recorded so far survives a timeout
                with open(job["inputs"] + ".part", "wb") as f:
                    pickle.dump(recorded, f)
                os.replace(job["inputs"] + ".part", job["inputs"])
                saved = len(recorded)
    emit(done=True)
    if mode == "grade" and student.proc.poll() is None:
        student.proc.stdin.close()
        student.proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
