"""The toy preference batch that 04's and 05's checks share: two pairs, the chosen rows first, prompts of 3 and 2
tokens, answers ending with EOS, which is also the pad token (6, as with SmolLM2 and Pythia); right padding."""
from __future__ import annotations

import torch

TOY_ROWS = [  # (input_ids, attention_mask, completion_mask)
    ([1, 2, 3, 2, 2, 5, 6], [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]),
    ([4, 5, 1, 6, 6, 6, 6], [1, 1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0]),
    ([1, 2, 3, 3, 6, 6, 6], [1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0, 0]),
    ([4, 5, 5, 4, 3, 2, 6], [1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]),
]


def toy_batch() -> dict:
    """``TOY_ROWS`` as a collated batch: input_ids, attention_mask and completion_mask, each (4, 7)."""
    ids, attention, completion = (torch.tensor(column) for column in zip(*TOY_ROWS))
    return {"input_ids": ids, "attention_mask": attention, "completion_mask": completion}
