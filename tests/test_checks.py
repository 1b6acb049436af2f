"""Every self-check passes on a correct solution (returning it) and fails on the unsolved stub; outside strict mode
a FAIL hands back a reference that passes the same check.

Each check in helpers.check needs an entry in CASES, defined in tests/check_cases_<notebook>.py:
    CASES = {"check_name": (make_args, solution, [wrong_solutions...])}
where make_args() returns the arguments the check takes after the student's function. The stub
(raise NotImplementedError) is always tried too. test_every_check_has_a_case makes sure no check lacks one.
"""
import inspect
import types

import pytest

import helpers
from helpers import check
from helpers.check import SelfCheckError


def stub(*args, **kwargs):
    raise NotImplementedError


# What the student build leaves of a class exercise: the given code, with the exercise's methods unsolved.
STUBBED_METHODS = {"lora_forward": ("forward",), "lora_merge": ("delta_weight", "merge", "unmerge")}


def unsolved(name, solution):
    """The solution as the student build leaves it: a class keeps its given methods, the exercise's raise;
    a function keeps its signature (a fallback may read its defaults) but no namespace: a fallback that looked up
    a notebook definition next to it (``fn.__globals__``) fails here."""
    if inspect.isclass(solution):
        return type(solution.__name__, (solution,), {m: stub for m in STUBBED_METHODS.get(name, ("forward",))})
    student = types.FunctionType(stub.__code__, {"__builtins__": __builtins__}, solution.__name__)
    student.__wrapped__ = solution               # inspect.signature reads the solution's parameters
    return student


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
    assert getattr(check, name)(solution, *make_args()) is solution  # PASS: the lesson goes on with yours
    assert f"\nPASS {name}" in "\n" + capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fails_the_stub_and_wrong_answers(name, capsys):
    make_args, _, wrongs = CASES[name]
    for bad in [stub, *wrongs]:
        with pytest.raises(SelfCheckError) as err:
            getattr(check, name)(bad, *make_args())
        assert "Hint:" in str(err.value) or "not implemented" in str(err.value)
    err = capsys.readouterr().err
    assert f"\nFAIL {name}: " in "\n" + err and "not implemented yet" in err


def test_a_misnamed_dora_parameter_fails_with_the_names_hint():
    """dora_forward looks for the notebook's names before it runs the student's forward: a length stored as ``m``
    while forward reads ``self.magnitude`` is the names FAIL, not an AttributeError from the student's own code."""
    make_args, _, wrongs = CASES["dora_forward"]
    misnamed = next(bad for bad in wrongs if bad.__name__ == "DoRAMagnitudeMisnamed")
    with pytest.raises(SelfCheckError) as err:
        check.dora_forward(misnamed, *make_args())
    assert str(err.value) == ("dora_forward: the layer (DoRAMagnitudeMisnamed) has no parameter 'magnitude'\n"
                              "Hint: keep the notebook's names: A, B (DoRA: magnitude) as nn.Parameters")


def test_suite_runs_checks_strictly():
    """conftest.py turns on strict mode: in the suite (and in the kernels nbval starts, which inherit the
    environment) a FAIL raises, so a broken solution notebook fails its test at the check."""
    import os

    assert os.environ.get(check._core.STRICT_ENV) == "1"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_failed_check_hands_back_the_reference_for_students(name, monkeypatch, capsys):
    """Outside strict mode (a student's Jupyter) a FAIL does not stop the notebook: it prints the FAIL line and a
    NOT-solved note to stderr and returns what the lesson should use next - the reference where the lesson uses
    the exercise again (it passes its own check), else the student's object."""
    make_args, solution, _ = CASES[name]
    student = unsolved(name, solution)
    monkeypatch.delenv(check._core.STRICT_ENV)
    run = getattr(check, name)
    got = run(student, *make_args())
    err = capsys.readouterr().err
    assert f"\nFAIL {name}: " in "\n" + err and "this exercise is NOT solved" in err
    if not run.has_reference:
        assert got is student
        return
    assert "using the reference" in err
    assert inspect.isclass(student) or got is not student   # a function is replaced; a class is patched in place
    monkeypatch.setenv(check._core.STRICT_ENV, "1")
    assert run(got, *make_args()) is got                  # the reference passes the same check
    assert f"\nPASS {name}" in "\n" + capsys.readouterr().out


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


# --- the answers module: generated from the notebooks' solution blocks (tools/answers.py) ------------------------

def _exercise_functions() -> set[str]:
    """The functions the notebooks' exercise cells define (the answers)."""
    import ast

    from tools import notebook

    return {node.name for path in notebook.lesson_paths() for cell in notebook.exercise_cells(notebook.read(path))
            for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)}


