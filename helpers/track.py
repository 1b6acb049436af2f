"""An optional experiment tracker for the training notebooks (03, 04, 05, 07): one switch, no account needed.

    TRACKER = helpers.tracker()   # reads COURSE_TRACKER = none | tensorboard | trackio | wandb (default: none)

``helpers.train.use_run_dir(args, ..., tracker=TRACKER)`` names the trainer's run after notebook, method and run
folder (``04_dpo-dpo-smollm2-360m-1a2b3c4d``), so a resumed run continues its curve; ``TRACKER.log_run`` logs a
hand-written loop (04's beta sweep, 05's lambda sweep) as a run of its own. Nothing leaves the machine unless asked:
tensorboard and trackio write under ``output_dir()``, wandb is offline until ``wandb login``. The packages are optional.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import netrc
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .env import output_dir

TRACKERS = ("none", "tensorboard", "trackio", "wandb")
PROJECT = "llm-course"  # trackio's and W&B's project: every notebook's runs side by side in one dashboard
_METHODS = {"SFTConfig": "sft", "DPOConfig": "dpo", "ORPOConfig": "orpo"}


class TrackerError(ValueError):
    """COURSE_TRACKER names no tracker the kit knows."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken leftover install
        return False


def wandb_mode() -> str:
    """An explicit ``WANDB_MODE``, else ``online`` with an API key (``WANDB_API_KEY`` or ~/.netrc), else ``offline``."""
    explicit = os.environ.get("WANDB_MODE", "").strip().lower()
    if explicit or os.environ.get("WANDB_API_KEY"):
        return explicit or "online"
    try:
        hosts = netrc.netrc(os.environ.get("NETRC") or Path.home() / ".netrc").hosts
    except (OSError, netrc.NetrcParseError):
        return "offline"
    return "online" if any("wandb" in host for host in hosts) else "offline"


def trackio_dir() -> Path:
    """Where trackio keeps its database: its ``TRACKIO_DIR``, fixed when trackio is first imported."""
    module = sys.modules.get("trackio.utils")
    return Path(module.TRACKIO_DIR if module else os.environ.get("TRACKIO_DIR") or output_dir("trackio"))


@dataclass(frozen=True)
class Tracker:
    """Which tracker the trainers report to (``name``; ``bool()`` is False for none), and where its files go."""

    name: str = "none"
    folder: Path | None = None

    def __bool__(self) -> bool:
        return self.name != "none"

    def configure(self, args, notebook: str, folder):
        """Set ``args.report_to``, ``run_name`` and the project for the run in ``folder`` (none of them keyed)."""
        if self:  # none: args stay as they are (report_to="none")
            method = next((_METHODS[c.__name__] for c in type(args).__mro__ if c.__name__ in _METHODS), "train")
            args.report_to = [self.name]
            args.run_name = f"{notebook}-{method}-{Path(folder).name}"  # the folder: model and config hash
            if self.name == "tensorboard":  # read when the Trainer is built: also an evaluate() before fit logs here
                os.environ["TENSORBOARD_LOGGING_DIR"] = str(output_dir("tensorboard") / args.run_name)
            args.project = PROJECT
            if hasattr(args, "trackio_static_space_id"):
                args.trackio_static_space_id = False  # no Space is made after training: the runs stay local

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
        """Print how to open the tracker; nothing when it is off, so the default output is unchanged."""
        for line in self.how_to_open():
            print(line)

    def log_run(self, name: str, history: list[dict], *, config: dict | None = None) -> None:
        """Log a hand-written loop's ``history`` (a dict per 'step') as the run ``name`` (again: replaces it)."""
        if not self:
            return
        rows = [(int(row["step"]), {f"train/{k}": float(v) for k, v in row.items()
                                    if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)})
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
            import trackio

            local = _LocalTrackio(trackio)  # quiet, and at each row's own step
            local.init(project=PROJECT, name=name, resume="never", config=config)
            for global_step, values in rows:
                local.log({**values, "train/global_step": global_step})
            local.finish()
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
    """The tracker named by ``name`` or ``$COURSE_TRACKER`` (default none); one not installed: a line, and none."""
    given = name if name is not None else os.environ.get("COURSE_TRACKER", "")
    choice = str(given).strip().lower() or "none"
    if choice not in TRACKERS:
        raise TrackerError(f"COURSE_TRACKER={given!r} is not a tracker the kit knows: use one of "
                           f"{', '.join(TRACKERS)} (none, the default, logs nowhere).")
    if choice == "none":
        return Tracker()
    if not _installed(choice):
        print(f"COURSE_TRACKER={choice}: {choice} is not installed - run `pip install {choice}` (then restart the "
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


class _LocalTrackio:
    """trackio for the Trainer's TrackioCallback, local only: no dashboard, no CPU/GPU metrics in the curves, no
    banner; logged at the Trainer's global step, so a resumed run's replayed steps land where they belong."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, attr):
        return getattr(self._module, attr)

    def init(self, **kwargs):
        kwargs.update(embed=False, auto_log_cpu=False, auto_log_gpu=False)
        with contextlib.redirect_stdout(io.StringIO()):  # trackio's banner: show() says how to open it
            return self._module.init(**kwargs)

    def finish(self):
        with contextlib.redirect_stdout(io.StringIO()):
            return self._module.finish()

    def log(self, metrics, step=None):
        if step is None and "train/global_step" in metrics:
            step = int(metrics["train/global_step"])
        return self._module.log(metrics, step=step)


@contextlib.contextmanager
def attached(trainer, from_step: int = 0):
    """While ``helpers.train.fit`` trains: point the trainer's tracker callbacks at its run, resumed by run name. A
    run resumed at ``from_step`` purges the points TensorBoard logged after it, so the replayed steps replace them."""
    args, wandb_run = trainer.args, None
    for callback in trainer.callback_handler.callbacks:
        kind = type(callback).__name__
        if kind == "TensorBoardCallback" and getattr(callback, "tb_writer", None) is None and args.run_name:
            callback.logging_dir = str(output_dir("tensorboard") / args.run_name)
            if from_step and trainer.is_world_process_zero():
                callback.tb_writer = callback._SummaryWriter(log_dir=callback.logging_dir, purge_step=from_step + 1)
        elif kind == "TrackioCallback" and not isinstance(callback._trackio, _LocalTrackio):
            callback._trackio = _LocalTrackio(callback._trackio)
    report_to = [args.report_to] if isinstance(args.report_to, str) else args.report_to or []
    if "wandb" in report_to and args.run_name and trainer.is_world_process_zero():  # DDP: one run, from rank 0
        import wandb

        if wandb.run is None:
            wandb_run = wandb.init(project=PROJECT, name=args.run_name, id=wandb_run_id(args.run_name),
                                   resume="allow", dir=str(output_dir()), mode=wandb_mode())
    try:
        yield
    finally:
        if wandb_run is not None:
            wandb_run.finish()
