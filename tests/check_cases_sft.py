"""Self-check cases for 03_sft (see tests/test_checks.py): the solutions, and plausible wrong answers."""
from functools import lru_cache

import helpers
import nbcode as _nbcode  # tests/nbcode.py: the notebook's own definitions (tests/ is on sys.path under pytest)


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions("03_sft.ipynb", "split_dialogue", "masked_labels", "real_token_share")


from tests.conftest import MODEL_ID  # noqa: E402

MARK = "\n\nAssistant:"


def wrong(*args, **kwargs):
    return None


# --- split_dialogue -----------------------------------------------------------------------------------------
def split_dialogue(text):
    return notebook()["split_dialogue"](text)


def split_at_first(text):  # the classic slip: find instead of rfind
    cut = text.find(MARK)
    if cut < 0:
        raise ValueError("no assistant turn")
    return text[: cut + len(MARK)], text[cut + len(MARK):].strip()


def split_keeps_space(text):  # response with its leading space
    prompt, response = split_dialogue(text)
    return prompt, text[len(prompt):]


def split_without_marker(text):  # prompt without "\n\nAssistant:"
    prompt, response = split_dialogue(text)
    return prompt[: -len(MARK)], response


def split_never_raises(text):
    cut = text.rfind(MARK)
    return text[: cut + len(MARK)], text[cut + len(MARK):].strip()


# --- masked_labels --------------------------------------------------------------------------------------------
def masked_labels(tokenizer, example):
    return notebook()["masked_labels"](tokenizer, example)


def labels_off_by_one(tokenizer, example):  # masks the first response token too
    ids, labels = masked_labels(tokenizer, example)
    n = labels.count(-100)
    return ids, [-100] * (n + 1) + ids[n + 1:]


def labels_train_marker(tokenizer, example):  # trains the last prompt token (the ':' of "Assistant:")
    ids, labels = masked_labels(tokenizer, example)
    n = labels.count(-100)
    return ids, [-100] * (n - 1) + ids[n - 1:]


def labels_unmasked(tokenizer, example):
    ids, _ = masked_labels(tokenizer, example)
    return ids, list(ids)


def labels_shifted(tokenizer, example):  # shifting by hand: the model shifts again
    ids, labels = masked_labels(tokenizer, example)
    return ids, labels[1:] + [-100]


def labels_without_eos(tokenizer, example):  # the response without its EOS
    ids, labels = masked_labels(tokenizer, example)
    return ids[:-1], labels[:-1]


def labels_args():
    return (helpers.load_tokenizer(MODEL_ID, "quick"),)


# --- real_token_share -----------------------------------------------------------------------------------------
def real_token_share(lengths, batch_size, pad_to=None):
    return notebook()["real_token_share"](lengths, batch_size, pad_to)


def share_mean_of_batches(lengths, batch_size, pad_to=None):  # averages per-batch shares
    batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
    return sum(sum(b) / (len(b) * (pad_to or max(b))) for b in batches) / len(batches)


def share_global_max(lengths, batch_size, pad_to=None):  # pads every batch to the longest overall
    return sum(lengths) / (len(lengths) * (pad_to or max(lengths)))


def share_ignores_pad_to(lengths, batch_size, pad_to=None):
    return real_token_share(lengths, batch_size)


def share_full_last_batch(lengths, batch_size, pad_to=None):  # pretends the last batch is full
    batches = [lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)]
    return sum(lengths) / sum(batch_size * (pad_to or max(b)) for b in batches)


def share_sorted(lengths, batch_size, pad_to=None):  # sorts: ignores the order the sampler gave
    return real_token_share(sorted(lengths), batch_size, pad_to)


def no_args():
    return ()


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "split_dialogue": (no_args, split_dialogue,
                       [wrong, split_at_first, split_keeps_space, split_without_marker, split_never_raises]),
    "masked_labels": (labels_args, masked_labels,
                      [wrong, labels_off_by_one, labels_train_marker, labels_unmasked, labels_shifted,
                       labels_without_eos]),
    "real_token_share": (no_args, real_token_share,
                         [wrong, share_mean_of_batches, share_global_max, share_ignores_pad_to,
                          share_full_last_batch, share_sorted]),
}
