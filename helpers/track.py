"""An optional experiment tracker for the training notebooks (03, 04, 05, 07): one switch, no account needed.

    TRACKER = helpers.tracker()   # reads COURSE_TRACKER = none | tensorboard | trackio | wandb (default: none)

``helpers.train.use_run_dir(args, ..., tracker=TRACKER)`` passes it to the trainer (``report_to`` plus a run name
that says notebook, method, model and the run folder's config hash, e.g. ``04_dpo-dpo-smollm2-360m-1a2b3c4d``);
``helpers.train.fit`` points the tracker at the run, so a resumed run continues its own curve instead of starting
a new one. ``TRACKER.log_run(name, history)`` logs a hand-written loop's history (04's beta sweep, 05's lambda
sweep) as a run of its own, so one chart compares the settings. ``TRACKER.show()`` prints how to open it.

Nothing leaves the machine unless the student asks for it:
- tensorboard: event files under ``output_dir("tensorboard")/<run name>/`` (Drive on Colab: curves survive a
  disconnect). Open with ``%load_ext tensorboard`` + ``%tensorboard --logdir ...`` in Colab/Jupyter.
- trackio: Hugging Face's local-first tracker; a SQLite database under ``output_dir("trackio")`` (its
  ``TRACKIO_DIR``), no Space, no upload; no dashboard is started during training. Open: ``trackio show``.
- wandb: online only when the student has logged in (``wandb login`` / ``WANDB_API_KEY``); otherwise offline
  (``WANDB_MODE=offline``) under ``output_dir("wandb")``, with the ``wandb sync`` command printed.
The packages are optional (not in requirements.txt): a tracker that is not installed gives one line with the
install command and training goes on without one.
"""
from __future__ import annotations

import importlib.util
import json
import netrc
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .env import output_dir

TRACKERS = ("none", "tensorboard", "trackio", "wandb")
PROJECT = "llm-course"  # trackio's and W&B's project: every notebook's runs side by side in one dashboard
INSTALL = {"tensorboard": "pip install tensorboard", "trackio": "pip install trackio", "wandb": "pip install wandb"}
_METHODS = {"SFTConfig": "sft", "DPOConfig": "dpo", "ORPOConfig": "orpo"}


class TrackerError(ValueError):
    """COURSE_TRACKER names no tracker the kit knows."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken leftover install
        return False


def wandb_logged_in() -> bool:
    """True when W&B has an API key: ``WANDB_API_KEY``, or ``wandb login``'s entry in ~/.netrc. Read without
    importing wandb and without the network."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
        hosts = netrc.netrc(path).hosts if Path(path).is_file() else {}
    except (OSError, netrc.NetrcParseError):
        return False
    return any("wandb" in host for host in hosts)


def wandb_mode() -> str:
    """``online`` when logged in to W&B, else ``offline``; an explicit ``WANDB_MODE`` wins."""
    explicit = os.environ.get("WANDB_MODE", "").strip().lower()
    if explicit:
        return explicit
    return "online" if wandb_logged_in() else "offline"


def trackio_dir() -> Path:
    """Where trackio keeps its database: its ``TRACKIO_DIR`` (fixed when trackio is first imported), which
    ``tracker("trackio")`` sets to ``output_dir("trackio")`` unless it was already set."""
    module = sys.modules.get("trackio.utils")
    if module is not None:
        return Path(module.TRACKIO_DIR)
    return Path(os.environ.get("TRACKIO_DIR") or output_dir("trackio"))


def method_of(args) -> str:
    """``sft``, ``dpo``, ``orpo`` from the config's class (SFTConfig, DPOConfig, ORPOConfig), else ``train``."""
    return next((m for cls, m in _METHODS.items() if any(c.__name__ == cls for c in type(args).__mro__)), "train")


def run_name(notebook: str, method: str, folder) -> str:
    """``<notebook>-<method>-<run folder>``, e.g. ``04_dpo-dpo-smollm2-360m-1a2b3c4d``: the folder's name is the
    model and the config hash of ``runs/<model>-<hash>/``, so the same configuration always logs to the same run."""
    return f"{notebook}-{method}-{Path(folder).name}"


