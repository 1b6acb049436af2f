"""Plots shared by the training notebooks (03, 04): curves from a Trainer's log history."""
from __future__ import annotations


def history_series(log_history: list[dict], key: str) -> tuple[list, list]:
    """(steps, values) of one logged metric from ``trainer.state.log_history``."""
    points = [(row["step"], row[key]) for row in log_history if key in row and "step" in row]
    return [s for s, _ in points], [v for _, v in points]


def plot_history(log_history: list[dict], keys, title: str = "", ax=None, ylabel: str | None = None, *,
                 labels: dict | None = None, colors: dict | None = None, styles: dict | None = None):
    """Plot each of ``keys`` (e.g. ['loss', 'eval_loss']) that was logged against the optimizer step; returns the axes.
    ``labels``, ``colors``, ``styles``: {key: legend in words / colour / line style}, the same in every panel."""
    import matplotlib.pyplot as plt

    labels, colors, styles = labels or {}, colors or {}, styles or {}
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for key in [keys] if isinstance(keys, str) else keys:     # "loss" is one key, not four letters
        steps, values = history_series(log_history, key)
        if steps:
            ax.plot(steps, values, marker="o" if len(steps) < 30 else None, ms=3, label=labels.get(key, key),
                    color=colors.get(key), ls=styles.get(key, "-"))
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(ylabel or "")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    return ax
