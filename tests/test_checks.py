"""Every self-check passes on a correct solution and fails on the unsolved stub.

Each check in helpers.check needs an entry in CASES, defined in tests/check_cases_<notebook>.py:
    CASES = {"check_name": (make_args, solution, [wrong_solutions...])}
where make_args() returns the arguments the check takes after the student's function. The stub
(raise NotImplementedError) is always tried too. test_every_check_has_a_case makes sure no check lacks one.
"""
import inspect

import pytest

import helpers
from helpers import check
from helpers.check import SelfCheckError


def stub(*args, **kwargs):
    raise NotImplementedError


def all_cases() -> dict:
    """Merge CASES from every tests/check_cases_*.py (one file per notebook)."""
    import importlib.util
    from pathlib import Path

    merged = {}
    for path in sorted(Path(__file__).parent.glob("check_cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        overlap = set(merged) & set(module.CASES)
        assert not overlap, f"{path.name} repeats {overlap}"
        merged.update(module.CASES)
    return merged


CASES = all_cases()


def public_checks():
    return sorted(name for name, obj in vars(check).items()
                  if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__.startswith("helpers.check.")
                  and obj.__module__ != "helpers.check._core")  # learned() is an assert, not an exercise's check


def test_every_check_has_a_case():
    assert set(public_checks()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_the_solution(name, capsys):
    make_args, solution, _ = CASES[name]
    assert getattr(check, name)(solution, *make_args()) is None  # no stray "True" under the PASS line
    assert f"PASS {name}" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fails_the_stub_and_wrong_answers(name, capsys):
    make_args, _, wrongs = CASES[name]
    for bad in [stub, *wrongs]:
        with pytest.raises(SelfCheckError) as err:
            getattr(check, name)(bad, *make_args())
        assert "Hint:" in str(err.value) or "not implemented" in str(err.value)
    assert "not implemented yet" in capsys.readouterr().out


def test_learned_asserts_except_in_a_rehearsal(monkeypatch, capsys):
    import pytest

    from helpers.check import learned

    monkeypatch.delenv("COURSE_REHEARSAL", raising=False)
    learned(True, "loss falls")
    assert "as predicted: loss falls" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="expected loss falls"):
        learned(False, "loss falls")
    monkeypatch.setenv("COURSE_REHEARSAL", "1")
    learned(False, "loss falls")
    assert "REHEARSAL" in capsys.readouterr().out
