"""Progress while training: the Trainer's bar, one readable line per log, and a warning when the run would take far
longer than planned (the early sign of a CPU runtime)."""
from __future__ import annotations

import time


def _progress_callback_class():
    from transformers import TrainerCallback

    class ProgressPrinter(TrainerCallback):
        """One readable line per log (step, losses, tokens/s, time per step and left), and at the first a warning if
        the run would take over ``budget_min`` minutes: a full-profile run on the CPU (one bar said 113 hours)."""

        def __init__(self, budget_min: float = 15.0):
            self.budget_min, self.warned = budget_min, False
            self.start, self.start_step, self.start_tokens = None, 0, None

        def on_train_begin(self, args, state, control, **kwargs):
            self.start, self.start_step, self.start_tokens = time.perf_counter(), state.global_step, None

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs, step = logs or {}, state.global_step
            elapsed, done = time.perf_counter() - (self.start or time.perf_counter()), step - self.start_step
            parts = [f"step {step:>4}" + (f"/{state.max_steps}" if state.max_steps else "")]  # 0: evaluate() before train()
            if "loss" in logs:
                parts.append(f"loss {logs['loss']:.4f}")
            if "train_runtime" in logs:  # the summary Trainer logs at the end
                print(f"step {step:>4}/{state.max_steps} | done: {done} steps in {logs['train_runtime']:,.1f} s")
                return
            for key in sorted(k for k in logs if k.startswith("eval_") and k.endswith("_loss")):
                name = key[len("eval_"):-len("_loss")]  # '' for eval_loss; 'heldout' for an eval_dataset dict's set
                parts.append(f"{name + ' ' if name else ''}eval loss {logs[key]:.4f}")
            if "num_tokens" in logs:
                self.start_tokens = logs["num_tokens"] if self.start_tokens is None else self.start_tokens
                if elapsed > 0 and logs["num_tokens"] > self.start_tokens:
                    parts.append(f"{(logs['num_tokens'] - self.start_tokens) / elapsed:,.0f} tokens/s")
            if done > 0 and "loss" in logs:
                left_s = (state.max_steps - step) * elapsed / done
                left_min = left_s / 60
                left = f"{left_min:,.1f} min" if left_s >= 60 else f"{left_s:,.0f} s"
                parts.append(f"{elapsed / done:,.2f} s/step, ~{left} left")
                if not self.warned and left_min > self.budget_min:
                    print(f"WARNING: about {left_min:,.0f} more minutes at this speed (budget {self.budget_min:g}). "
                          "On a CPU? Pick a GPU runtime; otherwise lower max_steps or max_length.")
                self.warned = True
            print(" | ".join(parts))

    return ProgressPrinter


def show_progress(trainer):
    """Keep the Trainer's progress bar, without the raw log dicts, and add ``ProgressPrinter``; returns the trainer."""
    from transformers import PrinterCallback, ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback

    trainer.remove_callback(PrinterCallback)  # raw dicts (only there with disable_tqdm=True)
    for callback in list(trainer.callback_handler.callbacks):
        if type(callback) is ProgressCallback:  # the terminal bar: keep it, without the raw dicts it writes under it
            callback.on_log = lambda *args, **kwargs: None
        elif type(callback) is NotebookProgressCallback:  # Jupyter's bar: keep it, with its end-of-run crash fixed
            trainer.remove_callback(callback)
            trainer.add_callback(_safe_notebook_bar())
    if not any(type(c).__name__ == "ProgressPrinter" for c in trainer.callback_handler.callbacks):
        trainer.add_callback(_progress_callback_class()())
    return trainer


def _safe_notebook_bar():
    from transformers.utils.notebook import NotebookProgressCallback

    class NotebookBar(NotebookProgressCallback):
        """transformers' notebook bar, minus a crash: a run ending with no step rate measured since the bar's start
        (resumed, cut off) made its last update divide by None (``TypeError``); it drops the time-left estimate."""

        def on_train_end(self, args, state, control, **kwargs):
            tracker = self.training_tracker
            if tracker is not None and getattr(tracker, "last_value", None) is not None \
                    and state.global_step <= tracker.start_value:
                tracker.predicted_remaining = None  # no rate measured: no time-left estimate to show
            return super().on_train_end(args, state, control, **kwargs)

    return NotebookBar()
