"""Course data: the preference pairs (Anthropic/hh-rlhf in the full profile, the same columns and strings from
data/hh_pref/ in the quick one, so the code that uses them is identical) and the evaluation prompts."""
from __future__ import annotations

import re
from collections import Counter
from unittest import mock

from .env import REPO_ROOT, Profile, hub_offline
from .files import read_json, read_jsonl, restore_fix
from .dialogue import ASSISTANT, HUMAN, DataFormatError, split_dialogue  # noqa: F401  (a leaf module)

DATA_DIR = REPO_ROOT / "data"


def require_columns(dataset, columns, name: str = "dataset"):
    """Raise a clear error unless ``dataset`` has every column in ``columns``; returns the dataset."""
    have = list(dataset.column_names)
    missing = [c for c in columns if c not in have]
    if missing:
        raise DataFormatError(f"{name} is missing column(s) {missing}; it has {have}. The course expects "
                              f"{list(columns)} (the Anthropic/hh-rlhf layout). Rename with "
                              "dataset.rename_column(old, new) or map your data to these columns.")
    return dataset


def load_preferences(profile: str, split: str = "train", limit: int | None = None):
    """The first ``limit`` preference pairs of ``split`` ('train' or 'test', the real dataset's split names) as a
    ``datasets.Dataset`` with string columns ``chosen`` and ``rejected``."""
    import datasets

    profile = Profile(profile)
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: use 'train' or 'test'")
    if profile == "full":
        ds = _load_hub_dataset("Anthropic/hh-rlhf", split)
    else:
        path = DATA_DIR / "hh_pref" / f"{split}.jsonl"
        ds = datasets.Dataset.from_list(read_jsonl(path, restore_fix(path)))
    require_columns(ds, ["chosen", "rejected"], name=f"preference data ({split})")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    return ds


def _load_hub_dataset(hub_id: str, split: str):
    """``datasets.load_dataset`` with a fast, clear failure when there is no network: offline, only the local
    cache is tried (no minute of retries), and either way the error says what to do."""
    import datasets
    import huggingface_hub

    offline = hub_offline()
    try:
        if offline:
            with mock.patch.object(datasets.config, "HF_HUB_OFFLINE", True), \
                    mock.patch.object(huggingface_hub.constants, "HF_HUB_OFFLINE", True):
                return datasets.load_dataset(hub_id, split=split)
        return datasets.load_dataset(hub_id, split=split)
    except Exception as err:  # ConnectionError, FileNotFoundError, DatasetNotFoundError... one message for all
        lead = (f"No network ({offline}) and {hub_id} is not in this machine's datasets cache"
                if offline else f"Could not download {hub_id} from the Hugging Face Hub")
        raise ConnectionError(f"{lead}: {str(err).splitlines()[0][:200]}. Connect the runtime to the internet and "
                              "run the cell again, or use the offline quick profile (COURSE_PROFILE=quick) with the "
                              "course's own pairs in data/hh_pref/.") from None


def load_eval_prompts() -> dict:
    """{'plain': [str], 'rephrase_groups': [{'id', 'prompts': [str]}], 'harmful': [str]} from data/."""
    path = DATA_DIR / "eval_prompts.json"
    return read_json(path, restore_fix(path), keys=("plain", "rephrase_groups", "harmful"))


def parse_rows(rows, parse, what: str = "rows") -> tuple[list, list]:
    """``(kept, skipped)``: ``[(row_index, parse(row))]`` and ``[(row_index, reason)]`` for each row that raised (a
    DataFormatError's message, or the error's type and message), so a shrinking training set is reported, never silent.
    If *no* row parses (an empty dataset, wrong columns, a bug in ``parse``) one DataFormatError says so.  Taught in 03.
    """
    kept, skipped, first_error = [], [], None
    for index, row in enumerate(rows):
        try:
            kept.append((index, parse(row)))
        except DataFormatError as err:
            skipped.append((index, str(err)))
        except Exception as err:  # noqa: BLE001 - every per-row failure becomes a reported reason
            skipped.append((index, f"{type(err).__name__}: {err}"))
            first_error = first_error or err
    if not kept:
        if not skipped:
            raise DataFormatError(f"No {what} to use: the dataset is empty (0 rows). Check the file, split or "
                                  "limit you loaded; helpers.load_preferences(profile, 'train') has the course's pairs.")
        reasons = "; ".join(f"{n} x {reason}" for reason, n in Counter(r for _, r in skipped).most_common(3))
        raise DataFormatError(f"None of the {len(skipped):,} {what} could be used: {reasons}. Fix the data (or the "
                              "parse function) - the course expects HH-RLHF dialogues in 'chosen'/'rejected' "
                              "(\"\\n\\nHuman: ...\\n\\nAssistant: ...\").") from first_error
    return kept, skipped


def report_skipped(skipped, total: int, what: str = "rows", first: int = 5) -> None:
    """Print ``parse_rows``' skipped rows as one line per reason, with its count and the first ``first`` row numbers
    (a real dataset can have hundreds).  Taught in 01."""
    if not skipped:
        print(f"all {total:,} {what} parsed")
        return
    print(f"{len(skipped):,} of {total:,} {what} skipped:")
    for reason, n in Counter(reason for _, reason in skipped).most_common():
        rows = [row for row, why in skipped if why == reason]
        shown = ", ".join(str(r) for r in rows[:first]) + (", ..." if len(rows) > first else "")
        print(f"  {n:,} x {reason} (row{'s' if len(rows) > 1 else ''} {shown})")


def to_messages(prompt: str) -> list[dict]:
    """An HH-RLHF prompt ("\n\nHuman: a\n\nAssistant: b...") as chat messages ``[{'role': 'user', 'content': 'a'},
    ...]``; a trailing empty "\n\nAssistant:" (the generation prompt) is dropped.  Taught in 03_sft."""
    if not prompt.startswith(HUMAN):
        raise DataFormatError(f"a dialogue must start with {HUMAN!r}; got {prompt[:30]!r}")
    turns = re.split(f"({re.escape(HUMAN)}|{re.escape(ASSISTANT)})", prompt)[1:]   # marker, text, marker, text...
    messages = [{"role": "user" if marker == HUMAN else "assistant", "content": text.strip()}
                for marker, text in zip(turns[::2], turns[1::2])]
    return messages if messages[-1]["content"] else messages[:-1]


def to_preference_example(example: dict) -> dict:
    """HH pair -> conversational DPO/ORPO example ``{'prompt': [messages], 'chosen': [...], 'rejected': [...]}``; a
    DataFormatError naming the side for a missing column or a side that does not parse, or when the prompts differ
    or the answers are identical (nothing to prefer).  Taught in 04_dpo."""
    sides = {}
    for side in ("chosen", "rejected"):
        if side not in example:
            raise DataFormatError(f"no {side!r} column (the row has {sorted(example)}); the course expects "
                                  "'chosen' and 'rejected' (the Anthropic/hh-rlhf layout) - rename with "
                                  "dataset.rename_column(old, new)")
        try:
            sides[side] = split_dialogue(example[side])
        except DataFormatError as err:
            raise DataFormatError(f"{side}: {err}") from None
    (prompt, chosen), (prompt_r, rejected) = sides["chosen"], sides["rejected"]
    if prompt != prompt_r:
        raise DataFormatError("chosen and rejected have different prompts")
    if chosen == rejected:
        raise DataFormatError("chosen and rejected answers are identical: nothing to prefer")
    return {"prompt": to_messages(prompt),
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}]}