@dataclass(frozen=True)
class Tracker:
    """Which tracker the trainers report to (``name``), and where its files go (``folder``; None for none).

    ``bool(TRACKER)`` is False for ``none``; ``TRACKER.report_to`` is the value for TrainingArguments."""

    name: str = "none"
    folder: Path | None = None

    def __bool__(self) -> bool:
        return self.name != "none"

    @property
    def report_to(self) -> str:
        return self.name

    def __str__(self) -> str:
        if not self:
            return "tracker: none (set COURSE_TRACKER=tensorboard, trackio or wandb to watch training live)"
        extra = f", W&B mode {wandb_mode()}" if self.name == "wandb" else ""
        return f"tracker: {self.name}, files in {self.folder}{extra}"

    def configure(self, args, notebook: str, folder, method: str | None = None):
        """Set ``args.report_to``, ``run_name`` (and trackio's project) for the run in ``folder``; returns args.
        None of these fields is part of a run's config hash (helpers.train.runs._NOT_KEYED)."""
        if self:  # none: args stay as they are (report_to="none")
            args.report_to = [self.name]
            args.run_name = run_name(notebook, method or method_of(args), folder)
            if self.name == "tensorboard":  # read when the Trainer is built: also an evaluate() before fit logs here
                os.environ["TENSORBOARD_LOGGING_DIR"] = str(output_dir("tensorboard") / args.run_name)
            args.project = PROJECT
            if hasattr(args, "trackio_static_space_id"):
                args.trackio_static_space_id = False  # no Space is made after training: the runs stay local
        return args

    def how_to_open(self) -> list[str]:
        """The lines that say how to watch the runs (empty for none)."""
        if self.name == "tensorboard":
            return [f"TensorBoard logs: {self.folder}",
                    "  in Colab/Jupyter: %load_ext tensorboard",
                    f"                   %tensorboard --logdir {self.folder}",
                    f"  in a terminal:   tensorboard --logdir {self.folder}"]
        if self.name == "trackio":
            return [f"trackio database: {self.folder} (project {PROJECT})",
                    f'  in Colab/Jupyter: import trackio; trackio.show(project="{PROJECT}")',
                    f'  in a terminal:   TRACKIO_DIR={self.folder} trackio show --project "{PROJECT}"']
        if self.name == "wandb":
            if wandb_mode() == "offline":
                return [f"W&B offline (not logged in): runs saved in {self.folder / 'wandb'}",
                        "  to upload them later: wandb login, then",
                        f"  wandb sync {self.folder / 'wandb'}/offline-run-*"]
            return [f"W&B online: project {PROJECT} at wandb.ai (the run's link is printed when it starts)"]
        return []

    def show(self) -> None:
        """Print how to open the tracker; prints nothing when it is off, so the default output is unchanged."""
        for line in self.how_to_open():
            print(line)

    def log_run(self, name: str, history: list[dict], *, step: str = "step", config: dict | None = None) -> None:
        """Log a hand-written loop's ``history`` (one dict per step, with ``step``) as its own run ``name``,
        e.g. one run per beta of 04's sweep. Numbers only; the keys become charts (prefixed ``train/`` like the
        Trainer's). Logging the same name again replaces the run's points (tensorboard: a fresh folder)."""
        if not self:
            return
        rows = [(int(row[step]), {f"train/{k}": float(v) for k, v in row.items()
                                  if k != step and isinstance(v, (int, float)) and not isinstance(v, bool)})
                for row in history]
        if self.name == "tensorboard":
            import shutil

            from torch.utils.tensorboard import SummaryWriter

            path = self.folder / name
            shutil.rmtree(path, ignore_errors=True)  # the same name again: the new points only
            with SummaryWriter(log_dir=str(path)) as writer:
                if config:
                    writer.add_text("config", json.dumps(config, default=str))
                for global_step, values in rows:
                    for key, value in values.items():
                        writer.add_scalar(key, value, global_step)
        elif self.name == "trackio":
            trackio = _import_trackio()
            with _trackio_quiet():
                trackio.init(project=PROJECT, name=name, resume="never", config=config, embed=False,
                             auto_log_cpu=False, auto_log_gpu=False)
                for global_step, values in rows:
                    trackio.log({**values, "train/global_step": global_step})
                trackio.finish()
        elif self.name == "wandb":
            import wandb

            run = wandb.init(project=PROJECT, name=name, id=wandb_run_id(name), resume="allow", config=config,
                             dir=str(self.folder), mode=wandb_mode(), reinit="finish_previous")
            try:
                for global_step, values in rows:
                    run.log({**values, "train/global_step": global_step})
            finally:
                run.finish()


