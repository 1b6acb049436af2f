"""03's SFT recipe (and 04's DPO recipe beside it), data (HH-RLHF dialogues as prompt/completion examples) and
``SFTConfig``, and the precision check every trainer config passes.  Taught in 03_sft.
"""
from __future__ import annotations

from contextlib import contextmanager

from ..env import Profile, native_bf16, precision

# 03's SFT recipe, the one definition (03's config cell teaches it; tests/test_sft.py keeps the two in agreement)
SFT_RECIPE = {
    "full": dict(max_steps=300, batch_size=8, grad_accum=2, learning_rate=2e-4, max_length=512, checkpointing=True),
    "quick": dict(max_steps=30, batch_size=4, grad_accum=1, learning_rate=2e-3, max_length=512, checkpointing=True),
}


# 04's DPO recipe, the one definition (04's config cell teaches it; tests/test_dpo.py keeps the two in agreement)
DPO_RECIPE = {
    "full": dict(beta=0.1, learning_rate=5e-5, max_steps=60, batch_pairs=4, grad_accum=4, max_length=384,
                 checkpointing=True),
    "quick": dict(beta=0.1, learning_rate=5e-3, max_steps=20, batch_pairs=4, grad_accum=2, max_length=256,
                  checkpointing=False),
}


def _recipe(name: str, table: dict, profile, changes: dict) -> dict:
    recipe = dict(table[Profile(profile)])
    unknown = sorted(set(changes) - set(recipe))
    if unknown:
        raise TypeError(f"{name} has no {', '.join(unknown)}; its knobs are {', '.join(recipe)}")
    return {**recipe, **changes}


def sft_recipe(profile, **changes) -> dict:
    """03's SFT recipe for ``profile`` as the keyword arguments of ``sft_config`` and ``ensure_sft_adapter``, with
    ``changes`` made on purpose (04 and 06 run fewer steps: ``sft_recipe(profile, max_steps=150)``)."""
    return _recipe("sft_recipe", SFT_RECIPE, profile, changes)


def dpo_recipe(profile, **changes) -> dict:
    """04's DPO recipe for ``profile`` (beta, learning rate, steps, pairs per pass, accumulation, length,
    checkpointing), with ``changes`` made on purpose."""
    return _recipe("dpo_recipe", DPO_RECIPE, profile, changes)


class PrecisionError(ValueError):
    """bf16 asked for on a GPU that only emulates it (a T4)."""


def pick_rows(dataset, n: int | None, seed: int = 0):
    """``n`` rows chosen at random (seeded), kept in their order; all if None. (HH-RLHF's train split is four
    subsets one after the other, so its first rows are not a sample of it.)"""
    import random

    if n is None or n >= len(dataset):
        return dataset
    return dataset.select(sorted(random.Random(seed).sample(range(len(dataset)), n)))


def sft_dataset(preferences):
    """HH-RLHF 'chosen' dialogues split at their last assistant turn -> ``(dataset, skipped)``: TRL's conversational
    ``{'prompt', 'completion', 'row'}`` examples, and ``(row, reason)`` for each dialogue that does not parse."""
    import datasets

    from ..data import parse_rows, require_columns, to_messages
    from ..dialogue import split_dialogue

    def parse(text):
        prompt, response = split_dialogue(text)
        return {"prompt": to_messages(prompt), "completion": [{"role": "assistant", "content": response}]}

    require_columns(preferences, ["chosen"], name="preference data")
    kept, skipped = parse_rows(preferences["chosen"], parse, what="'chosen' dialogues")  # none usable: DataFormatError
    return datasets.Dataset.from_list([{**example, "row": row} for row, example in kept]), skipped


def sft_config(output_dir, *, max_steps: int, batch_size: int, grad_accum: int, learning_rate: float,
               max_length: int, checkpointing: bool, group_by_length: bool = True, logging_steps: int = 10,
               eval_steps: int | None = None, save_steps: int | None = None, seed: int = 0, **overrides):
    """The course's ``SFTConfig``: the sizes from the caller's config cell, the rest fixed here; ``overrides``
    replace any field. Taught argument by argument in 03_sft."""
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
    """Refuse bf16 (TRL's default) on a GPU that only emulates it, several times slower and silently (a T4, where
    ``torch.cuda.is_bf16_supported()`` says True); returns ``args``."""
    import torch

    if getattr(args, "bf16", False) and torch.cuda.is_available() and not native_bf16():
        major, minor = torch.cuda.get_device_capability(0)
        raise PrecisionError(
            f"bf16=True on {torch.cuda.get_device_name(0)} (compute capability {major}.{minor}): this GPU has no "
            "native bf16, so it would be emulated - much slower, silently. Build the config with "
            "**helpers.precision().trainer_args (fp16 on this GPU), or pass fp16=True, bf16=False.")
    return args


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
