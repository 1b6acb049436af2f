"""Course data: the preference set (HH-RLHF format) and the evaluation prompts.

Full profile: Anthropic/hh-rlhf from the Hub. Quick profile: the project's own set in data/hh_pref/ (same
columns, same "\n\nHuman: ... \n\nAssistant: ..." strings), so the code that uses them is identical.
"""
from __future__ import annotations

import json

from .env import REPO_ROOT, Profile
from .files import DamagedFileError, read_json
from .dialogue import ASSISTANT, HUMAN, DataFormatError, split_dialogue  # noqa: F401  (a leaf module)

DATA_DIR = REPO_ROOT / "data"
HH_HUB_ID = "Anthropic/hh-rlhf"


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
    """Preference pairs as a ``datasets.Dataset`` with string columns ``chosen`` and ``rejected``.

    split: 'train' or 'test' (the real dataset's split names). limit: keep the first ``limit`` rows.
    """
    import datasets

    profile = Profile(profile)
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: use 'train' or 'test'")
    if profile == "full":
        ds = _load_hub_dataset(HH_HUB_ID, split)
    else:
        ds = datasets.Dataset.from_list(read_jsonl(DATA_DIR / "hh_pref" / f"{split}.jsonl"))
    require_columns(ds, ["chosen", "rejected"], name=f"preference data ({split})")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    return ds


def _load_hub_dataset(hub_id: str, split: str):
    """``datasets.load_dataset`` with a fast, clear failure when there is no network: offline, only the local
    cache is tried (no minute of retries), and either way the error says what to do."""
    from unittest import mock

    import datasets
    import huggingface_hub

    from .env import hub_offline

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


def restore_fix(path) -> str:
    """The fix for a damaged file the kit ships in data/: restore it from git, or regenerate it."""
    name = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
    script = "scripts/maintainers/build_tokenizer.py" if path.name == "tokenizer.json" else "scripts/maintainers/make_data.py"
    return (f"It ships with the course kit: restore it with `git checkout -- {name}` (or download the kit again), "
            f"or rebuild it with `python {script}`.")


def read_jsonl(path) -> list[dict]:
    """One JSON object per line (blank lines skipped); a one-line ``DamagedFileError`` naming the file and the
    first bad line if the file is empty, cut off, not UTF-8 text, or holds anything but JSON objects."""
    from pathlib import Path

    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DamagedFileError(path, f"not text: byte {err.start:,} of {len(raw):,} is not UTF-8 (the file holds "
                                     "other bytes than JSON lines)", restore_fix(path)) from None
    rows = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            last = number == len(lines) and not text.endswith("\n")
            raise DamagedFileError(path, f"line {number:,} is not valid JSON ({err.msg}: character {err.pos:,})"
                                         + (" - the file is cut off in the middle of it, as a copy that stopped "
                                            "early leaves it" if last else ""), restore_fix(path)) from None
        if not isinstance(row, dict):
            raise DamagedFileError(path, f"line {number:,} is a JSON {type(row).__name__}, not the object "
                                         "(one pair per line) expected", restore_fix(path))
        rows.append(row)
    if not rows:
        raise DamagedFileError(path, f"empty ({len(raw):,} bytes, no JSON lines), as a copy that stopped early "
                                     "leaves it", restore_fix(path))
    return rows


def load_eval_prompts() -> dict:
    """{'plain': [str], 'rephrase_groups': [{'id', 'prompts': [str]}], 'harmful': [str]} from data/."""
    path = DATA_DIR / "eval_prompts.json"
    return read_json(path, restore_fix(path), keys=("plain", "rephrase_groups", "harmful"))


