"""The HH-RLHF dialogue format (``HUMAN``/``ASSISTANT`` turns, ``split_dialogue``): a leaf that helpers.data and 03's
self-check both import, so neither imports the other. Taught in 03_sft (Exercise 1 writes ``split_dialogue``)."""
from __future__ import annotations

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"


class DataFormatError(ValueError):
    """A dataset without the columns or layout the course expects."""


def split_dialogue(text):
    """(prompt, response), cut after the last assistant marker; DataFormatError (a ValueError) when the dialogue is
    not text, has no assistant turn, ends with a Human turn or has an empty final response."""
    if not isinstance(text, str):
        raise DataFormatError(f"not text but {type(text).__name__} ({str(text)[:30]!r})")
    head, found, tail = text.rpartition(ASSISTANT)
    if not found:
        raise DataFormatError("no '\\n\\nAssistant:' turn in the dialogue")
    if HUMAN in found + tail:
        raise DataFormatError("the dialogue ends with a Human turn, not an assistant response")
    if not tail.strip():
        raise DataFormatError("the final assistant response is empty")
    return head + found, tail.strip()
