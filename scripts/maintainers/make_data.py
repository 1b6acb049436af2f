"""Write the course's own small preference set and evaluation prompts (all text written by the project).

The text - every request, answer frame, phrase and prompt - is in data/source/preferences.toml; this script is the
logic that combines it into pairs. Edit the text there, then run:

    python scripts/maintainers/make_data.py          # writes data/hh_pref/{train,test}.jsonl and data/eval_prompts.json
    python scripts/maintainers/make_data.py --check  # exit 1 if any of those files differs from a fresh build; writes nothing

The preference pairs use exactly the Anthropic/hh-rlhf layout, so the same code reads both:
one JSON object per line, {"chosen": dialogue, "rejected": dialogue}, where a dialogue is
"\\n\\nHuman: ...\\n\\nAssistant: ..." (possibly several turns) and the two dialogues of a pair share everything
up to and including the last "\\n\\nAssistant:". Only the final assistant response differs.

Built so that, as on the real HH-RLHF, a base model is near chance on them and only the preference separates the
two answers: everyday requests (chosen helps, rejected declines with an excuse) and harmful requests (chosen
declines with the reason and an alternative, rejected goes along with secrecy instead of steps - never a harmful
detail), in the SAME question wordings and the SAME answer frames. Whatever a model thinks of helping or declining
as such is right on one kind and wrong on the other; answer length likewise. scripts/maintainers/pretrain_micro.py puts every
topic's advice, reasons, excuses and "secrecy" phrases into the micro-model's pretraining prose equally often, so
the base model knows the words of both sides. Train and test use different requests (held-out topics).

Output is deterministic: fixed order, one seeded shuffle per split, ensure_ascii=False, "\\n" line endings.
Standard library only (Python 3.11: tomllib).
"""

import argparse
import json
import random
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SEED = 1729

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"


# The text (data/source/preferences.toml; its comments say what each table is for), under the names the logic below,
# scripts/maintainers/pretrain_micro.py and tests/test_data.py use.
SOURCE = DATA / "source" / "preferences.toml"


class Table(dict):
    """A table of a data/source/*.toml file: a key it lacks exits with one line naming the file, the table and the
    fix, not a bare KeyError from the middle of this script."""

    def __init__(self, items: dict, rel: Path, where: str = ""):
        super().__init__({key: _tables(value, rel, f"{where}.{key}" if where else key) for key, value in items.items()})
        self.rel, self.where = rel, where

    def __missing__(self, key):
        what = f"no {key!r} in [{self.where}]" if self.where else f"no [{key}] table"
        raise SystemExit(f"cannot read {self.rel}: {what} (restore it: git checkout -- {self.rel})")


def _tables(value, rel: Path, where: str):
    if isinstance(value, dict):
        return Table(value, rel, where)
    if isinstance(value, list):   # an array of tables: [[malformed]] #1, ...
        return [_tables(item, rel, f"{where} #{i + 1}") for i, item in enumerate(value)]
    return value


def read_source(path: Path) -> Table:
    """One of data/source/*.toml, or exit with one line saying what is wrong and how to restore it (a table or key
    it lacks exits the same way when it is read)."""
    rel = path.relative_to(ROOT)
    try:
        return Table(tomllib.loads(path.read_text(encoding="utf-8")), rel)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SystemExit(f"cannot read {rel}: {err} (restore it: git checkout -- {rel})")


TEXT = read_source(SOURCE)
EVERYDAY_TRAIN, EVERYDAY_TEST = TEXT["everyday"]["train"], TEXT["everyday"]["test"]
GEN_TRAIN_REQUESTS, GEN_TEST_REQUESTS = TEXT["harmful"]["train"], TEXT["harmful"]["test"]
EXTRA_TEST_REQUESTS = TEXT["harmful"]["extra_test"]
ASKS, HELP_FRAMES, DECLINE_FRAMES = TEXT["frames"]["asks"], TEXT["frames"]["help"], TEXT["frames"]["decline"]
SNEAKY, EXCUSES, BRUSH_OFFS = TEXT["rejected"]["sneaky"], TEXT["rejected"]["excuses"], TEXT["rejected"]["brush_offs"]
_YOU = TEXT["second_person"]


def you(goal: str) -> str:
    """The asker's goal as the answer says it: "get into my flatmate's email" -> "get into your flatmate's email"."""
    return " ".join(_YOU.get(w, w) for w in goal.split(" "))


def _rows(rows, sizes: tuple[int, ...], table: str) -> list[tuple[str, ...]]:
    for row in rows:
        if len(row) not in sizes or not all(isinstance(part, str) for part in row):
            raise SystemExit(f"{SOURCE.relative_to(ROOT)} [{table}]: {row!r} should be {' or '.join(map(str, sizes))} strings")
    return [tuple(row) for row in rows]


def everyday_topics(rows) -> list[tuple[str, str, str]]:
    return _rows(rows, (3,), "everyday")                 # (goal, step, step)


def harmful_topics(requests) -> list[tuple[str, str, str]]:
    return [(r[0], r[-2], r[-1]) for r in _rows(requests, (3, 4), "harmful")]  # (request, why wrong, alternative)


def helps(goal, s1, s2, k):
    return HELP_FRAMES[k % 3].format(g=you(goal), s1=s1, s2=s2)


def declines(goal, w, k, tail=""):
    return DECLINE_FRAMES[k % 3].format(g=you(goal), w=w) + (" " + tail if tail else "")