def test_the_answers_module_is_what_the_notebooks_generate():
    import subprocess
    import sys

    from tools.notebook import ROOT

    done = subprocess.run([sys.executable, "-m", "tools.answers", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr + "\nrun `python -m tools.answers` and commit the file"


def test_the_answers_check_fails_on_drift(tmp_path, monkeypatch, capsys):
    from tools import answers

    edited = tmp_path / "_reference.py"
    edited.write_text(answers.TARGET.read_text().replace("F.logsigmoid(margins)", "F.logsigmoid(-margins)", 1))
    monkeypatch.setattr(answers, "TARGET", edited)
    assert answers.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert answers.main([]) == 0 and answers.main(["--check"]) == 0     # regenerated: in sync again


@pytest.mark.parametrize("notebook_name, exercise, message", [
    ("05_orpo.ipynb", "05.2", r"orpo_loss uses mean_answer_logps, prompt_inclusive_nll"),
    ("04_dpo.ipynb", "04.3", r"beta_sweep uses train_from_scratch"),
    ("01_lora-from-scratch.ipynb", "01.4", r"inject_lora uses find_targets, replace_module"),
])
def test_an_answer_that_needs_an_undeclared_definition_is_refused(tmp_path, notebook_name, exercise, message):
    """Without its exercise cell's answer_needs, an answer that calls another notebook definition stops the
    generation (01.4's is used by the hand-written build_inject_lora: hand-written code is checked too)."""
    from tools import answers, notebook

    nb = notebook.read(notebook.NOTEBOOKS / notebook_name)
    for cell in notebook.exercise_cells(nb):
        if cell.metadata["course"]["exercise"] == exercise:
            del cell.metadata["course"]["answer_needs"]
    notebook.write(nb, tmp_path / notebook_name)
    paths = [tmp_path / notebook_name if p.name == notebook_name else p for p in notebook.lesson_paths()]
    with pytest.raises(answers.AnswerError, match=message + ".*answer_needs"):
        answers.render(paths)


def test_a_hand_written_answer_that_uses_an_undefined_name_is_refused(tmp_path, monkeypatch):
    from tools import answers

    template = tmp_path / "answers_by_hand.py"
    template.write_text(answers.TEMPLATE.read_text() + "\n\ndef build_sweep(fn):\n    return fn(SCRATCH_LR)\n")
    monkeypatch.setattr(answers, "TEMPLATE", template)
    with pytest.raises(answers.AnswerError, match="build_sweep uses SCRATCH_LR"):   # a notebook global
        answers.render()


def test_every_generated_answer_is_the_notebooks_own_code():
    """Each exercise function not marked hand-written sits in the answers module as its notebook writes it."""
    from tools import answers

    text = answers.TARGET.read_text()
    generated = text[text.index(answers.GENERATED):]
    assert "def dpo_loss(" in generated and "def split_dialogue(" not in generated    # 03.1 is hand-written
    assert "def log_odds(" in generated                                               # declared by 05.1 and 05.2
    assert "def beta_sweep(" in generated and "def inject_lora(" in generated        # with what they declare
    assert "### BEGIN SOLUTION" not in text and "__globals__" not in text             # nothing reads the notebook's


def test_the_answers_module_imports_no_kit_module_at_its_top():
    """The grader's worker runs the answers module's text before it imports the kit (grading/worker.py), in a kit
    copy without the file: an import of helpers at its top would be an import circle there."""
    import ast

    from tools.answers import TARGET

    tops = [node for node in ast.parse(TARGET.read_text()).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [getattr(node, "module", None) or node.names[0].name for node in tops]
    assert names and not [n for n, node in zip(names, tops) if getattr(node, "level", 0) or n.startswith("helpers")]


def test_a_fallback_carries_the_definitions_its_exercise_declares():
    """What the grader sends after a FAIL (the answer, alone with what it uses) runs without the notebook: 01.4's
    and 04.3's stand-ins bring the lesson's definitions they call, and no answer of a later exercise."""
    from grading import worker
    from tools.answers import TARGET

    source = TARGET.read_text()
    for func, present, absent in [
            ("build_inject_lora", {"inject_lora", "find_targets", "replace_module", "LoRALinear"}, {"DoRALinear"}),
            ("beta_sweep", {"train_from_scratch", "reference_adapter", "sequence_logps", "dpo_loss"},
             {"sigmoid_norm_loss"})]:
        scope = {"__name__": "fallback"}
        exec(worker.fallback_source(source, func), scope)
        assert callable(scope[func]) and present <= set(scope) and not absent & set(scope), func


def test_no_check_cases_file_keeps_its_own_copy_of_an_answer():
    """A solution in tests/check_cases_*.py is the notebook's (a one-line call of ``notebook()[name]``, or the
    notebook namespace's object); only the wrong answers and the oracles are written there."""
    import ast
    from pathlib import Path

    answers = _exercise_functions()
    copies = []
    for path in sorted(Path(__file__).parent.glob("check_cases_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name in answers:
                body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
                if not (len(body) == 1 and isinstance(body[0], ast.Return) and "notebook()[" in ast.unparse(body[0])):
                    copies.append(f"{path.name}: {node.name}")
    assert not copies, copies
    assert {"dpo_loss", "split_dialogue", "data_parallel_plan", "answer_token_ids"} <= answers
