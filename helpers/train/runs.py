"""Runs that survive a disconnected runtime: one folder per configuration (``use_run_dir``), a lock so two live
processes never write the same folder (``RunLock``), resuming from the newest *complete* checkpoint only
(``latest_checkpoint``).  Taught in 03_sft (section "resume after a disconnect").
"""
from __future__ import annotations

import contextlib
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
    """Why ``checkpoint`` cannot be resumed from, or None: a save cut off by a dying runtime leaves files out (AdamW
    and the warm-up would silently restart), a cut-off copy or Drive sync leaves one short, so headers are read too."""
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
    return sorted(found, key=checkpoint_step, reverse=True)


def latest_checkpoint(output_dir, *, remove_incomplete: bool = False, quiet: bool = False) -> str | None:
    """The newest *complete* ``checkpoint-<step>`` folder in ``output_dir``, or None; a half-written newer one is
    skipped with a line saying why (the trainer keeps two), and deleted with ``remove_incomplete`` (``fit``)."""
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
    """Create ``folder`` and prove a file can be written there (else a RunError), before the first save fails."""
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
    """A short hash of datasets (every row), adapter folders (their weight files) or plain values, the same in
    every session, to key a run. (An adapter's JSON is left out: PEFT orders ``target_modules`` per process.)"""
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


def use_run_dir(args, notebook: str, *, tracker=None, **identity) -> Path:
    """Point ``args.output_dir`` at ``output_dir(notebook)/runs/<model>-<hash>/`` and return it: the hash keys
    ``identity`` (model id, profile, data fingerprint...) plus every field of ``args`` that changes what is trained,
    so a cut-off run resumes and any change gets a new folder; ``config.json`` there holds the key. Call it after
    the config is complete; the trainer reports to ``tracker`` (``helpers.tracker()``), which is not keyed."""
    config = {**identity, "args": {k: v for k, v in args.to_dict().items() if not _NOT_KEYED.match(k)}}
    text = json.dumps(config, sort_keys=True, default=str)
    label = _slug(str(identity.get("model_id", notebook)).split("/")[-1])
    folder = Path(output_dir(notebook)) / "runs" / f"{label}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    saved = check_writable(folder, "the run") / RUN_CONFIG
    problem = json_problem(saved) if saved.is_file() else "missing"
    if problem:
        if problem != "missing":  # a cut-off copy: the folder's name is the key, so the file can be written again
            print(f"{saved} was {problem}; wrote it again from this configuration")
        saved.write_text(json.dumps(config, indent=1, sort_keys=True, default=str), encoding="utf-8")
    args.output_dir = str(folder)
    if tracker is not None:
        tracker.configure(args, notebook, folder)
    return folder


def _read_record(folder, name: str, remove: bool = False) -> dict | None:
    """A run's ``finished.json`` or ``config.json``, or None; a damaged one is reported in a line and ignored."""
    path = Path(folder) / name
    if not path.is_file():
        return None
    problem = json_problem(path)
    if problem is None:
        return json.loads(path.read_text(encoding="utf-8"))
    why = ("the run's checkpoints say how far it got, and the record is written again when the run ends"
           if name == RUN_FINISHED else "it is written again from the configuration")
    print(f"ignoring {path}: {problem}; {'deleted it' if remove else 'delete it'}: {why}")
    if remove:
        path.unlink(missing_ok=True)
    return None


def run_status(folder) -> dict:
    """What a run folder holds: ``{'finished': dict | None, 'checkpoint': newest complete or None, 'config'}``."""
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
        pass
    return True


class RunLock:
    """``with RunLock(folder):`` - one live process trains in a run folder; a second gets a RunError. ``run.lock``
    (owner's PID, host, start) is touched at every step; a dead owner's lock is taken over once its PID is gone, or
    from another machine (a dead Colab runtime, Drive still mounted) once untouched for ``stale_after`` seconds."""

    def __init__(self, folder, stale_after: float = 600.0):
        self.path, self.stale_after, self.held = Path(folder) / RUN_LOCK, stale_after, False

    def _read(self) -> tuple[dict, str | None]:
        """The lock's owner record, and what is wrong with the file (cut off, empty, not this kit's lock) or None."""
        damage = json_problem(self.path, keys=("pid", "host"))
        owner = {} if damage else json.loads(self.path.read_text(encoding="utf-8"))
        if not damage and not str(owner["pid"]).lstrip("-").isdigit():
            damage = "valid JSON whose 'pid' is not a process number: not the lock this kit writes"
        return owner, damage

    def _take_over(self) -> str:
        """Why the existing lock may be taken over (its owner is gone), as the line to print ("" if it was released
        meanwhile); a RunError if not."""
        try:
            owner, damage = self._read()
            if damage and time.time() - self.path.stat().st_mtime <= 2:  # created this instant: its owner writes it
                time.sleep(2)
                owner, damage = self._read()
            idle = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:  # released meanwhile
            return ""
        if damage:
            if idle <= self.stale_after:
                raise RunError(f"Cannot read the run lock {self.path}: {damage}, so it does not say which process "
                               "trains here. If no other notebook trains this configuration now, delete "
                               f"{self.path} and run again.") from None
            return f"taking over the lock {self.path}: {damage}, untouched for {idle / 60:,.0f} min"
        if owner.get("host") != socket.gethostname():
            why = f"untouched for {idle / 60:,.0f} min" if idle > self.stale_after else None
        elif owner.get("pid") == os.getpid():
            why = "it was taken by this process earlier"
        else:
            why = None if _pid_alive(int(owner.get("pid", -1))) else f"process {owner.get('pid')} no longer runs"
        if why is None:
            raise RunError(f"Another live process is training in {self.path.parent} (pid {owner.get('pid')} on "
                           f"{owner.get('host')}, since {owner.get('since')}). Two writers would overwrite each "
                           "other's checkpoints. Wait for it to finish, or stop it (interrupt or restart that "
                           f"notebook's kernel); if you are sure it is gone, delete {self.path}.") from None
        return f"taking over the lock of {self.path.parent.name}: {why}"

    def acquire(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                why = self._take_over()
                if why:                                            # "": released meanwhile, just try again
                    print(why)
                    self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%d %H:%M:%S")}, f)
            self.held = True
            return self
        raise RunError(f"Could not take the lock {self.path}: another process took it at the same moment. Run again.")

    def touch(self):
        if self.held:
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self):
        if self.held:
            with contextlib.suppress(OSError):
                if self._read()[0].get("pid") == os.getpid():
                    self.path.unlink()
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
