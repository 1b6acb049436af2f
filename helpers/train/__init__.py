"""Training plumbing shared by 03_sft, 04_dpo and 05_orpo (taught in 03_sft), one module per purpose: ``runs`` (run
folders, locks, resuming), ``lora`` (the LoRA recipe), ``sft`` (03's and 04's recipes, SFT data, ``sft_config``),
``progress`` (bars and log lines), ``fitting`` (``fit``, ``load_adapter``, ``ensure_sft_adapter``).
``__all__`` lists the names notebooks call; the rest are reachable as ``helpers.train.<name>``.
"""
from .fitting import (adapter_base_model, adapter_fix, data_report, ensure_sft_adapter, fit, load_adapter, preflight,
                      sft_adapter_dir)
from .lora import LORA_DROPOUT, LORA_R, lora_config, trainable_to_fp32
from .progress import show_progress
from .runs import (RUN_FINISHED, RunError, RunLock, checkpoint_step, clear_run, fingerprint, latest_checkpoint,
                   run_status, use_run_dir)
from .sft import (DPO_RECIPE, SFT_RECIPE, PrecisionError, check_precision, dpo_recipe, pick_rows, sft_config, sft_dataset,
                  sft_recipe)

__all__ = ["LORA_DROPOUT", "LORA_R", "RUN_FINISHED", "adapter_base_model", "adapter_fix", "checkpoint_step", "clear_run",
           "dpo_recipe", "ensure_sft_adapter", "fingerprint", "fit", "latest_checkpoint", "load_adapter", "lora_config",
           "pick_rows", "run_status", "sft_adapter_dir", "sft_config", "sft_dataset", "sft_recipe", "show_progress",
           "trainable_to_fp32", "use_run_dir"]
