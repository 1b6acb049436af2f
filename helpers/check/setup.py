"""Self-checks for 00_setup."""
from __future__ import annotations

from ._core import attempt, equal, passed

__all__ = ["answer_token_ids"]


def answer_token_ids(fn, tokenizer) -> None:
    """Check ``fn(tokenizer, question, answer) -> list[int]``: the token ids of the assistant's turn only,
    EOS included, when the conversation [user: question, assistant: answer] goes through the chat template."""
    name = "answer_token_ids"
    cases = [("What is 2 + 2?", "4."), ("Name a primary colour.", "Red is one; blue and yellow are the others.")]
    for question, answer in cases:
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        prompt = tokenizer.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
        full_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        want = full_ids[n_prompt:]
        got = attempt(name, fn, tokenizer, question, answer,
                      hint="render the prompt with add_generation_prompt=True and the full conversation without; "
                           "the answer's ids are what the full one has after the prompt's ids")
        got = list(got) if got is not None else None
        equal(name, got, want, what=f"list of ids for {question!r}",
              hint="tokenize with add_special_tokens=False; the last id should be tokenizer.eos_token_id")
    return passed(name, f"{len(cases)} conversations; each answer ends with EOS (id {tokenizer.eos_token_id})")
