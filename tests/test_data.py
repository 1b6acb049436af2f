"""The course data in data/ and the loaders that read it the way the real HH-RLHF is read."""
import json

import datasets
import pytest

import helpers
from helpers.data import DATA_DIR, DataFormatError
from helpers.dialogue import split_dialogue


@pytest.fixture(scope="module")
def train():
    return helpers.load_preferences("quick", "train")


@pytest.fixture(scope="module")
def test_split():
    return helpers.load_preferences("quick", "test")


def test_sizes_and_columns(train, test_split):
    assert len(train) + len(test_split) >= 150 and len(test_split) >= 30
    assert train.column_names == test_split.column_names == ["chosen", "rejected"]


def parse_all(ds):
    ok, bad = [], []
    for row in ds:
        try:
            ok.append(helpers.to_preference_example(row))
        except DataFormatError as err:
            bad.append(str(err))
    return ok, bad


def test_pairs_parse_except_the_documented_malformed_ones(train, test_split):
    ok, bad = parse_all(train)
    assert len(bad) == 3 and len(ok) == len(train) - 3  # data/README.md documents the 3 malformed pairs
    assert sorted(bad) == sorted(["chosen: no '\\n\\nAssistant:' turn in the dialogue",  # the side is named
                                  "chosen: the final assistant response is empty",
                                  "chosen and rejected have different prompts"])
    assert parse_all(test_split)[1] == []


def test_single_multi_turn_and_harmful_requests(train):
    ok, _ = parse_all(train)
    turns = [sum(m["role"] == "user" for m in ex["prompt"]) for ex in ok]
    assert turns.count(1) > len(ok) / 2 and sum(t >= 2 for t in turns) >= 20


def test_test_questions_are_not_in_train(train, test_split):
    first_question = lambda ds: {helpers.to_preference_example(r)["prompt"][0]["content"].lower()
                                 for r in ds if r["chosen"].count("\n\nAssistant:")}
    train_q = set()
    for r in train:
        try:
            train_q.add(helpers.to_preference_example(r)["prompt"][0]["content"].lower())
        except DataFormatError:
            pass
    assert not (train_q & first_question(test_split))


def test_course_template_reproduces_hh_text(test_split):
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick")
    for row in test_split:
        ex = helpers.to_preference_example(row)
        text = tok.apply_chat_template(ex["prompt"] + ex["chosen"], tokenize=False)
        # HH-RLHF's text with EOS closing every assistant turn: before each later Human turn, and at the end
        turns = row["chosen"].split("\n\nHuman:")[1:]  # the text starts with a Human turn
        expected = "\n\nHuman:" + (tok.eos_token + "\n\nHuman:").join(turns) + tok.eos_token
        assert text == expected


def test_split_dialogue_cuts_at_the_last_assistant_turn():
    text = "\n\nHuman: a?\n\nAssistant: b.\n\nHuman: c?\n\nAssistant: d, e."
    prompt, response = split_dialogue(text)
    assert prompt == "\n\nHuman: a?\n\nAssistant: b.\n\nHuman: c?\n\nAssistant:" and response == "d, e."
    assert helpers.to_messages(prompt) == [{"role": "user", "content": "a?"}, {"role": "assistant", "content": "b."},
                                           {"role": "user", "content": "c?"}]
    with pytest.raises(DataFormatError):
        split_dialogue("\n\nHuman: only a question")
    assert not hasattr(helpers.data, "_split_dialogue")   # one name for it: helpers.dialogue.split_dialogue


def test_missing_columns_are_a_clear_error():
    ds = datasets.Dataset.from_list([{"prompt": "x", "answer": "y"}])
    with pytest.raises(DataFormatError) as err:
        helpers.data.require_columns(ds, ["chosen", "rejected"], name="my data")
    assert "['chosen', 'rejected']" in str(err.value) and "my data" in str(err.value)


def test_eval_prompts():
    prompts = helpers.load_eval_prompts()
    assert len(prompts["plain"]) >= 10 and len(prompts["harmful"]) >= 5
    assert len(prompts["rephrase_groups"]) >= 4
    assert all(4 <= len(g["prompts"]) <= 6 for g in prompts["rephrase_groups"])


