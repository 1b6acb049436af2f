"""Runs that survive a disconnected runtime: one folder per configuration (``run_dir``/``use_run_dir``), a lock
file so two live processes never write the same folder (``RunLock``), and resuming from the newest *complete*
checkpoint only (``latest_checkpoint``).  Taught in 03_sft (section "resume after a disconnect").
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

from ..env import output_dir
from ..files import file_problem, json_problem


class RunError(RuntimeError):
    """A training run that cannot start safely: its folder is locked, unwritable, or its data is empty."""
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin")
STATE_FILES = ("optimizer.pt", "scheduler.pt", "trainer_state.json")  # written after the weights, in this order


def checkpoint_problem(checkpoint) -> str | None:
    """Why ``checkpoint`` cannot be resumed from (a missing file), or None if it is complete.

    A complete checkpoint has the weights (the adapter for LoRA), ``optimizer.pt``, ``scheduler.pt``, an RNG
    state and ``trainer_state.json`` (the Trainer writes that one last). A save cut off by a dying runtime
    leaves some of them out; resuming from it would fail, or worse, restart AdamW and the warm-up silently.
    A copy or Drive sync cut off leaves them all there, one of them short or empty: each JSON, safetensors and
    torch file is checked to be whole too (``helpers.files``; headers only, no weights are loaded)."""
    path = Path(checkpoint)
    names = {p.name for p in path.iterdir()} if path.is_dir() else set()
    if not names:
        return "empty folder (the save was cut off before it wrote anything)"
    missing = [n for n in STATE_FILES if n not in names]
    if not any(n in names for n in WEIGHT_FILES):
        missing.insert(0, "the weights (adapter_model.safetensors)")
    if not any(n.startswith("rng_state") for n in names):
        missing.append("rng_state.pth")
    if missing:
        return f"missing {', '.join(missing)} (the save was cut off)"
    for name in sorted(names, key=lambda n: (n != "trainer_state.json", n)):
        file = path / name
        problem = (json_problem(file, keys=("global_step",)) if name == "trainer_state.json"
                   else file_problem(file) if file.is_file() else None)
        if problem:
            return f"{name} is {problem}"
    return None


def _checkpoints(folder) -> list[Path]:
    """``checkpoint-<step>`` folders in ``folder``, newest (highest step) first."""
    found = [p for p in Path(folder).glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]), reverse=True)


def latest_checkpoint(output_dir, *, remove_incomplete: bool = False, quiet: bool = False) -> str | None:
    """The newest *complete* ``checkpoint-<step>`` folder in ``output_dir``, or None.

    Pass it to ``trainer.train(resume_from_checkpoint=...)``: None starts fresh, a path resumes from its step
    (weights, optimizer, scheduler, RNG and data position), so a run cut off by Colab continues where it was.
    A newer checkpoint that a dying runtime left half-written is skipped, with a line saying which and why
    (the trainer keeps two, so the one before it is still there); ``remove_incomplete=True`` also deletes it,
    so that it cannot get in the way of later saves (``fit`` does this while it holds the run's lock).
    """
    for path in _checkpoints(output_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return str(path)
        if not quiet:
            print(f"skipping {path.name}: {problem}" + ("; removed it" if remove_incomplete else ""))
        if remove_incomplete:
            shutil.rmtree(path, ignore_errors=True)
    return None


def checkpoint_step(checkpoint) -> int:
    """The optimizer step a ``checkpoint-<step>`` folder was saved at (0 for None)."""
    return int(Path(checkpoint).name.split("-")[-1]) if checkpoint else 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", str(text).lower()).strip("-") or "run"
def check_writable(folder, what: str = "checkpoints") -> Path:
    """Create ``folder`` if needed and prove a file can be written there; a clear RunError if not.

    Checked before training: otherwise the first checkpoint fails after minutes of work."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as err:
        raise RunError(
            f"Cannot write {what} to {folder}: {err.strerror or err}. Training would fail at its first save. "
            "Choose a writable folder: set COURSE_OUTPUT_DIR=/a/folder/you/own before importing helpers (on "
            "Colab, mount Google Drive first; on Kaggle, /kaggle/working is writable).") from None
    return folder


# --- one run per configuration ----------------------------------------------------------------------------
RUN_CONFIG, RUN_LOCK, RUN_FINISHED = "config.json", "run.lock", "finished.json"
# TrainingArguments fields that do not change what is trained: left out of a run's key
_NOT_KEYED = re.compile(r"^(output_dir|logging_.*|log_.*|disable_tqdm|report_to|run_name|project|trackio_.*|hub_.*|"
                        r"push_to_hub|save_.*|dataloader_(pin_memory|num_workers|persistent_workers|prefetch_factor)|"
                        r"skip_memory_metrics|resume_from_checkpoint|do_(train|eval|predict)|local_rank|"
                        r"overwrite_output_dir|eval_do_concat_batches|include_num_input_tokens_seen)$")


def fingerprint(*objects) -> str:
    """A short hash of datasets (every row), adapter folders (their weight files) or plain values: the same
    content gives the same fingerprint in every session, so it can key a run. (An adapter's JSON and README are
    left out: PEFT writes ``target_modules`` in a different order in every Python process.)"""
    digest = hashlib.sha256()
    for obj in objects:
        if isinstance(obj, (str, Path)) and Path(obj).is_dir():
            for f in sorted(p for p in Path(obj).rglob("*") if p.is_file() and p.suffix in (".safetensors", ".bin")):
                digest.update(f.name.encode() + f.read_bytes())
        elif hasattr(obj, "column_names"):  # a datasets.Dataset
            for row in obj:
                digest.update(json.dumps(row, sort_keys=True, default=str).encode())
        else:
            digest.update(json.dumps(obj, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def run_dir(notebook: str, config: dict, name: str | None = None) -> Path:
    """The folder of the run with this configuration: ``output_dir(notebook)/runs/<name>-<hash>/``.

    ``config`` is everything that changes what is trained - model id, profile, data fingerprint, every
    hyperparameter. The same configuration always maps to the same folder (so a run cut off by a disconnect
    is resumed, and a finished one is found again); any change gives a new folder, so two configurations
    never adopt each other's checkpoints. The configuration is written to ``config.json`` there to read back.
    """
    text = json.dumps(config, sort_keys=True, default=str)
    key = hashlib.sha256(text.encode()).hexdigest()[:8]
    label = _slug(name or str(config.get("model_id", config.get("model", notebook))).split("/")[-1])
    folder = check_writable(Path(output_dir(notebook)) / "runs" / f"{label}-{key}", "the run")
    saved = folder / RUN_CONFIG
    problem = json_problem(saved) if saved.is_file() else "missing"
    if problem:
        if problem != "missing":  # a cut-off copy: the folder's name is the key, so the file can be written again
            print(f"{saved} was {problem}; wrote it again from this configuration")
        saved.write_text(json.dumps(json.loads(text), indent=1, sort_keys=True), encoding="utf-8")
    return folder


def run_config(args, **identity) -> dict:
    """The part of a TrainingArguments/SFTConfig/DPOConfig that changes what is trained (not where it is
    saved or how it is logged), plus ``identity`` (model id, profile, data fingerprint...): a run's key."""
    fields = {k: v for k, v in args.to_dict().items() if not _NOT_KEYED.match(k)}
    return {**identity, "args": fields}


def use_run_dir(args, notebook: str, *, tracker=None, **identity) -> Path:
    """Point ``args.output_dir`` at the run folder for this configuration (``run_dir``, keyed by
    ``run_config(args, **identity)``) and return it. Call it after the config is complete, before the trainer.

    ``tracker`` (``helpers.tracker()``, optional): the trainer reports to it, under a run name made of the
    notebook, the method and this folder's name (model and config hash), so a resumed run continues its curve.
    It changes nothing that is trained: the run's key (and folder) is the same with or without it."""
    folder = run_dir(notebook, run_config(args, **identity), name=str(identity.get("model_id", notebook)).split("/")[-1])
    args.output_dir = str(folder)
    if tracker is not None:
        tracker.configure(args, notebook, folder)
    return folder


def _read_record(folder, name: str, remove: bool = False) -> dict | None:
    """A run's ``finished.json`` or ``config.json`` as a dict; None if absent. A damaged one (cut off, empty, not
    JSON) is reported in one line and ignored - ``remove=True`` (``fit``, holding the lock) also deletes it: the
    checkpoints say how far the run got, and ``fit`` writes the record again when the run ends."""
    path = Path(folder) / name
    if not path.is_file():
        return None
    problem = json_problem(path)
    if problem is None:
        return json.loads(path.read_text(encoding="utf-8"))
    why = ("the run's checkpoints say how far it got, and the record is written again when the run ends"
           if name == RUN_FINISHED else "it is written again from the configuration")
    fix = f"{'deleted it' if remove else 'delete it'}: {why}"
    print(f"ignoring {path}: {problem}; {fix}")
    if remove:
        path.unlink(missing_ok=True)
    return None


def run_status(folder) -> dict:
    """What a run folder holds: ``{'finished': dict | None, 'checkpoint': newest complete or None, 'config'}``.
    A damaged ``finished.json`` or ``config.json`` counts as absent, with a line saying so."""
    folder = Path(folder)
    return {"finished": _read_record(folder, RUN_FINISHED), "checkpoint": latest_checkpoint(folder, quiet=True),
            "config": _read_record(folder, RUN_CONFIG)}


def clear_run(folder) -> None:
    """Delete a run's checkpoints and its 'finished' record (its config stays): the next ``fit`` starts at 0."""
    with RunLock(folder):
        for path in _checkpoints(folder):
            shutil.rmtree(path)
        (Path(folder) / RUN_FINISHED).unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class RunLock:
    """``with RunLock(folder):`` - at most one live process trains in a run folder.

    The lock file ``run.lock`` holds the owner's PID, host and start time, and is touched at every step (see
    ``fit``). A second live writer is refused with a RunError. A lock left by a dead process is taken over:
    on the same machine when that PID no longer runs; from another machine (a Colab runtime that died, Drive
    still mounted) once it has not been touched for ``stale_after`` seconds.
    """

    def __init__(self, folder, stale_after: float = 600.0):
        self.path, self.stale_after, self.held = Path(folder) / RUN_LOCK, stale_after, False

    def _owner(self) -> dict | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) else None

    def _damage(self) -> str | None:
        """What is wrong with an existing lock file (cut off, empty, not the owner record), or None."""
        try:
            problem = json_problem(self.path, keys=("pid", "host"))
            if problem is None and not str(self._owner().get("pid")).lstrip("-").isdigit():
                problem = "valid JSON whose 'pid' is not a process number: not the lock this kit writes"
        except FileNotFoundError:
            return None
        return problem

    def _stale(self, owner: dict) -> str | None:
        """Why the lock's owner is gone (None while it may still be alive)."""
        if owner.get("host") == socket.gethostname():
            if owner.get("pid") == os.getpid():
                return "it was taken by this process earlier"
            return None if _pid_alive(int(owner.get("pid", -1))) else f"process {owner.get('pid')} no longer runs"
        idle = time.time() - self.path.stat().st_mtime
        return f"untouched for {idle / 60:,.0f} min" if idle > self.stale_after else None

    def acquire(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                damage = self._damage()
                for _ in range(10):   # a lock created this instant: its owner is writing it
                    if not damage or not self.path.exists() or time.time() - self.path.stat().st_mtime > 2:
                        break
                    time.sleep(0.2)
                    damage = self._damage()
                if damage:
                    idle = time.time() - self.path.stat().st_mtime if self.path.exists() else float("inf")
                    if idle <= self.stale_after:
                        raise RunError(
                            f"Cannot read the run lock {self.path}: {damage}, so it does not say which process "
                            "trains here. If no other notebook trains this configuration now, delete "
                            f"{self.path} and run again.") from None
                    print(f"taking over the lock {self.path}: {damage}, untouched for {idle / 60:,.0f} min")
                    self.path.unlink(missing_ok=True)
                    continue
                owner = self._owner() or {}
                why = self._stale(owner)
                if why is None:
                    raise RunError(
                        f"Another live process is training in {self.path.parent} (pid {owner.get('pid')} on "
                        f"{owner.get('host')}, since {owner.get('since')}). Two writers would overwrite each "
                        "other's checkpoints. Wait for it to finish, or stop it (interrupt or restart that "
                        f"notebook's kernel); if you are sure it is gone, delete {self.path}.") from None
                print(f"taking over the lock of {self.path.parent.name}: {why}")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise RunError(f"Could not take the lock {self.path}: another process took it at the same moment. Run again.")

    def touch(self):
        if self.held:
            try:
                os.utime(self.path)
            except OSError:
                pass

    def release(self):
        if self.held:
            owner = self._owner() or {}
            if owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
