"""Training plumbing shared by 03_sft and 04_dpo: the SFT recipe's pieces, one-line progress, checkpoints that
survive a disconnected runtime, and the SFT adapter that 04 starts from.  Taught in 03_sft.

The notebook teaches each piece (the prompt/response split, the masked labels, padding, precision, resuming);
these functions assemble them so 03 and ``ensure_sft_adapter`` run one recipe, not two.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .env import Profile, output_dir, precision

LORA_R, LORA_ALPHA, LORA_DROPOUT = 16, 32, 0.05  # the course's LoRA recipe for SFT (03) and DPO (04)


def latest_checkpoint(output_dir) -> str | None:
    """The newest ``checkpoint-<step>`` folder in ``output_dir``, or None.

    Pass it to ``trainer.train(resume_from_checkpoint=...)``: None starts fresh, a path resumes from its step
    (weights, optimizer, scheduler, RNG and data position), so a run cut off by Colab continues where it was.
    """
    folders = [p for p in Path(output_dir).glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    if not folders:
        return None
    return str(max(folders, key=lambda p: int(p.name.split("-")[-1])))


def checkpoint_step(checkpoint) -> int:
    """The optimizer step a ``checkpoint-<step>`` folder was saved at (0 for None)."""
    return int(Path(checkpoint).name.split("-")[-1]) if checkpoint else 0


def sft_adapter_dir() -> Path:
    """Where 03_sft saves its LoRA adapter (and tokenizer) and where 04_dpo looks for it."""
    return Path(output_dir("03_sft")) / "adapter"


def lora_config(model_id: str, *, r: int = LORA_R, alpha: int | None = None, dropout: float = LORA_DROPOUT,
                targets=None):
    """The course's LoRA recipe (03 SFT, 04 DPO): r=16, alpha=32 (update scaled by alpha/r = 2), dropout 0.05
    on the LoRA branch, on all seven projections of a Llama-style model (``helpers.lora_targets``).

    02 varies it: another ``r`` (alpha follows as 2r unless given) or other ``targets`` (module names)."""
    from peft import LoraConfig

    from .models import lora_targets

    return LoraConfig(r=r, lora_alpha=alpha if alpha is not None else 2 * r, lora_dropout=dropout,
                      target_modules=list(targets) if targets is not None else lora_targets(model_id),
                      task_type="CAUSAL_LM")


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

    Each ``preferences[column]`` is split at its last "\\n\\nAssistant:" (``helpers.split_dialogue``) and the
    prompt turned into chat messages (``helpers.to_messages``):
        {'prompt': [{'role': 'user', ...}, ...], 'completion': [{'role': 'assistant', ...}], 'row': i}
    ``row`` is the example's index in ``preferences``. Returns ``(dataset, skipped)``: dialogues that do not
    parse are not dropped silently - ``skipped`` lists ``(row, reason)`` for each, for the caller to report.
    """
    import datasets

    from .data import parse_rows, require_columns, split_dialogue, to_messages

    def parse(text):
        prompt, response = split_dialogue(text)
        return {"prompt": to_messages(prompt), "completion": [{"role": "assistant", "content": response}]}

    require_columns(preferences, [column], name="preference data")
    kept, skipped = parse_rows(preferences[column], parse)
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
        disable_tqdm=True,                         # no progress bars (ProgressPrinter prints one line per log)
        dataloader_pin_memory=torch.cuda.is_available(),  # pinned memory speeds copies to a GPU only
    )
    args.update(overrides)
    return SFTConfig(**args)


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
    """Replace the Trainer's raw log dicts with ``ProgressPrinter``'s one line per log; returns the trainer."""
    from transformers import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(_progress_callback_class()(budget_min))
    return trainer


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


def adapter_base_model(path) -> str | None:
    """The base model an adapter folder was trained from (adapter_config.json), or None if there is none."""
    config = Path(path) / "adapter_config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")


def ensure_sft_adapter(model_id: str, profile: str, *, max_steps: int | None = None, force: bool = False) -> Path:
    """The SFT LoRA adapter for ``model_id`` in ``sft_adapter_dir()``, trained now if it is not there.
    Taught in 03_sft.

    If the folder holds an adapter trained from this model (adapter_config.json's base model; a quick-profile
    stand-in and the real model count as different), it is returned as it is. Otherwise a short SFT runs with
    03's recipe - the ``chosen`` dialogues as prompt/completion conversations, ``lora_config``, ``sft_config``
    with T4-safe precision - and the adapter and tokenizer are saved there. So 04_dpo also works in a fresh
    runtime where 03 never ran. Load it for more training with
    ``PeftModel.from_pretrained(base, path, is_trainable=True)``. The tokenizer saved with it has the course
    chat template (HH-RLHF's layout, EOS after each answer): ``AutoTokenizer.from_pretrained(path)``, or
    ``load_tokenizer(model_id, profile, chat_template="course")``.

    max_steps: optimizer steps of the short run (default: 150 full - a few minutes on a T4 - or 20 quick).
    force:     train again even if an adapter is there.
    """
    from trl import SFTTrainer

    from .data import load_preferences
    from .models import load_model, load_tokenizer

    profile = Profile(profile)
    path = sft_adapter_dir()
    model = load_model(model_id, profile) if profile == "quick" else None  # a stand-in is cheap to build
    want = model_id if model is None else model.name_or_path
    have = adapter_base_model(path)
    if have == want and not force:
        print(f"SFT adapter for {model_id} found: {path}")
        return path
    why = "forced" if have == want else "none there yet" if have is None else f"the one there is for {have!r}"
    max_steps = max_steps or profile.pick(full=150, quick=20)
    batch_size, grad_accum = profile.pick(full=(8, 2), quick=(4, 1))  # 03's sizes
    print(f"Training an SFT adapter for {model_id} ({why}): {max_steps} steps, the recipe of 03_sft ...")

    tokenizer = load_tokenizer(model_id, profile, chat_template="course")  # HH-RLHF's layout + EOS, as in 03
    rows = pick_rows(load_preferences(profile, "train"), max_steps * batch_size * grad_accum)
    train, skipped = sft_dataset(rows)
    if skipped:
        print(f"  {len(skipped)} of {len(rows):,} dialogues do not parse and are left out: "
              + "; ".join(f"row {r}: {reason}" for r, reason in skipped))
    with tempfile.TemporaryDirectory() as scratch, _quiet_datasets():
        args = sft_config(scratch, max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum,
                          learning_rate=profile.pick(full=2e-4, quick=1e-3), max_length=profile.pick(full=512, quick=256),
                          checkpointing=profile.pick(full=True, quick=False), logging_steps=max(1, max_steps // 5))
        trainer = SFTTrainer(model=model or load_model(model_id, profile), args=args, train_dataset=train,
                             processing_class=tokenizer, peft_config=lora_config(model_id))
        show_progress(trainer).train()
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")  # write aside, then swap: never half an adapter
    trainer.model.save_pretrained(partial, save_embedding_layers=False)  # LoRA weights only: no embedding resized
    tokenizer.save_pretrained(partial)
    if path.exists():
        shutil.rmtree(path)
    partial.rename(path)
    print(f"Saved the SFT adapter and tokenizer to {path}")
    return path
