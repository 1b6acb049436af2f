"""The machinery every self-check uses: a clear pass, or a clear fail with a hint.

A notebook writes ``lora_scaling = helpers.check.lora_scaling(lora_scaling)``. PASS prints "PASS <name>: <what was
shown>" and returns the student's own function (or class). FAIL prints "FAIL <name>: <what is wrong>" and a hint (to
stderr: Jupyter shows it red) and returns the reference (``_reference.py``) with a note that the exercise is NOT
solved, so the rest of the lesson runs; where the lesson never uses the function again, the student's own. Strict
mode (``COURSE_STRICT_CHECKS=1``, set by the suite's conftest.py): a FAIL raises ``SelfCheckError`` instead.
"""
from __future__ import annotations

import functools
import os
import sys

import torch

STRICT_ENV = "COURSE_STRICT_CHECKS"
NOT_IMPLEMENTED = "not implemented yet - replace `raise NotImplementedError` with your code"


class SelfCheckError(AssertionError):
    """A self-check failed; the message says what is wrong and how to fix it."""


def passed(name: str, detail: str = "") -> None:
    print(f"PASS {name}" + (f": {detail}" if detail else ""))


def failed(name: str, problem: str, hint: str = ""):
    """Stop the check: ``self_check`` turns this into the FAIL line (and the fallback)."""
    raise SelfCheckError(f"{name}: {problem}" + (f"\nHint: {hint}" if hint else ""))


def self_check(*, reference=None, build=None, what: str = "function"):
    """Make ``check(yours, *args)`` a self-check; on FAIL it hands back ``reference``, or ``build(yours)`` (a class
    keeps the student's other methods); with neither, the lesson does not use it again (no fallback)."""
    def decorate(check):
        name = check.__name__

        @functools.wraps(check)
        def run(yours, *args, **kwargs):
            try:
                check(yours, *args, **kwargs)
            except SelfCheckError as err:
                print(f"FAIL {err}", file=sys.stderr, flush=True)
                if os.environ.get(STRICT_ENV) == "1":      # the test suite: a FAIL raises, no fallback
                    raise
                if reference is None and build is None:
                    print(f"NOTE: the rest of this notebook does not use your {name} {what}, so it runs on - "
                          "this exercise is NOT solved. Fix it and run this cell again.", file=sys.stderr, flush=True)
                    return yours
                print(f"NOTE: using the reference {name} {what} so the rest of the notebook runs - this exercise is "
                      "NOT solved. Fix your code and run this cell again.", file=sys.stderr, flush=True)
                return build(yours) if build is not None else reference
            return yours

        run.has_reference = reference is not None or build is not None
        return run
    return decorate


def attempt(name: str, fn, *args, hint: str = "", **kwargs):
    """Call the student's ``fn``; an unsolved stub (NotImplementedError) or a crash becomes a clear FAIL."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        failed(name, NOT_IMPLEMENTED, hint)
    except SelfCheckError:
        raise
    except Exception as err:  # the student's bug, reported in one line
        failed(name, f"your code raised {type(err).__name__}: {err}", hint)


def refuses(name: str, fn, args, *, what: str, hint: str, error: str = "raise ValueError with a clear message"):
    """FAIL unless ``fn(*args)`` raises ValueError: an input the exercise must refuse (``what`` describes it)."""
    try:
        got = fn(*args)
    except NotImplementedError:
        failed(name, NOT_IMPLEMENTED, hint)
    except ValueError:
        return
    except Exception as err:
        failed(name, f"{what} raised {type(err).__name__}: {err}", error)
    failed(name, f"{what} returned {got!r}", hint)


def returns(name: str, got, parts: str, hint: str) -> tuple:
    """FAIL unless ``got`` is a tuple (or list) of the named ``parts``, e.g. "losses, chosen_rewards"."""
    if not isinstance(got, (tuple, list)) or len(got) != len(parts.split(",")):
        failed(name, f"expected a tuple ({parts}), got {type(got).__name__}", hint)
    return tuple(got)


def close(name: str, got, want, *, atol: float = 1e-6, rtol: float = 1e-5, what: str = "result", hint: str = "",
          tensor: bool = False):
    """FAIL unless tensors (or numbers) ``got`` and ``want`` agree in shape and value; the largest difference. With
    ``tensor``, ``got`` (data from a student's object) must be a plain tensor, not one that only says it is equal."""
    if got is None:
        failed(name, f"the {what} is None - did you forget to return it?", hint)
    if tensor and type(got) is not torch.Tensor:
        failed(name, f"the {what} is a {type(got).__name__}, not a tensor", hint)
    try:
        got_t, want_t = torch.as_tensor(got).double(), torch.as_tensor(want).double()
    except (TypeError, ValueError, RuntimeError):
        failed(name, f"the {what} is a {type(got).__name__}, not a number or a tensor", hint)
    if got_t.shape != want_t.shape:
        failed(name, f"the {what} has shape {tuple(got_t.shape)}, expected {tuple(want_t.shape)}", hint)
    diff = (got_t - want_t).abs().max().item() if got_t.numel() else 0.0
    if not torch.allclose(got_t, want_t, atol=atol, rtol=rtol, equal_nan=True):
        failed(name, f"the {what} is off by up to {diff:.3g}", hint)
    return diff


def equal(name: str, got, want, *, what: str = "result", hint: str = ""):
    """FAIL unless ``got == want`` (exact: counts, token ids, strings)."""
    if got != want:
        failed(name, f"the {what} is {got!r}, expected {want!r}", hint)


def learned(ok: bool, what: str) -> None:
    """Assert what only holds when the model really learns (loss falls, margins grow); in a rehearsal on random-weight
    stand-ins (``COURSE_REHEARSAL=1``, see the README) it cannot hold, so it is reported instead."""
    if ok:
        print(f"as predicted: {what}")
    elif os.environ.get("COURSE_REHEARSAL") == "1":
        print(f"REHEARSAL (random weights, not asserted): expected {what}")
    else:
        raise AssertionError(f"expected {what} - the run did not show it")
