"""06's blind rating (section 10: blinding, the CSV, the session, the panel, unblinding), tested without a browser:
the definitions come from the notebook (tests/nbcode.py), clicks are simulated in Python."""
import csv
from types import SimpleNamespace

import pytest

from nbcode import definitions

rating = SimpleNamespace(**definitions(
    "06_evaluation.ipynb", "CRITERIA", "VERDICTS", "SCORE_KEYS", "SCORE_COLUMNS", "COLUMNS", "blind",
    "append_rating", "read_ratings", "BlindRating", "rating_panel", "unblind", "paired_verdicts",
    preamble="import csv\nimport random\nimport time\nfrom pathlib import Path\n"))

ITEMS = [{"item": f"q{i}", "prompt": f"question {i}?", "answers": {"SFT": f"sft answer {i}", "DPO": f"dpo answer {i}"}}
         for i in range(6)]


def all_scores(value=3):
    return {(side, c): value for side in ("left", "right") for c in rating.CRITERIA}


def test_order_is_random_but_reproducible_and_names_are_hidden(tmp_path):
    a = rating.BlindRating(ITEMS, tmp_path / "r.csv", rater="ann", seed=0)
    again = rating.BlindRating(ITEMS, tmp_path / "r.csv", rater="ann", seed=0)
    other = rating.BlindRating(ITEMS, tmp_path / "r.csv", rater="bob", seed=0)
    order = [(it["item"], it["left_model"]) for it in a.items]
    assert order == [(it["item"], it["left_model"]) for it in again.items]     # same rater: same order after a restart
    assert order != [(it["item"], it["left_model"]) for it in other.items]     # another rater: another order
    assert {it["left_model"] for it in a.items} == {"SFT", "DPO"}              # both models appear on the left
    shown = a.current()
    assert set(shown) == {"item", "prompt", "left", "right"}                   # no model names on screen
    assert "SFT" not in str(shown.values()) and "DPO" not in str(shown.values())


def test_submit_appends_a_row_at_once_and_resumes(tmp_path):
    path = tmp_path / "ratings.csv"
    session = rating.BlindRating(ITEMS, path, rater="ann")
    first = session.current()
    row = session.submit(all_scores(4), "left")
    assert row["item"] == first["item"] and path.exists()
    rows = rating.read_ratings(path)
    assert len(rows) == 1 and rows[0]["left_helpfulness"] == 4 and rows[0]["better"] == "left"
    assert rows[0]["left_model"] != rows[0]["right_model"]
    session.submit(all_scores(2), "tie")
    # a closed tab: a new session over the same CSV skips what was rated
    resumed = rating.BlindRating(ITEMS, path, rater="ann")
    assert resumed.progress() == "2 of 6 rated" and resumed.current()["item"] not in {r["item"] for r in rating.read_ratings(path)}
    while not resumed.done:
        resumed.submit(all_scores(5), "right")
    assert len(rating.read_ratings(path)) == 6 and resumed.current() is None
    with pytest.raises(ValueError, match="nothing to submit"):
        resumed.submit(all_scores(5), "right")
    with path.open() as f:
        assert next(csv.reader(f)) == rating.COLUMNS                             # one header, written once


def test_each_score_lands_in_its_own_column(tmp_path):
    scores = {key: 1 + k % 5 for k, key in enumerate(all_scores())}     # a different pattern per (side, criterion)
    row = rating.BlindRating(ITEMS, tmp_path / "r.csv").submit(scores, "tie")
    assert [row[column] for column in rating.SCORE_COLUMNS] == list(scores.values())
    saved = rating.read_ratings(tmp_path / "r.csv")[0]
    assert [saved[column] for column in rating.SCORE_COLUMNS] == list(scores.values())


def test_bad_ratings_are_refused_with_a_clear_message(tmp_path):
    session = rating.BlindRating(ITEMS, tmp_path / "r.csv")
    scores = all_scores(3)
    scores[("right", "fluency")] = 6
    with pytest.raises(ValueError, match="right fluency"):
        session.submit(scores, "left")
    del scores[("left", "relevance")]
    with pytest.raises(ValueError, match="left relevance"):
        session.submit(scores, "left")
    with pytest.raises(ValueError, match="choose one of"):
        session.submit(all_scores(3), "both")
    assert not (tmp_path / "r.csv").exists()                                    # nothing written for a refused click
    with pytest.raises(ValueError, match="exactly 2"):
        rating.BlindRating([{"item": 1, "prompt": "p", "answers": {"a": "x"}}], tmp_path / "r.csv")
    with pytest.raises(ValueError, match="unique"):
        rating.BlindRating(ITEMS[:2] + ITEMS[:1], tmp_path / "r.csv")
    with pytest.raises(ValueError, match="without commas"):
        rating.BlindRating(ITEMS, tmp_path / "r.csv", rater="Ann, Bob")


def test_unblind_and_paired_verdicts(tmp_path):
    path_a, path_b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, rater in [(path_a, "ann"), (path_b, "bob")]:
        session = rating.BlindRating(ITEMS[:4], path, rater=rater)
        while not session.done:
            item = next(it for it in session.items if it["item"] == session.current()["item"])
            # both raters always prefer the DPO answer, wherever it is shown
            session.submit(all_scores(3), "left" if item["left_model"] == "DPO" else "right")
    unblinded = rating.unblind(rating.read_ratings(path_a))
    assert [u["winner"] for u in unblinded] == ["DPO"] * 4
    assert set(unblinded[0]["scores"]) == {"SFT", "DPO"}
    a, b = rating.paired_verdicts(rating.read_ratings(path_a), rating.read_ratings(path_b))
    assert a == b == ["DPO"] * 4


def test_unblind_gives_each_model_the_scores_of_its_side(tmp_path):
    session = rating.BlindRating(ITEMS[:1], tmp_path / "r.csv", rater="ann")
    shown = session.items[0]
    scores = {key: 1 + k % 5 for k, key in enumerate(all_scores())}     # a different pattern per (side, criterion)
    session.submit(scores, "tie")
    (got,) = rating.unblind(rating.read_ratings(tmp_path / "r.csv"))
    assert got["winner"] is None
    for side in ("left", "right"):
        assert got["scores"][shown[f"{side}_model"]] == {c: scores[side, c] for c in rating.CRITERIA}

def test_panel_clicks_write_the_csv(tmp_path):
    pytest.importorskip("ipywidgets")
    path = tmp_path / "clicks.csv"
    session = rating.BlindRating(ITEMS[:2], path, rater="ann")
    panel = rating.rating_panel(session)
    parts = panel.parts
    shown = session.current()
    assert shown["prompt"] in parts["prompt"].value and "SFT" not in parts["texts"]["left"].value
    parts["submit"].click()                                                     # nothing chosen yet
    assert "rate every criterion" in parts["status"].value and not path.exists()
    for key, scale in parts["scales"].items():
        scale.value = 5 if key[0] == "left" else 1
    parts["better"].value = "left"
    parts["submit"].click()
    rows = rating.read_ratings(path)
    assert len(rows) == 1 and rows[0]["item"] == shown["item"] and rows[0]["left_fluency"] == 5
    assert rows[0]["right_helpfulness"] == 1 and rows[0]["better"] == "left"
    assert parts["better"].value is None and session.current()["prompt"] in parts["prompt"].value  # next item, reset
    for scale in parts["scales"].values():
        scale.value = 3
    parts["better"].value = "tie"
    parts["submit"].click()
    assert "All done" in parts["prompt"].value and parts["submit"].disabled
