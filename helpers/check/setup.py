"""Self-checks for 00_setup."""
from __future__ import annotations

from . import _reference as _ref
from ._core import attempt, equal, passed, self_check

__all__ = ["answer_token_ids"]


@self_check()
def answer_token_ids(fn, tokenizer) -> None:
    """Check ``fn(tokenizer, question, answer) -> list[int]``: the ids of the assistant's turn only, EOS included,
    when the conversation [user: question, assistant: answer] goes through the chat template."""
    name = "answer_token_ids"
    cases = [("What is 2 + 2?", "4."), ("Name a primary colour.", "Red is one; blue and yellow are the others.")]
    for question, answer in cases:
        want = _ref.answer_token_ids(tokenizer, question, answer)
        got = attempt(name, fn, tokenizer, question, answer,
                      hint="compare two renderings of the conversation: what the model sees before it answers, "
                           "and the whole exchange - the answer is the difference")
        got = list(got) if got is not None else None
        equal(name, got, want, what=f"list of ids for {question!r}",
              hint="the template already adds the special tokens it needs (tokenizing must not add more); the "
                   "assistant's turn ends with the token that tells the model to stop")
    return passed(name, f"{len(cases)} conversations; each answer ends with EOS (id {tokenizer.eos_token_id})")
