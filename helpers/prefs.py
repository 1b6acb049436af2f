"""Preference pairs as tokens, as TRL makes them: parse HH-RLHF rows, tokenize a pair, batch pairs (B chosen rows
on top of B rejected ones, right-padded, (2B, T)).  Taught in 04_dpo; 05_orpo scores the same pairs. The losses
stay in the notebooks that teach them.
"""
from __future__ import annotations

__all__ = ["to_pairs", "common_prefix", "tokenize_pair", "collate_pairs", "fits", "select_pairs", "trainable_state",
           "load_trainable_state"]


def to_pairs(rows):
    """HH-RLHF rows -> (conversational pairs as a Dataset, [(row, reason)] for the rows that do not parse).
    Each pair keeps its row number in a 'row' column, so we can find it again after TRL filters the data."""
    import datasets

    from .data import parse_rows, to_preference_example

    kept, skipped = parse_rows(rows, to_preference_example)
    return datasets.Dataset.from_list([{"row": i, **pair} for i, pair in kept]), skipped


def common_prefix(a, b):
    """Number of leading tokens two id lists share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def tokenize_pair(tokenizer, pair):
    """A conversational pair -> {'prompt_ids', 'chosen_ids', 'rejected_ids'} (lists of token ids).

    As TRL's DPOTrainer does it: the prompt alone through the chat template *with* the generation prompt, prompt
    + answer *without* it; each answer is what the longer list has after the tokens both share."""
    render = lambda messages, **kw: tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, **kw)["input_ids"]
    prompt = render(pair["prompt"], add_generation_prompt=True)  # ends with "\n\nAssistant:"
    chosen = render(pair["prompt"] + pair["chosen"])             # ... "\n\nAssistant: <answer><eos>"
    rejected = render(pair["prompt"] + pair["rejected"])
    n = min(common_prefix(prompt, chosen), common_prefix(prompt, rejected))
    return {"prompt_ids": prompt[:n], "chosen_ids": chosen[n:], "rejected_ids": rejected[n:]}


def collate_pairs(examples, pad_id, max_length=None):
    """Tokenized pairs -> {'input_ids', 'attention_mask', 'completion_mask'}, each (2B, T): B chosen rows, then B
    rejected rows, right-padded. Sequences longer than max_length lose their end (TRL's keep_start)."""
    import torch

    if not examples:
        raise ValueError("collate_pairs needs at least one tokenized pair")
    rows, answer = [], []
    for side in ("chosen_ids", "rejected_ids"):
        for ex in examples:
            rows.append((ex["prompt_ids"] + ex[side])[:max_length])
            answer.append(([0] * len(ex["prompt_ids"]) + [1] * len(ex[side]))[:max_length])
    width = max(map(len, rows))
    pad = lambda seqs, value: torch.tensor([s + [value] * (width - len(s)) for s in seqs])
    return {"input_ids": pad(rows, pad_id), "attention_mask": pad([[1] * len(r) for r in rows], 0),
            "completion_mask": pad(answer, 0)}


def fits(ids, max_length):
    """True if both sequences of a tokenized pair fit in max_length tokens (nothing is cut)."""
    return len(ids["prompt_ids"]) + max(len(ids["chosen_ids"]), len(ids["rejected_ids"])) <= max_length


def select_pairs(batch, pairs):
    """The given pairs of a collated batch, chosen rows then rejected rows: a valid batch again."""
    half = batch["input_ids"].shape[0] // 2
    rows = list(pairs) + [half + i for i in pairs]
    return {k: v[rows] for k, v in batch.items()}


def trainable_state(model):
    """A copy of the trainable weights, to put back with ``load_trainable_state`` (several runs from one start)."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state):
    """Put weights saved by ``trainable_state`` back (in place)."""
    import torch

    with torch.no_grad():
        for n, p in model.named_parameters():
            if n in state:
                p.copy_(state[n])