def parse_rows(rows, parse, what: str = "rows") -> tuple[list, list]:
    """Apply ``parse`` to every row: ``(kept, skipped)`` with ``kept = [(row_index, parse(row)), ...]`` and
    ``skipped = [(row_index, reason), ...]`` for each row that raised.  Taught in 03_sft.

    Real data has broken rows; a training set that silently shrinks is a bug you never find, so every caller
    gets the reasons back to report them (01, 03 and 04 print them). A ``DataFormatError`` gives its message
    as the reason; any other error (a None where text should be, a missing key) is a reason too, named by its
    type. If *no* row parses - an empty dataset, the wrong columns, or a bug in ``parse`` that hits every row -
    this raises one DataFormatError that says so, with the most common reasons, instead of returning nothing.
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
        from collections import Counter

        reasons = "; ".join(f"{n} x {reason}" for reason, n in Counter(r for _, r in skipped).most_common(3))
        raise DataFormatError(f"None of the {len(skipped):,} {what} could be used: {reasons}. Fix the data (or the "
                              "parse function) - the course expects HH-RLHF dialogues in 'chosen'/'rejected' "
                              "(\"\\n\\nHuman: ...\\n\\nAssistant: ...\").") from first_error
    return kept, skipped


def report_skipped(skipped, total: int, what: str = "rows", first: int = 5) -> None:
    """Print ``parse_rows``' skipped rows grouped by reason: one line per reason with its count and the first
    ``first`` row numbers - never one line per row (a real dataset can have hundreds).  Taught in 01.

        3 of 160 rows skipped:
          2 x no "\n\nAssistant:" turn (rows 17, 52)
    """
    from collections import Counter

    if not skipped:
        print(f"all {total:,} {what} parsed")
        return
    print(f"{len(skipped):,} of {total:,} {what} skipped:")
    for reason, n in Counter(reason for _, reason in skipped).most_common():
        rows = [row for row, why in skipped if why == reason]
        shown = ", ".join(str(r) for r in rows[:first]) + (", ..." if len(rows) > first else "")
        print(f"  {n:,} x {reason} (row{'s' if len(rows) > 1 else ''} {shown})")


def _split_dialogue(text: str) -> tuple[str, str]:
    """Split an HH-RLHF dialogue into (prompt, response) for the kit's data loaders; DataFormatError if it does not
    parse (callers count those rows).  Notebook 03's Exercise 1 - helpers.dialogue.split_dialogue."""
    return split_dialogue(text)


def to_messages(prompt: str) -> list[dict]:
    """"\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:" -> chat messages.  Taught in 03_sft.

    [{'role': 'user', 'content': 'a'}, {'role': 'assistant', 'content': 'b'}, {'role': 'user', 'content': 'c'}]
    A trailing empty "\n\nAssistant:" (the generation prompt) is dropped.
    """
    messages, rest = [], prompt
    if not rest.startswith(HUMAN):
        raise DataFormatError(f"a dialogue must start with {HUMAN!r}; got {rest[:30]!r}")
    while rest:
        role = "user" if rest.startswith(HUMAN) else "assistant" if rest.startswith(ASSISTANT) else None
        if role is None:
            raise DataFormatError(f"expected a Human or Assistant turn at {rest[:30]!r}")
        rest = rest[len(HUMAN if role == "user" else ASSISTANT):]
        ends = [i for i in (rest.find(HUMAN), rest.find(ASSISTANT)) if i >= 0]
        end = min(ends) if ends else len(rest)
        content, rest = rest[:end].strip(), rest[end:]
        if content or rest:
            messages.append({"role": role, "content": content})
    return messages


def to_preference_example(example: dict) -> dict:
    """HH pair -> conversational DPO/ORPO example.  Taught in 04_dpo.

    {'prompt': [messages], 'chosen': [{'role': 'assistant', ...}], 'rejected': [{'role': 'assistant', ...}]}
    Raises DataFormatError, naming the side ("chosen: ..." / "rejected: ..."), if a column is missing or a side
    does not parse; also if the two prompts differ or the two answers are identical (nothing to prefer).
    """
    sides = {}
    for side in ("chosen", "rejected"):
        if side not in example:
            raise DataFormatError(f"no {side!r} column (the row has {sorted(example)}); the course expects "
                                  "'chosen' and 'rejected' (the Anthropic/hh-rlhf layout) - rename with "
                                  "dataset.rename_column(old, new)")
        try:
            sides[side] = _split_dialogue(example[side])
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
