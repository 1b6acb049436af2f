"""Training plumbing shared by 03_sft and 04_dpo: the SFT recipe's pieces, progress, runs that survive a
disconnected runtime, and the SFT adapter that 04 starts from.  Taught in 03_sft.

The notebook teaches each piece (the prompt/response split, the masked labels, padding, precision, resuming);
these functions assemble them so 03 and ``ensure_sft_adapter`` run one recipe, not two.

Runs that survive (``fit``): one folder per configuration (``run_dir``/``use_run_dir``), a lock file so two
live processes never write the same folder, resume from the newest *complete* checkpoint only, the checks
that would otherwise fail after minutes of training (writable folder, precision, data left after
``max_length``, vocabulary) made before the first step, and the kit's advice when memory runs out.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from . import track
from .env import Profile, native_bf16, output_dir, precision
from .files import DamagedFileError, adapter_problem, file_problem, json_problem, writer_of

LORA_R, LORA_ALPHA, LORA_DROPOUT = 16, 32, 0.05  # the course's LoRA recipe for SFT (03) and DPO (04)


class RunError(RuntimeError):
    """A training run that cannot start safely: its folder is locked, unwritable, or its data is empty."""


class PrecisionError(ValueError):
    """bf16 asked for on a GPU that only emulates it (a T4)."""


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


def sft_adapter_dir(model_id: str, profile: str) -> Path:
    """Where 03_sft saves the LoRA adapter (and tokenizer) for ``model_id`` and where 04_dpo looks for it:
    one folder per base model, ``<output_dir>/03_sft/adapters/<model>`` (``-quick`` for the quick profile's
    stand-in), so training another model never replaces this one's adapter."""
    name = _slug(model_id.split("/")[-1]) + ("-quick" if Profile(profile) == "quick" else "")
    return Path(output_dir("03_sft")) / "adapters" / name


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


def lora_config(model_id: str, *, r: int = LORA_R, alpha: int | None = None, dropout: float = LORA_DROPOUT,
                targets=None, model=None):
    """The course's LoRA recipe (03 SFT, 04 DPO): r=16, alpha=32 (update scaled by alpha/r = 2), dropout 0.05
    on the LoRA branch, on all seven projections of a Llama-style model (``helpers.lora_targets``).

    02 varies it: another ``r`` (alpha follows as 2r unless given) or other ``targets`` (module names).
    Any Hub id that ``load_model`` accepts works: outside the course's registry the targets come from the
    model's architecture (its config's ``model_type``, or ``model=`` a loaded model), or pass ``targets``."""
    from peft import LoraConfig

    if targets is None:
        targets = _targets_for(model_id, model)
    return LoraConfig(r=r, lora_alpha=alpha if alpha is not None else 2 * r, lora_dropout=dropout,
                      target_modules=list(targets), task_type="CAUSAL_LM")


def _targets_for(model_id: str, model=None) -> list[str]:
    """LoRA targets for a registered model, else by its architecture (model_type of a family the kit knows)."""
    from .models import FAMILIES, UnknownModelError, lora_targets

    try:
        return lora_targets(model_id)
    except UnknownModelError:
        pass
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type is None:
        try:
            import transformers

            model_type = transformers.AutoConfig.from_pretrained(model_id).model_type  # cached by load_model
        except Exception:  # no network, typo, gated: fall through to the message below
            model_type = None
    family = {"qwen3": "qwen2", "mistral": "llama", "gemma": "llama", "gemma2": "llama"}.get(model_type, model_type)
    if family in FAMILIES:
        return list(dict.fromkeys(FAMILIES[family].all_linear))
    raise ValueError(
        f"No LoRA target names known for {model_id!r} (architecture {model_type or 'unknown'}). Pass them: "
        "lora_config(model_id, targets=[...]) with the names of its linear layers - print(model) lists them "
        "(Llama-style: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj).")


def trainable_to_fp32(model) -> int:
    """Cast every trainable parameter that is not fp32 back to fp32; returns how many tensors were cast.
    Taught in 04_dpo (the T4 trap), used by 02 too.

    For a 4-bit base, TRL casts the LoRA weights to bf16 while building the trainer; with fp16 loss scaling on a T4
    that fails (``_amp_foreach_non_finite_check_and_unscale_cuda not implemented for 'BFloat16'``). Call this after
    building the trainer (or after ``get_peft_model``): trainable weights must be fp32 under mixed precision."""
    import torch

    cast = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
            cast += 1
    return cast