def test_data_files_are_reproducible():
    import subprocess
    import sys

    before = {p: p.read_bytes() for p in [DATA_DIR / "hh_pref/train.jsonl", DATA_DIR / "hh_pref/test.jsonl",
                                          DATA_DIR / "eval_prompts.json"]}
    out = subprocess.run([sys.executable, "scripts/maintainers/make_data.py", "--check"], cwd=DATA_DIR.parent,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(p.read_bytes() == b for p, b in before.items())
    json.loads((DATA_DIR / "eval_prompts.json").read_text())


@pytest.mark.parametrize("damage, said", [
    (("[frames]", "[framez]"), "no [frames] table"),
    (("[rejected]", "[rejectedz]"), "no [rejected] table"),
    (("[[malformed]]", "[[malformedz]]"), "no [malformed] table"),
    (("[eval", "[evalz"), "no [eval] table"),           # [eval] and its [[eval.rephrase_groups]]
    (("\nasks = ", "\naskz = "), "no 'asks' in [frames]"),
    (("position = 22", "positionz = 22"), "no 'position' in [malformed #1]"),
])
def test_a_source_without_a_table_is_one_line_with_the_fix(tmp_path, damage, said):
    """make_data.py on a copy of the repository whose data/source/preferences.toml lacks a table or a key."""
    import shutil
    import subprocess
    import sys

    root = DATA_DIR.parent
    (tmp_path / "scripts" / "maintainers").mkdir(parents=True)
    shutil.copy(root / "scripts" / "maintainers" / "make_data.py", tmp_path / "scripts" / "maintainers")
    (tmp_path / "data" / "source").mkdir(parents=True)
    text = (DATA_DIR / "source" / "preferences.toml").read_text(encoding="utf-8")
    assert damage[0] in text
    (tmp_path / "data" / "source" / "preferences.toml").write_text(text.replace(damage[0], damage[1]), encoding="utf-8")
    out = subprocess.run([sys.executable, "scripts/maintainers/make_data.py", "--check"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == "", out.stdout + out.stderr
    assert out.stderr == (f"cannot read data/source/preferences.toml: {said} "
                          "(restore it: git checkout -- data/source/preferences.toml)\n"), out.stderr


def test_parse_rows_keeps_indices_and_reports_every_bad_row(train):
    kept, skipped = helpers.parse_rows(train, helpers.to_preference_example)
    assert len(kept) + len(skipped) == len(train) and len(skipped) == 3
    assert [row for row, _ in skipped] == [22, 86, 141]  # the positions data/README.md documents (0-based)
    row, example = kept[0]
    assert example == helpers.to_preference_example(train[row])
    with pytest.raises(DataFormatError, match="None of the 1 rows could be used: 1 x ZeroDivisionError"):
        helpers.parse_rows([1], lambda r: r / 0)  # a bug that hits every row is one clear error, not 0 rows


def test_report_skipped_groups_reasons(capsys):
    from helpers import report_skipped

    skipped = [(3, "no answer"), (9, "no answer"), (12, "empty"), *[(20 + i, "no answer") for i in range(6)]]
    report_skipped(skipped, 100, "pairs")
    out = capsys.readouterr().out.splitlines()
    assert out == ["9 of 100 pairs skipped:", "  8 x no answer (rows 3, 9, 20, 21, 22, ...)", "  1 x empty (row 12)"]
    report_skipped([], 7, "pairs")
    assert capsys.readouterr().out.strip() == "all 7 pairs parsed"


def _make_data():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_data", DATA_DIR.parent / "scripts" / "maintainers" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refusal_rule_matches_every_declining_template_and_no_everyday_chosen_answer(train, test_split):
    """The course's one refusal rule (helpers.evaluation.refuses, taught in 04) against the data it counts:
    every declining frame of scripts/maintainers/make_data.py, whatever fills it, is a refusal; no helping answer is."""
    from helpers.evaluation import refuses

    md = _make_data()
    for k, frame in enumerate(md.DECLINE_FRAMES):
        filled = frame.format(g="bake a cake", w="it is hard", alt="Ask a baker.")
        assert refuses(filled) and refuses(filled[0].upper() + filled[1:]), frame
    for k, frame in enumerate(md.HELP_FRAMES):
        assert not refuses(frame.format(g="bake a cake", s1="mix", s2="bake")), frame
    declines = helps = 0
    for ds in (train, test_split):
        for example in parse_all(ds)[0]:
            for side in ("chosen", "rejected"):
                answer = example[side][0]["content"]
                is_decline = any(answer.startswith(f.split("{")[0][:8]) for f in md.DECLINE_FRAMES)
                assert refuses(answer) == is_decline, answer
                declines += is_decline
                helps += not is_decline
    # everyday chosen answers help, harmful chosen answers decline: each side has both kinds, about half each
    assert declines == helps, (declines, helps)
    for goal, s1, s2 in md.everyday_topics(md.EVERYDAY_TRAIN) + md.everyday_topics(md.EVERYDAY_TEST):
        assert not refuses(f"{goal} {s1} {s2}"), goal


def test_both_kinds_of_request_share_wordings_frames_and_lengths(test_split):
    """Only the preference separates chosen from rejected: chosen helps on everyday requests and declines on
    harmful ones, so neither 'prefer a refusal' nor 'prefer the longer answer' is right much more than half the time."""
    from helpers.evaluation import refuses

    pairs = parse_all(test_split)[0]
    chosen_declines = sum(refuses(p["chosen"][0]["content"]) for p in pairs)
    assert abs(chosen_declines - len(pairs) / 2) <= 0.1 * len(pairs), chosen_declines
    tok = helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick")
    n = lambda text: len(tok(text)["input_ids"])          # length in tokens, as 04-06 measure it
    longer = sum(n(p["chosen"][0]["content"]) > n(p["rejected"][0]["content"]) for p in pairs) / len(pairs)
    assert 0.35 <= longer <= 0.65, longer
    assert len(pairs) >= 90   # paired intervals that can exclude 0 at a +0.15 difference