def tracker(name: str | None = None) -> Tracker:
    """The tracker named by ``name`` or ``$COURSE_TRACKER`` (none, tensorboard, trackio, wandb; default none).

    A name the kit does not know: TrackerError listing the valid ones. A tracker that is not installed: one line
    with the install command, and ``none`` (training goes on without it). For trackio, ``TRACKIO_DIR`` is set to
    ``output_dir("trackio")`` unless already set (trackio reads it when first imported)."""
    given = name if name is not None else os.environ.get("COURSE_TRACKER", "")
    choice = str(given).strip().lower() or "none"
    if choice not in TRACKERS:
        raise TrackerError(f"COURSE_TRACKER={given!r} is not a tracker the kit knows: use one of "
                           f"{', '.join(TRACKERS)} (none, the default, logs nowhere).")
    if choice == "none":
        return Tracker()
    if not _installed(choice):
        print(f"COURSE_TRACKER={choice}: {choice} is not installed - run `{INSTALL[choice]}` (then restart the "
              "kernel); training goes on without a tracker.")
        return Tracker()
    if choice == "tensorboard":
        return Tracker("tensorboard", output_dir("tensorboard"))
    if choice == "trackio":
        os.environ.setdefault("TRACKIO_DIR", str(output_dir("trackio")))
        return Tracker("trackio", trackio_dir())
    return Tracker("wandb", output_dir())  # wandb writes its own wandb/ folder in there


def wandb_run_id(name: str) -> str:
    """A W&B run id from a run name (letters, digits, - and _; at most 64): the same name resumes the same run."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:64]


def _import_trackio():
    os.environ.setdefault("TRACKIO_DIR", str(output_dir("trackio")))
    import trackio

    return trackio


@contextmanager
def _trackio_quiet():
    """trackio prints a few lines at every init ('* Trackio project initialized', ...); keep them out of the
    notebook's output (TRACKER.show() prints the one way to open it)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        yield


class _LocalTrackio:
    """trackio for the Trainer's TrackioCallback, local only: no dashboard started inside the notebook, no CPU/GPU
    system metrics mixed into the curves, and its banner lines kept out of the output."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, attr):
        return getattr(self._module, attr)

    def init(self, **kwargs):
        kwargs.update(embed=False, auto_log_cpu=False, auto_log_gpu=False)
        with _trackio_quiet():
            return self._module.init(**kwargs)

    def finish(self):
        with _trackio_quiet():
            return self._module.finish()

    def log(self, metrics, step=None):
        """At the Trainer's global step (not trackio's own counter): a resumed run's replayed steps land on the
        steps they replay, and the x-axis is the same as TensorBoard's."""
        if step is None and "train/global_step" in metrics:
            step = int(metrics["train/global_step"])
        return self._module.log(metrics, step=step)


def _report_to(args) -> list[str]:
    value = getattr(args, "report_to", None) or []
    return [value] if isinstance(value, str) else list(value)


@contextmanager
def attached(trainer, from_step: int = 0):
    """While training (``helpers.train.fit``): point the trainer's tracker callbacks at its run.

    tensorboard: the event files go to ``output_dir("tensorboard")/<run_name>`` (the same folder when a run
    resumes: one curve); resumed at ``from_step``, the points a dead runtime logged after that step are hidden
    (SummaryWriter's ``purge_step``), so the replayed steps replace them. trackio: local only, resumed by run
    name, at the Trainer's global step. wandb: one run id per run name, resumed ("allow"), online when logged
    in, else offline; finished afterwards so the next trainer gets its own run."""
    names, args = _report_to(trainer.args), trainer.args
    wandb_run = None
    for callback in trainer.callback_handler.callbacks:
        kind = type(callback).__name__
        if kind == "TensorBoardCallback" and getattr(callback, "tb_writer", None) is None and args.run_name:
            callback.logging_dir = str(output_dir("tensorboard") / args.run_name)
            if from_step and trainer.is_world_process_zero():
                callback.tb_writer = callback._SummaryWriter(log_dir=callback.logging_dir, purge_step=from_step + 1)
        elif kind == "TrackioCallback" and not isinstance(callback._trackio, _LocalTrackio):
            callback._trackio = _LocalTrackio(callback._trackio)
    if "wandb" in names and args.run_name and trainer.is_world_process_zero():  # DDP: one run, from rank 0
        import wandb

        if wandb.run is None:
            wandb_run = wandb.init(project=PROJECT, name=args.run_name, id=wandb_run_id(args.run_name),
                                   resume="allow", dir=str(output_dir()), mode=wandb_mode())
    try:
        yield
    finally:
        if wandb_run is not None:
            wandb_run.finish()
