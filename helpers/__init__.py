"""The course's small shared package: plumbing that two or more notebooks need.

What is being *taught* (the LoRA layer, the DPO loss, ...) lives in the notebook that teaches it.
Importing this package has no side effects: no seeding, no downloads, no printing. Names below are stable -
homework code calls them. ``__all__`` is exactly what the notebooks call as ``helpers.<name>``: the modules they reach
into (``helpers.train.fit``, ``helpers.check.dpo_loss``...) and the names they call directly; each module's own
``__all__`` lists what notebooks call from it (tests/test_public.py checks both). Everything else stays reachable
as ``helpers.<module>.<name>`` for scripts and tests.

``__version__`` is the kit's version. Every notebook's setup cell prints it ("course kit 1.0"), so a handed-in
notebook's stored outputs say which kit made them; `scripts/teachers/grade.py` flags outputs from another version. Bump it
when a notebook or a self-check changes what students hand in, then run `python scripts/teachers/sync_notebooks.py`.
"""
__version__ = "1.0"   # read (not imported) by scripts/teachers/sync_notebooks.py and scripts/teachers/grade.py: keep it a plain string
from . import budget, check, env, evaluation, files, memory, prefs, train
from .budget import T4_SUSTAINED_TFLOPS, flops_per_token, t4_assumption, t4_minutes
from .data import (DataFormatError, load_eval_prompts, load_preferences, parse_rows, report_skipped, to_messages,
                   to_preference_example)
from .env import (Profile, default_device, environment_report, get_profile, output_dir, precision,
                  quiet_library_notices, seed_everything)
from .measure import (compare_times, count_parameters, describe_trainable, fmt_bytes, fmt_ratio, peak_memory,
                      saved_tensor_bytes, time_fn, training_state_bytes)
from .memory import estimate_memory
from .models import (build_model, load_model, load_tokenizer, lora_targets, model_spec, out_of_memory_advice,
                     vocab_report)
from .plot import history_series, plot_history
from .text import chat_prompt, generate, generate_ids, side_by_side
from .track import tracker
from .train import latest_checkpoint, sft_adapter_dir

__all__ = ["budget", "check", "env", "evaluation", "files", "memory", "prefs", "train",
           "T4_SUSTAINED_TFLOPS", "flops_per_token", "t4_assumption", "t4_minutes",
           "DataFormatError", "load_eval_prompts", "load_preferences", "parse_rows", "report_skipped", "to_messages",
           "to_preference_example",
           "Profile", "default_device", "environment_report", "get_profile", "output_dir", "precision",
           "quiet_library_notices", "seed_everything",
           "compare_times", "count_parameters", "describe_trainable", "fmt_bytes", "fmt_ratio", "peak_memory",
           "saved_tensor_bytes", "time_fn", "training_state_bytes",
           "estimate_memory",
           "build_model", "load_model", "load_tokenizer", "lora_targets", "model_spec", "out_of_memory_advice",
           "vocab_report",
           "history_series", "plot_history",
           "chat_prompt", "generate", "generate_ids", "side_by_side",
           "tracker",
           "latest_checkpoint", "sft_adapter_dir"]