def pick_rows(dataset, n: int | None, seed: int = 0):
    """``n`` rows chosen at random (seeded) from the whole dataset, kept in their original order; all if None.

    Anthropic/hh-rlhf's train split is four subsets one after the other (harmless-base first), so its first
    rows are not a sample of it.
    """
    import random

    if n is None or n >= len(dataset):
        return dataset
    return dataset.select(sorted(random.Random(seed).sample(range(len(dataset)), n)))


def sft_dataset(preferences, column: str = "chosen"):
    """HH-RLHF dialogues -> conversational prompt/completion examples for TRL.  Taught in 03_sft.

    Each ``preferences[column]`` is split at its last "\\n\\nAssistant:" (as in notebook 03) and the
    prompt turned into chat messages (``helpers.to_messages``):
        {'prompt': [{'role': 'user', ...}, ...], 'completion': [{'role': 'assistant', ...}], 'row': i}
    ``row`` is the example's index in ``preferences``. Returns ``(dataset, skipped)``: dialogues that do not
    parse are not dropped silently - ``skipped`` lists ``(row, reason)`` for each, for the caller to report.
    """
    import datasets

    from .data import parse_rows, require_columns, _split_dialogue, to_messages

    def parse(text):
        prompt, response = _split_dialogue(text)
        return {"prompt": to_messages(prompt), "completion": [{"role": "assistant", "content": response}]}

    require_columns(preferences, [column], name="preference data")
    kept, skipped = parse_rows(preferences[column], parse, what=f"{column!r} dialogues")  # none usable: DataFormatError
    return datasets.Dataset.from_list([{**example, "row": row} for row, example in kept]), skipped


def sft_config(output_dir, *, max_steps: int, batch_size: int, grad_accum: int, learning_rate: float,
               max_length: int, checkpointing: bool, group_by_length: bool = True, logging_steps: int = 10,
               eval_steps: int | None = None, save_steps: int | None = None, seed: int = 0, **overrides):
    """The course's ``SFTConfig``: the sizes come from the caller's config cell, the rest is fixed here.

    ``overrides`` replace any field (``save_strategy="no"``, ...). Taught argument by argument in 03_sft.
    """
    import torch
    from trl import SFTConfig

    args = dict(
        output_dir=str(output_dir),                # checkpoint-<step>/ folders go here (resume from the latest)
        max_steps=max_steps,                       # optimizer steps: a run of known length, not epochs
        per_device_train_batch_size=batch_size,    # sequences per forward pass
        per_device_eval_batch_size=batch_size,     # same for evaluation
        gradient_accumulation_steps=grad_accum,    # effective batch = batch_size * grad_accum sequences
        learning_rate=learning_rate,               # LoRA wants ~10x a full fine-tune's rate
        lr_scheduler_type="cosine",                # decay to 0 by max_steps ...
        warmup_steps=0.05,                         # ... after a 5% warm-up (a float is a fraction of max_steps)
        max_length=max_length,                     # tokens per example; longer ones lose their end (keep_start)
        completion_only_loss=True,                 # loss on the response only: prompt labels are -100
        packing=False,                             # packed batches pay off only with FlashAttention (not on a T4)
        train_sampling_strategy="group_by_length" if group_by_length else "random",  # similar lengths per batch
        activation_checkpointing=checkpointing,    # recompute activations in backward: less memory, ~1/3 more compute
        **precision().trainer_args,                # fp16 on a T4, bf16 where native, fp32 on CPU (TRL defaults to bf16)
        logging_steps=logging_steps,               # log the training loss every N steps
        eval_strategy="steps" if eval_steps else "no",
        eval_steps=eval_steps,                     # eval loss every N steps
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps,                     # a checkpoint every N steps (and at the last one)
        save_total_limit=2,                        # keep the newest two: Drive space is limited
        seed=seed,                                 # LoRA init, dropout and data order
        report_to="none",                          # no W&B / TensorBoard accounts needed
        disable_tqdm=False,                        # the standard progress bar (show_progress adds the ETA lines)
        dataloader_pin_memory=torch.cuda.is_available(),  # pinned memory speeds copies to a GPU only
    )
    args.update(overrides)
    return check_precision(SFTConfig(**args))


