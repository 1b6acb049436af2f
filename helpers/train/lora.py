"""The course's LoRA recipe (r, alpha, dropout, target modules) and the fp32 rule for trainable weights.
Taught in 01_lora-from-scratch; used by 02-05 and 07.
"""
from __future__ import annotations

import contextlib

LORA_R, LORA_DROPOUT = 16, 0.05  # the course's LoRA recipe for SFT (03) and DPO (04), with alpha = 2r


def lora_config(model_id: str, *, r: int = LORA_R, dropout: float = LORA_DROPOUT, targets=None, model=None):
    """The course's LoRA recipe: r=16, alpha=2r, dropout 0.05, on every linear projection (``helpers.lora_targets``;
    outside the registry, by architecture). 02 varies ``r`` or the ``targets`` (module names);
    scripts/students/ddp_sft.py sets ``dropout``."""
    from peft import LoraConfig

    if targets is None:
        targets = _targets_for(model_id, model)
    return LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=dropout, target_modules=list(targets), task_type="CAUSAL_LM")


def _targets_for(model_id: str, model=None) -> list[str]:
    """LoRA targets for a registered model, else by its architecture (``model_type`` of a family the kit knows)."""
    import transformers

    from ..models import FAMILIES, UnknownModelError, lora_targets

    with contextlib.suppress(UnknownModelError):
        return lora_targets(model_id)
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type is None:
        with contextlib.suppress(Exception):  # no network, typo, gated: the message below
            model_type = transformers.AutoConfig.from_pretrained(model_id).model_type  # cached by load_model
    family = {"qwen3": "qwen2", "mistral": "llama", "gemma": "llama", "gemma2": "llama"}.get(model_type, model_type)
    if family in FAMILIES:
        return list(dict.fromkeys(FAMILIES[family].all_linear))
    raise ValueError(
        f"No LoRA target names known for {model_id!r} (architecture {model_type or 'unknown'}). Pass them: "
        "lora_config(model_id, targets=[...]) with the names of its linear layers - print(model) lists them "
        "(Llama-style: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj).")


def trainable_to_fp32(model) -> int:
    """Cast the trainable parameters back to fp32 after building the trainer (returns how many): for a 4-bit base TRL
    makes LoRA bf16, and fp16 loss scaling on a T4 then fails ('... not implemented for BFloat16'). Taught in 04."""
    import torch

    cast = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
            cast += 1
    return cast
