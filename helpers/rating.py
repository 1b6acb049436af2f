"""Blind side-by-side human rating for 06_evaluation: the logic, and a thin ipywidgets panel on top of it.

Students rated their own models, unblinded, on 1-5 scales - and found what they hoped to find. The fix is a
blind, randomised comparison: two answers to the same prompt, left/right order drawn at random, model names
hidden, each rating written to a CSV the moment it is given (a closed tab loses nothing; running again resumes
where you stopped). Only afterwards are the names put back (``unblind``).

``BlindRating`` holds all the logic and is tested without a browser (tests/test_rating.py clicks the panel's
buttons in Python). Nothing here runs on import.
"""
from __future__ import annotations

import csv
import random
import time
from pathlib import Path

__all__ = ["BlindRating", "read_ratings", "unblind", "paired_verdicts", "rating_panel"]

CRITERIA = ("helpfulness", "harmlessness", "relevance", "fluency")
VERDICTS = ("left", "right", "tie")
COLUMNS = (["rater", "item", "prompt", "left_model", "right_model"]
           + [f"{side}_{c}" for side in ("left", "right") for c in CRITERIA] + ["better", "seconds", "time"])


class BlindRating:
    """A rater's blind session over ``items``: ``[{"item": id, "prompt": str, "answers": {model: answer, model: answer}}]``.

    - order: items shuffled and each item's left/right drawn with ``random.Random(f"{seed}-{rater}")``, so every
      rater sees their own order, and the same one again after a restart;
    - ``current()`` shows the next unrated item *without* model names;
    - ``submit(scores, better)`` checks the ratings (every criterion 1-5 for both sides; better = left/right/tie),
      appends one CSV row (with the hidden names) and moves on;
    - a CSV that already holds this rater's rows is resumed: rated items are skipped.
    """

    def __init__(self, items, csv_path, rater: str = "rater1", seed: int = 0):
        if not rater or "," in rater:
            raise ValueError(f"rater={rater!r}: give a short name without commas, e.g. 'rater1' or your initials")
        self.csv_path, self.rater = Path(csv_path), rater
        rng = random.Random(f"{seed}-{rater}")
        self.items = []
        for item in items:
            names = list(item["answers"])
            if len(names) != 2:
                raise ValueError(f"item {item['item']!r} has {len(names)} answers; a blind comparison needs exactly 2")
            if rng.random() < 0.5:
                names.reverse()
            self.items.append({"item": str(item["item"]), "prompt": item["prompt"], "left_model": names[0],
                               "right_model": names[1], "left": item["answers"][names[0]],
                               "right": item["answers"][names[1]]})
        ids = [it["item"] for it in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique: the CSV uses them to resume")
        rng.shuffle(self.items)
        self.rated = {row["item"] for row in read_ratings(self.csv_path) if row["rater"] == rater}
        self._shown_at = None

    @property
    def pending(self) -> list[dict]:
        return [it for it in self.items if it["item"] not in self.rated]

    @property
    def done(self) -> bool:
        return not self.pending

    def progress(self) -> str:
        return f"{len(self.items) - len(self.pending)} of {len(self.items)} rated"

    def current(self) -> dict | None:
        """The next item as the rater sees it: prompt, left answer, right answer - no model names."""
        if self.done:
            return None
        it = self.pending[0]
        self._shown_at = self._shown_at or time.time()
        return {"item": it["item"], "prompt": it["prompt"], "left": it["left"], "right": it["right"]}

    def submit(self, scores: dict, better: str) -> dict:
        """Record the current item: ``scores[(side, criterion)]`` an int 1-5 for side left/right and every
        criterion in CRITERIA; ``better`` one of left/right/tie. Appends the row to the CSV; returns it."""
        if self.done:
            raise ValueError("every item is rated already - nothing to submit")
        missing = [f"{side} {c}" for side in ("left", "right") for c in CRITERIA
                   if not isinstance(scores.get((side, c)), int) or not 1 <= scores[(side, c)] <= 5]
        if missing:
            raise ValueError("rate every criterion 1-5 for both answers; missing or out of range: " + ", ".join(missing))
        if better not in VERDICTS:
            raise ValueError(f"better={better!r}: say which answer is better - choose one of {', '.join(VERDICTS)}")
        it = self.pending[0]
        row = {"rater": self.rater, "item": it["item"], "prompt": it["prompt"], "left_model": it["left_model"],
               "right_model": it["right_model"],
               **{f"{side}_{c}": scores[(side, c)] for side in ("left", "right") for c in CRITERIA},
               "better": better, "seconds": round(time.time() - (self._shown_at or time.time()), 1),
               "time": time.strftime("%Y-%m-%d %H:%M:%S")}
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        with self.csv_path.open("a", newline="", encoding="utf-8") as f:   # appended at once: nothing to lose
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(row)
        self.rated.add(it["item"])
        self._shown_at = None
        return row


def read_ratings(csv_path) -> list[dict]:
    """Every row of a ratings CSV as dicts (scores as ints); [] if the file does not exist yet."""
    path = Path(csv_path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in COLUMNS[5:13]:
            row[key] = int(row[key])
    return rows


def unblind(rows) -> list[dict]:
    """Ratings with the names put back: per row the item, the winning model (None for a tie), and each
    model's scores ``{model: {criterion: score}}``."""
    out = []
    for row in rows:
        side_model = {"left": row["left_model"], "right": row["right_model"]}
        out.append({"rater": row["rater"], "item": row["item"], "winner": side_model.get(row["better"]),
                    "models": (row["left_model"], row["right_model"]),
                    "scores": {side_model[s]: {c: row[f"{s}_{c}"] for c in CRITERIA} for s in ("left", "right")}})
    return out


def paired_verdicts(rows_a, rows_b) -> tuple[list, list]:
    """The unblinded winners of the items both raters rated, aligned by item: ``(winners_a, winners_b)``
    (a model name, or "tie"). Feed them to an agreement measure such as Cohen's kappa."""
    a = {r["item"]: r["winner"] or "tie" for r in unblind(rows_a)}
    b = {r["item"]: r["winner"] or "tie" for r in unblind(rows_b)}
    common = sorted(set(a) & set(b))
    return [a[i] for i in common], [b[i] for i in common]


def rating_panel(session: BlindRating):
    """An ipywidgets panel for ``session``: the prompt, two answers side by side, 1-5 buttons per criterion and
    side, "which is better", and Submit (which writes the CSV row and shows the next item).

    Returns the panel; its parts are in ``panel.parts`` (the tests click them)."""
    import html

    import ipywidgets as w

    prompt = w.HTML()
    texts = {side: w.HTML(layout=w.Layout(width="48%", border="1px solid #ccc", padding="6px")) for side in ("left", "right")}
    scales = {(side, c): w.ToggleButtons(options=[1, 2, 3, 4, 5], value=None, description=c,
                                         style={"button_width": "32px"}) for side in ("left", "right") for c in CRITERIA}
    better = w.ToggleButtons(options=[("left is better", "left"), ("right is better", "right"), ("tie", "tie")],
                             value=None, description="overall")
    submit = w.Button(description="Submit and next", button_style="primary")
    status = w.HTML()

    def show():
        item = session.current()
        if item is None:
            prompt.value = f"<b>All done</b> ({session.progress()}). Ratings are in {html.escape(str(session.csv_path))}."
            for side in texts:
                texts[side].value = ""
            submit.disabled = True
            return
        prompt.value = f"<b>Prompt</b> ({session.progress()}): {html.escape(item['prompt'])}"
        for side in texts:
            texts[side].value = f"<b>{side}</b><br><div style='white-space:pre-wrap'>{html.escape(item[side])}</div>"
        for scale in scales.values():
            scale.value = None
        better.value = None

    def on_submit(_):
        try:
            session.submit({key: scale.value for key, scale in scales.items()}, better.value)
        except ValueError as err:
            status.value = f"<span style='color:#b00'>{html.escape(str(err))}</span>"
            return
        status.value = "saved"
        show()

    submit.on_click(on_submit)
    columns = [w.VBox([texts[side]] + [scales[(side, c)] for c in CRITERIA], layout=w.Layout(width="50%"))
               for side in ("left", "right")]
    panel = w.VBox([prompt, w.HBox(columns), better, submit, status])
    panel.parts = {"prompt": prompt, "texts": texts, "scales": scales, "better": better, "submit": submit,
                   "status": status}
    show()
    return panel
