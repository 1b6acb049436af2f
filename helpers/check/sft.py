"""Self-checks for 03_sft: split a dialogue, build the masked labels, the real-token share of batches."""
from __future__ import annotations

from . import _reference as _ref
from ._core import attempt, close, equal, failed, passed, refuses, returns, self_check

__all__ = ["split_dialogue", "masked_labels", "real_token_share"]

_SPLIT_CASES = [  # (prompt, the rest): the dialogue is prompt + rest, its response the rest without the spaces
    ("\n\nHuman: What is 2 + 2?\n\nAssistant:", " 4."),
    ("\n\nHuman: Hi!\n\nAssistant: Hello. How can I help?\n\nHuman: Name a colour.\n\nAssistant:", " Blue."),
    ("\n\nHuman: Say 'Assistant: hi'.\n\nAssistant:", "  Assistant: hi"),
]
_MALFORMED = ["\n\nHuman: the answer ran into the question. Paris.", "\n\nHuman: Hello?\n\nAssistant:"]


@self_check(reference=_ref.split_dialogue)
def split_dialogue(fn) -> None:
    """``fn(text) -> (prompt, response)``, split after the LAST "\\n\\nAssistant:"; a dialogue without an assistant
    turn or with an empty final response raises ValueError (e.g. helpers.DataFormatError)."""
    name = "split_dialogue"
    hint = ("a dialogue can have several assistant turns: which one starts the response? The prompt ends with "
            "the marker the model sees before answering; the response has no surrounding spaces")
    for prompt, rest in _SPLIT_CASES:
        got = attempt(name, fn, prompt + rest, hint=hint)
        got = tuple(got) if isinstance(got, (tuple, list)) else got
        equal(name, got, (prompt, rest.strip()), what=f"(prompt, response) for {prompt + rest!r}", hint=hint)
    for text in _MALFORMED:
        refuses(name, fn, (text,), what=repr(text), error="raise helpers.DataFormatError (a ValueError) for a "
                "dialogue that does not parse", hint="a dialogue with nothing to learn from must be refused, not "
                "returned (see the exercise text)")
    return passed(name, f"{len(_SPLIT_CASES)} dialogues split at the last assistant turn, "
                        f"{len(_MALFORMED)} malformed ones rejected")


_LABEL_EXAMPLES = [
    {"prompt": [{"role": "user", "content": "What is 2 + 2?"}],
     "completion": [{"role": "assistant", "content": "4."}]},
    {"prompt": [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello. How can I help?"},
                {"role": "user", "content": "Name a primary colour."}],
     "completion": [{"role": "assistant", "content": "Red is one; blue and yellow are the others."}]},
]


@self_check(reference=_ref.masked_labels)
def masked_labels(fn, tokenizer) -> None:
    """``fn(tokenizer, example) -> (input_ids, labels)`` of a chat-templated prompt/completion conversation: labels
    -100 on the prompt, the input ids on the response (EOS included), not shifted (the model shifts them)."""
    name = "masked_labels"
    hint = ("notebook 00's exercise found the assistant's tokens by comparing two renderings of a conversation; "
            "here the labels copy the input ids and hide (-100) everything the model only reads")
    for example in _LABEL_EXAMPLES:
        want_ids, want_labels = _ref.masked_labels(tokenizer, example)
        got = returns(name, attempt(name, fn, tokenizer, example, hint=hint), "input_ids, labels", hint)
        ids, labels = (list(map(int, x)) for x in got)
        equal(name, ids, want_ids, what="input_ids", hint="the input is the whole conversation, chat-templated")
        if len(labels) != len(want_labels):
            failed(name, f"labels has {len(labels)} entries for {len(ids)} input ids", "one label per input id")
        n_prompt = want_labels.count(-100)
        if labels[:n_prompt] != want_labels[:n_prompt]:
            failed(name, f"{sum(x != -100 for x in labels[:n_prompt])} prompt token(s) are trained",
                   "every token up to and including the generation prompt gets -100")
        if labels[-1] != tokenizer.eos_token_id:
            failed(name, f"the last label is {labels[-1]}, not EOS ({tokenizer.eos_token_id})",
                   "the EOS that ends the response must be trained, or the model never learns to stop")
        equal(name, labels, want_labels, what="labels", hint=hint + ". Do not shift labels: the model does it.")
    return passed(name, f"{len(_LABEL_EXAMPLES)} conversations: prompt tokens -100, every response token and EOS "
                        "trained")


_SHARE_CASES = [([3, 5, 2, 8], 2, None), ([3, 5, 2, 8], 2, 10), ([4, 4, 1], 2, None), ([7, 1, 1, 1, 2, 6], 3, None),
                ([10, 10, 10], 2, 12)]  # (lengths, batch_size, pad_to)


@self_check(reference=_ref.real_token_share)
def real_token_share(fn) -> None:
    """``fn(lengths, batch_size, pad_to=None) -> float``: real tokens / padded positions of consecutive batches."""
    hint = ("count what the GPU computes: every row of a batch is as long as its padded length (the batch's "
            "longest row, or pad_to); the share is real tokens over all computed positions")
    compare_shares(fn, _SHARE_CASES, hint)
    return passed("real_token_share", f"{len(_SHARE_CASES)} cases, with and without pad_to, including a smaller "
                                      "last batch")


def compare_shares(fn, cases, hint: str, label: str = "share") -> None:
    """``fn`` against the reference on each ``(lengths, batch_size, pad_to)`` case (also the grader's hidden check)."""
    for lengths, batch_size, pad_to in cases:
        got = attempt("real_token_share", fn, list(lengths), batch_size, pad_to, hint=hint)
        close("real_token_share", got, _ref.real_token_share(lengths, batch_size, pad_to), atol=1e-9,
              what=f"{label} for lengths={lengths}, batch_size={batch_size}, pad_to={pad_to}", hint=hint)
