"""Every self-check passes on a correct solution and fails on the unsolved stub.

Each check in helpers.check needs an entry in CASES: (arguments after the student's function, the stub, a
solution). test_every_check_has_a_case makes sure no check is added without one.
"""
import inspect

import pytest

import helpers
from helpers import check
from helpers.check import SelfCheckError


def stub(*args, **kwargs):
    raise NotImplementedError


def wrong(*args, **kwargs):
    return None


# --- 00_setup ---------------------------------------------------------------------------------------------
def answer_token_ids(tokenizer, question, answer):
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    prompt = tokenizer.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    return tokenizer(full, add_special_tokens=False)["input_ids"][len(tokenizer(prompt, add_special_tokens=False)["input_ids"]):]


def answer_without_eos(tokenizer, question, answer):
    return answer_token_ids(tokenizer, question, answer)[:-1]


def setup_args():
    return (helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick"),)


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "answer_token_ids": (setup_args, answer_token_ids, [wrong, answer_without_eos]),
}


def public_checks():
    return sorted(name for name, obj in vars(check).items()
                  if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__.startswith("helpers.check."))


def test_every_check_has_a_case():
    assert set(public_checks()) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_passes_the_solution(name, capsys):
    make_args, solution, _ = CASES[name]
    assert getattr(check, name)(solution, *make_args()) is True
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_fails_the_stub_and_wrong_answers(name, capsys):
    make_args, _, wrongs = CASES[name]
    for bad in [stub, *wrongs]:
        with pytest.raises(SelfCheckError) as err:
            getattr(check, name)(bad, *make_args())
        assert "Hint:" in str(err.value) or "not implemented" in str(err.value)
    assert "not implemented yet" in capsys.readouterr().out