def check_precision(args):
    """Refuse bf16 on a GPU without native bf16 (a T4, compute capability 7.5); returns ``args``.

    ``torch.cuda.is_bf16_supported()`` says True there because bf16 can be *emulated* - several times slower,
    with no message. TRL's configs default to ``bf16=True``, so a config built without
    ``**helpers.precision().trainer_args`` ends up here."""
    import torch

    if getattr(args, "bf16", False) and torch.cuda.is_available() and not native_bf16():
        major, minor = torch.cuda.get_device_capability(0)
        raise PrecisionError(
            f"bf16=True on {torch.cuda.get_device_name(0)} (compute capability {major}.{minor}): this GPU has no "
            "native bf16, so it would be emulated - much slower, silently. Build the config with "
            "**helpers.precision().trainer_args (fp16 on this GPU), or pass fp16=True, bf16=False.")
    return args


def _progress_callback_class():
    from transformers import TrainerCallback

    class ProgressPrinter(TrainerCallback):
        """One readable line per log: step, losses, tokens/s, time per step, and the estimated time left.

        After the first log it also warns if the run would take longer than ``budget_min`` minutes - the early
        sign that a full-profile run is on the CPU (one student's progress bar said 113 hours)."""

        def __init__(self, budget_min: float = 15.0):
            self.budget_min, self.start, self.start_step, self.warned = budget_min, None, 0, False
            self.start_tokens = None

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


def show_progress(trainer, budget_min: float = 15.0):
    """Keep the Trainer's progress bar and add ``ProgressPrinter``: one readable line per log (losses,
    tokens/s, time left) and the warning when the run would take longer than ``budget_min`` minutes - the early
    sign of a CPU runtime. The raw log dicts the bar would also print are left out. Returns the trainer."""
    from transformers import PrinterCallback, ProgressCallback

    from transformers.utils.notebook import NotebookProgressCallback

    trainer.remove_callback(PrinterCallback)  # raw dicts (only there with disable_tqdm=True)
    for callback in list(trainer.callback_handler.callbacks):
        if type(callback) is ProgressCallback:  # the terminal bar: keep it, without its raw-dict lines
            trainer.remove_callback(callback)
            trainer.add_callback(_bar_without_dicts())
        elif type(callback) is NotebookProgressCallback:  # Jupyter's bar: keep it, with its end-of-run crash fixed
            trainer.remove_callback(callback)
            trainer.add_callback(_safe_notebook_bar())
    if not any(type(c).__name__ == "ProgressPrinter" for c in trainer.callback_handler.callbacks):
        trainer.add_callback(_progress_callback_class()(budget_min))
    return trainer


def _safe_notebook_bar():
    from transformers.utils.notebook import NotebookProgressCallback

    class NotebookBar(NotebookProgressCallback):
        """transformers' notebook bar. In transformers 5.23 its last update can divide by None (``TypeError:
        unsupported operand type(s) for /: 'int' and 'NoneType'``) when a run - a resumed or cut-off one - ends
        with no measured step rate since the bar's start; the run itself is fine, so the bar then drops its
        time-left estimate instead of stopping the notebook."""

        def on_train_end(self, args, state, control, **kwargs):
            tracker = self.training_tracker
            if tracker is not None and getattr(tracker, "last_value", None) is not None \
                    and state.global_step <= tracker.start_value:
                tracker.predicted_remaining = None  # no rate measured: no time-left estimate to show
            return super().on_train_end(args, state, control, **kwargs)

    return NotebookBar()


