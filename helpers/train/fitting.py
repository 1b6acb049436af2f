"""The one call that trains (``fit``), the adapters it saves (``load_adapter``), and the SFT adapter that 04 and 06
start from (``ensure_sft_adapter``).  Taught in 03_sft.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from .. import track
from ..env import Profile, output_dir
from ..files import DamagedFileError, adapter_problem, notebook_folder, read_json
from .lora import lora_config
from .progress import show_progress
from .runs import (RUN_FINISHED, RunError, RunLock, _read_record, _slug, check_writable, checkpoint_step, fingerprint,
                   latest_checkpoint, use_run_dir)
from .sft import _quiet_datasets, check_precision, pick_rows, sft_config, sft_dataset, sft_recipe

SFT_NOTEBOOK = "03_sft"   # the notebook that teaches SFT: its output folder holds the SFT runs and adapters


def sft_adapter_dir(model_id: str, profile: str) -> Path:
    """Where 03_sft saves the adapter and tokenizer for ``model_id`` and 04_dpo looks for it: one folder per base
    model (``-quick``: the quick profile's stand-in), so training another model never replaces this one's."""
    name = _slug(model_id.split("/")[-1]) + ("-quick" if Profile(profile) == "quick" else "")
    return Path(output_dir(SFT_NOTEBOOK)) / "adapters" / name


def adapter_fix(path) -> str:
    """What to do about a damaged adapter folder: delete it and rerun the notebook that saves it (the one whose
    output folder holds it: ``03_sft`` for ``output_dir()/03_sft/...``)."""
    folder = Path(path)
    writer = notebook_folder(folder)
    again = (f"rerun {writer.name}, which saves it" if writer else "save it again with the notebook that made it")
    if writer and writer.name == SFT_NOTEBOOK:
        again += " (or helpers.train.ensure_sft_adapter(MODEL_ID, profile, ...), which trains it again)"
    return f"Delete the folder {folder} and {again}."


def adapter_base_model(path) -> str | None:
    """The base model an adapter folder was trained from (adapter_config.json), or None if there is none."""
    config = Path(path) / "adapter_config.json"
    return read_json(config, adapter_fix(path)).get("base_model_name_or_path") if config.is_file() else None


def load_adapter(base, path, *, is_trainable: bool = False, tokenizer=None, **kwargs):
    """``PeftModel.from_pretrained`` after checking that the adapter is whole and was trained on this base (another
    base of the same shapes computes nonsense without a word); ``tokenizer``: check it fits the embedding."""
    from peft import PeftModel

    from ..models import vocab_report

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
    """How many of the ``given`` examples TRL silently cuts at ``max_length`` (an SFT answer loses its EOS too) or
    drops (the prompt alone fills it), printed; a RunError if none is left."""
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
    """Before the first step, what would fail after minutes: an unwritable folder, emulated bf16, a tokenizer larger
    than the embedding, no data left after ``max_length``; returns ``data_report``'s counts."""
    from ..models import vocab_report

    check_writable(trainer.args.output_dir)
    check_precision(trainer.args)
    tokenizer = getattr(trainer.processing_class, "tokenizer", trainer.processing_class)
    if tokenizer is not None and hasattr(trainer.model, "get_input_embeddings"):
        vocab_report(trainer.model, tokenizer)  # raises the clear message when entries > rows
    return data_report(trainer, given)


def fit(trainer, given: int | None = None, *, resume: bool = True):
    """Train ``trainer`` in its run folder (``use_run_dir``): ``preflight``, then, holding the ``RunLock``, resume
    from the newest complete checkpoint (a finished run is loaded: 0 new steps), reseeded with ``args.seed`` so a
    resumed run replays the steps it lost exactly; returns ``train()``'s result."""
    import torch
    import transformers

    from ..models import out_of_memory_advice

    args, folder = trainer.args, Path(trainer.args.output_dir)
    preflight(trainer, given)
    with RunLock(folder) as lock:
        heartbeat = transformers.TrainerCallback()
        heartbeat.on_step_end = lambda *args, **kwargs: lock.touch()  # an untouched lock: a dead runtime's
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
    """A finished run's weights and state; ``train(resume_from_checkpoint=last)`` would do one step too many."""
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


def ensure_sft_adapter(model_id: str, profile: str, *, seed: int = 0, force: bool = False, **sizes) -> Path:
    """The SFT adapter and tokenizer for ``model_id`` in ``sft_adapter_dir``, trained now with 03's recipe (changed
    by ``sizes``: 04 and 06 run fewer ``max_steps``) if no whole adapter from this base is there, or ``force``."""
    from trl import SFTTrainer

    from ..data import load_preferences, report_skipped
    from ..models import load_model, load_tokenizer

    profile = Profile(profile)
    sizes = sft_recipe(profile, **sizes)
    max_steps, batch_size, grad_accum = sizes["max_steps"], sizes["batch_size"], sizes["grad_accum"]
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
        args = sft_config(output_dir(SFT_NOTEBOOK), **sizes, logging_steps=max(1, max_steps // 5),
                          save_steps=max(1, max_steps // 5), seed=seed)
        use_run_dir(args, SFT_NOTEBOOK, model_id=model_id, profile=str(profile), data=fingerprint(train),
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
