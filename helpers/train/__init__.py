"""Training plumbing shared by 03_sft, 04_dpo and 05_orpo (taught in 03_sft), one module per purpose:

==================  ==========================================================================================
``runs``            run folders and locks: one folder per configuration, resume from a complete checkpoint
``lora``            the course's LoRA recipe (``LORA_R``, ``LORA_DROPOUT``, ``lora_config``)
``sft``             03's SFT recipe (``sft_recipe``) and 04's (``dpo_recipe``), SFT data and ``sft_config``
``progress``        progress bars: the Trainer's bar plus one readable line per log, and the time-left warning
``fitting``         fitting and adapters: ``fit`` (checks, lock, resume), ``load_adapter``, ``ensure_sft_adapter``
==================  ==========================================================================================

Every name below is reachable as ``helpers.train.<name>``; ``__all__`` lists the ones notebooks call.
"""
from .fitting import (adapter_base_model, adapter_fix, data_report, ensure_sft_adapter, fit, load_adapter, preflight,
                      sft_adapter_dir)
from .lora import LORA_DROPOUT, LORA_R, lora_config, trainable_to_fp32
from .progress import show_progress
from .runs import (RUN_CONFIG, RUN_FINISHED, RUN_LOCK, RunError, RunLock, check_writable, checkpoint_problem,
                   checkpoint_step, clear_run, fingerprint, latest_checkpoint, run_status, use_run_dir)
from .sft import (DPO_RECIPE, SFT_RECIPE, PrecisionError, check_precision, dpo_recipe, pick_rows, sft_config, sft_dataset,
                  sft_recipe)

__all__ = ["LORA_R", "RUN_FINISHED", "adapter_base_model", "adapter_fix", "checkpoint_step", "clear_run",
           "dpo_recipe", "ensure_sft_adapter", "fingerprint", "fit", "latest_checkpoint", "load_adapter", "lora_config",
           "pick_rows", "run_status", "sft_adapter_dir", "sft_config", "sft_dataset", "sft_recipe", "show_progress",
           "trainable_to_fp32", "use_run_dir"]