def _bar_without_dicts():
    from transformers import ProgressCallback

    class ProgressBar(ProgressCallback):
        """transformers' tqdm bar, minus the raw log dict it writes under itself (ProgressPrinter prints it)."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            pass

    return ProgressBar()


@contextmanager
def _quiet_datasets():
    """No `datasets` progress bars inside (TRL maps the data in several passes), restored afterwards."""
    import datasets

    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was:
            datasets.enable_progress_bars()


def adapter_fix(path) -> str:
    """What to do about a damaged adapter folder: delete it and rerun the notebook that saves it (by its place
    under ``output_dir()``; 03's adapters are also trained again by ``ensure_sft_adapter``)."""
    folder, writer = Path(path), writer_of(path, output_dir())
    again = (f"rerun {writer}, which saves it" if writer else "save it again with the notebook that made it")
    if writer and writer.startswith("03_"):
        again += " (or helpers.train.ensure_sft_adapter(MODEL_ID, profile, ...), which trains it again)"
    return f"Delete the folder {folder} and {again}."


def adapter_base_model(path) -> str | None:
    """The base model an adapter folder was trained from (adapter_config.json), or None if there is none.
    A damaged adapter_config.json is a one-line ``DamagedFileError`` (the file, what is wrong, the fix)."""
    config = Path(path) / "adapter_config.json"
    if not config.is_file():
        return None
    problem = json_problem(config)
    if problem:
        raise DamagedFileError(config, problem, adapter_fix(path))
    return json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")


def load_adapter(base, path, *, is_trainable: bool = False, tokenizer=None, **kwargs):
    """``PeftModel.from_pretrained(base, path, is_trainable=...)`` after checking that the adapter was trained
    on this base model (its adapter_config.json records it): an adapter on another base of the same shapes
    loads without a word and computes nonsense; on another width it fails with one 'size mismatch' per layer.
    With ``tokenizer``, also checks that every token id has an embedding row (``vocab_report``).
    A damaged adapter (a Drive sync cut off: ``adapter_model.safetensors`` short or empty, ``adapter_config.json``
    not JSON) is a one-line ``helpers.files.DamagedFileError`` naming the file and the fix, checked before PEFT
    reads it (PEFT would say ``SafetensorError: ... incomplete metadata, file not fully covered``).
    """
    from peft import PeftModel

    from .models import vocab_report

    if tokenizer is not None:
        vocab_report(base, tokenizer)  # more tokenizer entries than embedding rows: the clear message, not IndexError

    damage = adapter_problem(path)
    if damage:
        raise DamagedFileError(damage[0], damage[1], adapter_fix(path))
    have, want = adapter_base_model(path), getattr(base, "name_or_path", None)
    if have is None:
        raise FileNotFoundError(f"No adapter in {path} (no adapter_config.json). Run 03_sft first, or get one with "
                                "helpers.train.ensure_sft_adapter(MODEL_ID, profile, ...).")
    if want and have != want:
        raise ValueError(f"The adapter in {path} was trained on {have!r}, but this model is {want!r}. An adapter "
                         "only fits the base model it was trained on. Load that model, or train an adapter for "
                         "this one: helpers.train.ensure_sft_adapter(MODEL_ID, profile, ...).")
    try:
        return PeftModel.from_pretrained(base, path, is_trainable=is_trainable, **kwargs)
    except RuntimeError as err:
        if "size mismatch" not in str(err):
            raise
        first = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), "")
        raise ValueError(f"The adapter in {path} does not fit this model's layers ({first[:160]}). It was trained "
                         f"on a model of another size that was also called {have!r}. Train it again for this one: "
                         "helpers.train.ensure_sft_adapter(..., force=True).") from None


# --- the checks before training, and the one call that trains -------------------------------------------------
def data_report(trainer, given: int | None = None) -> dict:
    """How many training examples ``max_length`` cuts or drops, printed; a RunError if none is left.

    TRL cuts long examples at ``max_length`` - an SFT answer then loses its end *and its EOS*, a DPO pair its
    answers' ends - and drops an example whose prompt alone fills ``max_length`` (nothing left to train),
    without a word. ``given``: how many examples went into the trainer (to count the dropped ones)."""
    data, limit = trainer.train_dataset, trainer.args.max_length
    kept = len(data) if data is not None else 0
    cut = 0
    if kept and limit:
        if "prompt_ids" in data.column_names:  # DPO: cut in the collator, per sequence
            cut = sum(len(p) + max(len(c), len(r)) > limit
                      for p, c, r in zip(data["prompt_ids"], data["chosen_ids"], data["rejected_ids"]))
        elif "input_ids" in data.column_names:  # SFT: already cut to max_length during preparation
            cut = sum(len(ids) >= limit for ids in data["input_ids"])
    dropped = max(0, given - kept) if given is not None else 0
    if kept == 0:
        if given == 0:
            raise RunError("Nothing to train on: the training set is empty. Check the data you loaded (split, "
                           "limit, filters) - helpers.load_preferences(profile, 'train') has the course's pairs.")
        raise RunError(f"Nothing to train on: all {given if given is not None else 'the'} examples were dropped "
                       f"because each prompt alone fills max_length={limit} tokens, leaving no answer to learn. "
                       "Raise MAX_LENGTH in the config cell, or keep shorter dialogues.")
    total = given if given is not None else kept
    print(f"training data: {kept:,} of {total:,} examples used; {dropped:,} dropped (prompt alone fills "
          f"max_length={limit}); {cut:,} cut at max_length (they lose their end"
          + (" and the EOS)" if "input_ids" in data.column_names else ")"))
    return {"given": total, "kept": kept, "dropped": dropped, "cut": cut}


