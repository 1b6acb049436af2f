"""The student's process: the only place a hand-in's code ever runs while it is graded (inside the sandbox).

Started by ``grading/worker.py`` with a fresh interpreter (not a fork: it holds none of the grader's memory, and
the kit copy it can read has no answers module). It executes the hand-in's definitions - its imports, the final
``def``/``class`` of each name, constant assignments; never its other statements (prints, patches, check calls) -
then answers requests on its stdin/stdout channel: "call your function ``name`` on these inputs". Each answer goes
back as data (``grading/wire.py``); the verdict is computed by the worker, which never runs student code.

Checks that need the student's live object (01's classes and ``inject_lora``) send a "probe" request instead: the
kit's probe (``helpers.check.<name>.probe``) builds the student's object here, runs it on the worker's inputs and
returns what it did as data; the verdict on that data is the worker's. Nothing here decides a grade. After a FAIL
the worker sends that one exercise's reference ("fallback"), which replaces the student's definition here, as the
notebook hands it back, so later exercises are judged on their own.
"""
from __future__ import annotations

import builtins
import os
import pickle
import sys
import traceback
import types


def _guard_answers(used: list) -> None:
    """``helpers.check._reference`` here is a stub: calling its functions is recorded, and they raise."""
    guard = types.ModuleType("helpers.check._reference")

    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        def unavailable(*args, **kwargs):
            used.append(name)
            raise ImportError("the answers module (helpers.check._reference) is not available while grading")
        return unavailable

    guard.__getattr__ = __getattr__
    sys.modules["helpers.check._reference"] = guard


def _builtin_name(err: BaseException) -> str:
    for cls in type(err).__mro__:
        if getattr(builtins, cls.__name__, None) is cls and issubclass(cls, Exception):
            return cls.__name__
    return "RuntimeError"


def main() -> int:
    sys.path.insert(0, sys.argv[1])
    from grading import wire

    channel_in, channel_out = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):            # what the student's code prints goes nowhere: nobody reads it
        os.dup2(quiet, fd)
    sys.stdin = open(os.devnull)
    used: list = []
    _guard_answers(used)
    job = pickle.loads(wire.recv(channel_in))
    ns = {"__name__": "__main__", "__builtins__": builtins}
    errors = {}
    for cell, source in job["statements"]:
        try:
            exec(compile(source, f"<hand-in cell {cell}>", "exec"), ns)
        except BaseException as err:  # noqa: BLE001 - a broken hand-in is reported, never fatal
            errors.setdefault(str(cell), f"{type(err).__name__}: {err}")
    wire.send(channel_out, wire.dump_data({"errors": errors, "names": sorted(k for k in ns if not k.startswith("__"))}))
    while True:
        try:
            request = pickle.loads(wire.recv(channel_in))
        except EOFError:
            return 0
        kind = request[0]
        try:
            if kind == "call":
                _, name, args, kwargs = request
                reply = ("ok", wire.as_data(ns[name](*args, **kwargs)))
            elif kind == "probe":       # a split check: the kit's probe runs the student's object, data goes back
                _, check, name, inputs = request
                import helpers.check

                try:
                    reply = ("ok", wire.as_data(getattr(helpers.check, check).probe(ns[name], inputs)))
                except helpers.check.SelfCheckError as err:
                    reply = ("fail", str(err))
            elif kind == "fallback":    # after a FAIL: this one answer of the kit, as the notebook hands it back
                _, name, source, func, how = request
                scope = {"__name__": "fallback"}
                exec(compile(source, "<the kit's answer>", "exec"), scope)
                if how == "reference":
                    ns[name] = scope[func]
                elif name in ns:
                    ns[name] = scope[func](ns[name])
                reply = ("ok", None)
            else:
                reply = ("raise", "RuntimeError", f"unknown request {kind!r}")
        except BaseException as err:  # noqa: BLE001 - the student's error goes back as data
            reply = ("raise", _builtin_name(err), str(err)[:2000])
        reply = reply + (list(dict.fromkeys(used)),)
        try:
            payload = wire.dump_data(reply)
            wire.load_data(payload)
        except Exception as err:  # noqa: BLE001 - an answer that is not plain data
            payload = wire.dump_data(("raise", "TypeError", f"returned something that is not plain data "
                                      f"(tensors, numbers, strings, lists, tuples, dicts): {str(err)[:200]}",
                                      list(dict.fromkeys(used))))
        wire.send(channel_out, payload)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(1)