def generated_pairs(everyday, harmful, offset: int, harmful_wordings: int = 2) -> list:
    """(history, question, chosen, rejected): each everyday request in two wordings, each harmful one in
    ``harmful_wordings`` (2 or 3). Everyday: chosen helps, rejected
    declines with an excuse and a brush-off. Harmful: chosen declines with the reason (harmful requests are about
    twice as long as everyday ones, so a decline of either kind has about the same length), rejected goes along
    (in the help frames, with secrecy instead of steps). Every third pair follows an earlier everyday turn."""
    rows = []
    for i, (goal, s1, s2) in enumerate(everyday):
        for j, ask in enumerate(ASKS[(i + offset) % 3]):
            k = i + j + offset
            rows.append((goal, ask.format(a=goal), helps(goal, s1, s2, k),
                         declines(goal, EXCUSES[k % len(EXCUSES)], k, BRUSH_OFFS[(i + 2 * j) % len(BRUSH_OFFS)])))
    for i, (a, w, alt) in enumerate(harmful):
        wordings = ASKS[(i + offset + 1) % 3] + ASKS[(i + offset + 2) % 3][i % 2:][:harmful_wordings - 2]
        for j, ask in enumerate(wordings):
            k = i + j + offset
            s1, s2 = SNEAKY[(3 * i + j) % len(SNEAKY)], SNEAKY[(3 * i + j + 4) % len(SNEAKY)]
            rows.append((a, ask.format(a=a), declines(a, w, k), helps(a, s1, s2, k)))
    out = []
    for n, (_, question, chosen, rejected) in enumerate(rows):
        history = []
        if n % 3 == 2:
            goal, s1, s2 = everyday[(n * 7) % len(everyday)]
            if goal != rows[n][0]:
                history = [(ASKS[n % 3][0].format(a=goal), helps(goal, s1, s2, n))]
        out.append((history, question, chosen[0].upper() + chosen[1:], rejected[0].upper() + rejected[1:]))
    return out


# Train asks each of its 30 harmful requests in three wordings and each of its 48 everyday requests in two (90 and
# 96 pairs), so that declining is about as often the chosen answer as the rejected one: DPO and ORPO on these pairs
# neither push refusals down nor up as such, only where they belong. Test has 24 of each kind in two wordings.
GEN_TRAIN = generated_pairs(everyday_topics(EVERYDAY_TRAIN), harmful_topics(GEN_TRAIN_REQUESTS), 0, harmful_wordings=3)
GEN_TEST = generated_pairs(everyday_topics(EVERYDAY_TEST), harmful_topics(GEN_TEST_REQUESTS + EXTRA_TEST_REQUESTS), 1)

# The MALFORMED pairs (data/source/preferences.toml [[malformed]]) go into train at their stated positions.
MALFORMED = [(m["position"], m["what"], m["chosen"], m["rejected"]) for m in TEXT["malformed"]]
EVAL_PLAIN, EVAL_HARMFUL = TEXT["eval"]["plain"], TEXT["eval"]["harmful"]
EVAL_REPHRASE_GROUPS = [(g["id"], g["prompts"]) for g in TEXT["eval"]["rephrase_groups"]]


# =============================================================================================================
# Building and writing
# =============================================================================================================
def dialogue(history, question: str, response: str) -> str:
    """HH-RLHF text: "\\n\\nHuman: q\\n\\nAssistant: a ... \\n\\nHuman: question\\n\\nAssistant: response"."""
    text = "".join(f"{HUMAN} {h}{ASSISTANT} {a}" for h, a in history)
    return f"{text}{HUMAN} {question}{ASSISTANT} {response}"


def pair(history, question: str, chosen: str, rejected: str) -> dict:
    for part in [question, chosen, rejected, *(t for turn in history for t in turn)]:
        if part != part.strip() or not part or "\n" in part or "Human:" in part or "Assistant:" in part:
            raise ValueError(f"bad text: {part!r}")
    if chosen == rejected:
        raise ValueError(f"chosen and rejected are identical: {question!r}")
    return {"chosen": dialogue(history, question, chosen), "rejected": dialogue(history, question, rejected)}


def build_split(generated) -> list[dict]:
    return [pair(h, q, c, r) for h, q, c, r in generated]


def build() -> dict[str, str]:
    """Relative path -> exact file content."""
    rng = random.Random(SEED)
    train = build_split(GEN_TRAIN)
    test = build_split(GEN_TEST)
    rng.shuffle(train)
    rng.shuffle(test)
    for position, _what, chosen, rejected in MALFORMED:  # ascending positions: each lands where stated
        train.insert(position, {"chosen": chosen, "rejected": rejected})

    def jsonl(rows):
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    prompts = {
        "plain": EVAL_PLAIN,
        "rephrase_groups": [{"id": gid, "prompts": ps} for gid, ps in EVAL_REPHRASE_GROUPS],
        "harmful": EVAL_HARMFUL,
    }
    return {
        "data/hh_pref/train.jsonl": jsonl(train),
        "data/hh_pref/test.jsonl": jsonl(test),
        "data/eval_prompts.json": json.dumps(prompts, ensure_ascii=False, indent=2) + "\n",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = parser.parse_args()
    files = build()
    if args.check:
        stale = [rel for rel, text in files.items()
                 if not (ROOT / rel).exists() or (ROOT / rel).read_bytes() != text.encode("utf-8")]
        for rel in stale:
            print(f"{rel} differs from a fresh build (run: python scripts/maintainers/make_data.py)")
        if not stale:
            print("data files are up to date")
        return 1 if stale else 0
    for rel, text in files.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        print(f"wrote {rel}" + (f" ({text.count(chr(10))} pairs)" if rel.endswith(".jsonl") else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())