def preflight(trainer, given: int | None = None) -> dict:
    """Everything that would otherwise fail after minutes of training, checked before the first step: the run
    folder is writable, no emulated bf16, the tokenizer fits the embedding, some data is left after
    ``max_length``. Returns ``data_report``'s counts."""
    from .models import vocab_report

    check_writable(trainer.args.output_dir)
    check_precision(trainer.args)
    tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
    if tokenizer is not None and hasattr(trainer.model, "get_input_embeddings"):
        vocab_report(trainer.model, tokenizer)  # raises the clear message when entries > rows
    return data_report(trainer, given)


def _heartbeat(lock):
    from transformers import TrainerCallback

    class Heartbeat(TrainerCallback):
        """Touches the run's lock file at every step: a lock untouched for long belongs to a dead runtime."""

        def on_step_end(self, args, state, control, **kwargs):
            lock.touch()

    return Heartbeat()


def fit(trainer, given: int | None = None, *, resume: bool = True):
    """Train ``trainer`` in its run folder (``args.output_dir``; see ``use_run_dir``) so that the run survives.

    - ``preflight`` first: writable folder, precision, vocabulary, and how many of the ``given`` examples
      ``max_length`` cut or dropped (none left: a clear error, not an IndexError mid-run).
    - A lock (``RunLock``): a second live process on the same folder is refused.
    - Resume from the newest *complete* checkpoint (``latest_checkpoint``; a half-written one is reported and
      removed). A finished run is reported with its results and loaded from its last checkpoint: 0 new steps.
    - The global RNG is reseeded with ``args.seed`` just before ``train()``, as in a fresh runtime: whatever ran
      before (reading the data loader, generating) cannot shift the data order, so a resumed run replays the
      steps it lost exactly.
    - Out of GPU memory in a step: the kit's advice instead of a bare ``torch.OutOfMemoryError``.
    - A tracker in ``args.report_to`` (``use_run_dir(..., tracker=...)``) logs to the run named by
      ``args.run_name``, the same run when it resumes (``helpers.track.attached``).
    Returns ``trainer.train``'s result.
    """
    import torch
    import transformers

    from .models import out_of_memory_advice

    args, folder = trainer.args, Path(trainer.args.output_dir)
    preflight(trainer, given)
    with RunLock(folder) as lock:
        heartbeat = _heartbeat(lock)
        trainer.add_callback(heartbeat)
        try:
            checkpoint = latest_checkpoint(folder, remove_incomplete=True) if resume else None
            finished = _read_record(folder, RUN_FINISHED, remove=True)
            step = checkpoint_step(checkpoint)
            if checkpoint and step >= args.max_steps:  # train() would do one step past max_steps
                finished = finished or {"finished_at": "its last checkpoint is there", "global_step": step}
                print(f"run {folder.name}: this configuration finished earlier ({finished['finished_at']}; "
                      f"{_summary(finished)}). Loading its last checkpoint - no new steps. To train it again: "
                      f"helpers.train.clear_run({str(folder)!r}).")
                return _load_finished(trainer, checkpoint, finished)
            if checkpoint:
                print(f"run {folder.name}: resuming from {Path(checkpoint).name} (step {step} of {args.max_steps})")
            else:
                print(f"run {folder.name}: starting a fresh run of {args.max_steps} steps")
            transformers.set_seed(args.seed)
            try:
                with track.attached(trainer, from_step=step):  # a tracker (if any) continues the run's curve
                    result = trainer.train(resume_from_checkpoint=checkpoint)
            except torch.OutOfMemoryError:
                raise MemoryError(out_of_memory_advice(f"training (step {trainer.state.global_step + 1})")) from None
            if trainer.state.global_step >= args.max_steps:
                record = {"finished_at": time.strftime("%Y-%m-%d %H:%M:%S"), "global_step": trainer.state.global_step,
                          "metrics": result.metrics,
                          "last_logs": [h for h in trainer.state.log_history if "train_runtime" not in h][-2:]}
                (folder / RUN_FINISHED).write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
        finally:
            trainer.remove_callback(heartbeat)
    return result


