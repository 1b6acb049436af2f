"""Training plumbing shared by 03_sft and 04_dpo: checkpoints that survive a disconnected runtime."""
from __future__ import annotations

from pathlib import Path


def latest_checkpoint(output_dir) -> str | None:
    """The newest ``checkpoint-<step>`` folder in ``output_dir``, or None.

    Pass it to ``trainer.train(resume_from_checkpoint=...)``: None starts fresh, a path resumes from its step
    (weights, optimizer, scheduler, RNG and data position), so a run cut off by Colab continues where it was.
    """
    folders = [p for p in Path(output_dir).glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    if not folders:
        return None
    return str(max(folders, key=lambda p: int(p.name.split("-")[-1])))


def sft_adapter_dir() -> Path:
    """Where 03_sft saves its LoRA adapter (and tokenizer) and where 04_dpo looks for it."""
    return Path(__import__("helpers").output_dir("03_sft")) / "adapter"
