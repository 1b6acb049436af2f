"""The machinery every self-check uses: a clear pass, or a clear fail with a hint.

A check calls the student's function on cases it knows the answer to. It prints
"PASS <name>: <what was shown>" (and returns None, so a notebook cell shows just that line), or prints
"FAIL <name>: <what is wrong>. Hint: ..." and raises ``SelfCheckError`` - so an unsolved exercise stops the
notebook at the check, never later.
"""
from __future__ import annotations

import torch


class SelfCheckError(AssertionError):
    """A self-check failed; the message says what is wrong and how to fix it."""


def passed(name: str, detail: str = "") -> None:
    print(f"PASS {name}" + (f": {detail}" if detail else ""))


def failed(name: str, problem: str, hint: str = ""):
    message = f"{name}: {problem}" + (f"\nHint: {hint}" if hint else "")
    print("FAIL " + message)
    raise SelfCheckError(message)


def attempt(name: str, fn, *args, hint: str = "", **kwargs):
    """Call the student's ``fn``; an unsolved stub (NotImplementedError) or a crash becomes a clear FAIL."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        failed(name, "not implemented yet - replace `raise NotImplementedError` with your code", hint)
    except SelfCheckError:
        raise
    except Exception as err:  # the student's bug, reported in one line
        failed(name, f"your code raised {type(err).__name__}: {err}", hint)


def refuses(name: str, fn, args, *, what: str, hint: str) -> None:
    """FAIL unless ``fn(*args)`` raises ValueError: an input the exercise must refuse (``what`` describes it)."""
    try:
        got = fn(*args)
    except NotImplementedError:
        failed(name, "not implemented yet - replace `raise NotImplementedError` with your code", hint)
    except ValueError:
        return
    except Exception as err:
        failed(name, f"{what} raised {type(err).__name__}: {err}", "raise ValueError with a clear message")
    failed(name, f"{what} returned {got!r}", hint)


def close(name: str, got, want, *, atol: float = 1e-6, rtol: float = 1e-5, what: str = "result", hint: str = ""):
    """FAIL unless tensors (or numbers) ``got`` and ``want`` agree in shape and value."""
    if got is None:
        failed(name, f"the {what} is None - did you forget to return it?", hint)
    got_t, want_t = torch.as_tensor(got), torch.as_tensor(want)
    if got_t.shape != want_t.shape:
        failed(name, f"the {what} has shape {tuple(got_t.shape)}, expected {tuple(want_t.shape)}", hint)
    diff = (got_t.double() - want_t.double()).abs().max().item() if got_t.numel() else 0.0
    if not torch.allclose(got_t.double(), want_t.double(), atol=atol, rtol=rtol):
        failed(name, f"the {what} is off by up to {diff:.3g}", hint)
    return diff


def equal(name: str, got, want, *, what: str = "result", hint: str = ""):
    """FAIL unless ``got == want`` (exact: counts, token ids, strings)."""
    if got != want:
        failed(name, f"the {what} is {got!r}, expected {want!r}", hint)


def learned(ok: bool, what: str) -> None:
    """Assert something that only holds when the model really learns (loss falls, margins grow).

    In a rehearsal of the full profile on random-weight stand-ins (``COURSE_REHEARSAL=1``, see the README) such a
    claim cannot hold, so it is reported instead of asserted; everywhere else - the quick profile, a real run - a
    failed claim stops the notebook like any ``assert``.
    """
    import os

    if ok:
        print(f"as predicted: {what}")
    elif os.environ.get("COURSE_REHEARSAL") == "1":
        print(f"REHEARSAL (random weights, not asserted): expected {what}")
    else:
        raise AssertionError(f"expected {what} - the run did not show it")