def _load_finished(trainer, checkpoint, finished: dict):
    """A finished run's weights and state, without a step: ``train(resume_from_checkpoint=last)`` would train
    one step past ``max_steps``."""
    from transformers.trainer_callback import TrainerState
    from transformers.trainer_utils import TrainOutput

    trainer._load_from_checkpoint(checkpoint)
    trainer.state = TrainerState.load_from_json(str(Path(checkpoint) / "trainer_state.json"))
    metrics = dict(finished.get("metrics") or {})
    return TrainOutput(trainer.state.global_step, metrics.get("train_loss", float("nan")), metrics)


def _summary(finished: dict) -> str:
    logs = {k: v for row in finished.get("last_logs", []) for k, v in row.items() if isinstance(v, (int, float))}
    shown = [f"{k} {logs[k]:.4f}" for k in sorted(logs) if k.endswith("loss")]
    return f"{finished.get('global_step')} steps" + (", " + ", ".join(shown) if shown else "")


def ensure_sft_adapter(model_id: str, profile: str, *, max_steps: int, batch_size: int, grad_accum: int,
                       learning_rate: float, max_length: int, checkpointing: bool = False, seed: int = 0,
                       force: bool = False) -> Path:
    """The SFT LoRA adapter for ``model_id`` in ``sft_adapter_dir(model_id, profile)``, trained now if it is not
    there.  Taught in 03_sft.

    If the folder holds an adapter trained from this model (adapter_config.json's base model; a quick-profile
    stand-in and the real model count as different), it is returned as it is. Otherwise a short SFT runs with
    03's recipe - the ``chosen`` dialogues as prompt/completion conversations, ``lora_config``, ``sft_config``
    with T4-safe precision - through ``fit`` (its own run folder, resumable), and the adapter and tokenizer are
    saved there. So 04_dpo also works in a fresh runtime where 03 never ran. Load it for more training with
    ``load_adapter(base, path, is_trainable=True)``. The tokenizer saved with it has the course chat template
    (HH-RLHF's layout, EOS after each answer): ``AutoTokenizer.from_pretrained(path)``.

    The sizes (``max_steps``, ``batch_size``, ``grad_accum``, ``learning_rate``, ``max_length``,
    ``checkpointing``) come from the caller's config cell. force: train again even if an adapter is there.
    """
    from trl import SFTTrainer

    from .data import load_preferences, report_skipped
    from .models import load_model, load_tokenizer

    profile = Profile(profile)
    path = sft_adapter_dir(model_id, profile)
    model = load_model(model_id, profile) if profile == "quick" else None  # a stand-in is cheap to build
    want = model_id if model is None else model.name_or_path
    damage = adapter_problem(path)
    have = adapter_base_model(path) if damage is None else None
    if have == want and not force:
        print(f"SFT adapter for {model_id} found: {path}")
        return path
    why = ("forced" if have == want else f"the one there is damaged: {damage[0].name} is {damage[1]}" if damage
           else "none there yet" if have is None else f"the one there is for {have!r}")
    print(f"Training an SFT adapter for {model_id} ({why}): {max_steps} steps, the recipe of 03_sft ...")
    check_writable(path.parent, "the adapter")

    tokenizer = load_tokenizer(model_id, profile, chat_template="course")  # HH-RLHF's layout + EOS, as in 03
    rows = pick_rows(load_preferences(profile, "train"), max_steps * batch_size * grad_accum, seed=seed)
    train, skipped = sft_dataset(rows)
    report_skipped(skipped, len(rows), "dialogues")
    with _quiet_datasets():
        args = sft_config(output_dir("03_sft"), max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum,
                          learning_rate=learning_rate, max_length=max_length, checkpointing=checkpointing,
                          logging_steps=max(1, max_steps // 5), save_steps=max(1, max_steps // 5), seed=seed)
        use_run_dir(args, "03_sft", model_id=model_id, profile=str(profile), data=fingerprint(train),
                    made_by="ensure_sft_adapter")
        trainer = SFTTrainer(model=model or load_model(model_id, profile), args=args, train_dataset=train,
                             processing_class=tokenizer, peft_config=lora_config(model_id, model=model))
        fit(show_progress(trainer), given=len(train))
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")  # write aside, then swap: never half an adapter
    trainer.model.save_pretrained(partial, save_embedding_layers=False)  # LoRA weights only: no embedding resized
    tokenizer.save_pretrained(partial)
    if path.exists():
        shutil.rmtree(path)
    partial.rename(path)
    print(f"Saved the SFT adapter and tokenizer to {path}")
    return path
