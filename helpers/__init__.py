"""The course's small shared package: plumbing that two or more notebooks need; what is *taught* lives in the notebooks.

Importing it has no side effects (no seeding, downloads or printing); the names in ``__all__`` are stable, as homework
calls them. ``__all__`` is exactly what the notebooks call as ``helpers.<name>``, and each module's ``__all__`` what
they call from it (tests/test_public.py checks both); the rest stays reachable as ``helpers.<module>.<name>`` for
scripts and tests.
``__version__`` is the kit's version: every setup cell prints it, so a hand-in says which kit made it
(scripts/teachers/grade.py flags another). Bump it when a notebook or a self-check changes what students hand in, then
run `python scripts/teachers/sync_notebooks.py`.
"""
__version__ = "1.0"   # read (not imported) by scripts/teachers/sync_notebooks.py and scripts/teachers/grade.py: keep it a plain string
from . import budget, check, env, evaluation, files, measure, memory, prefs, train
from .budget import T4_SUSTAINED_TFLOPS, flops_per_token, t4_assumption, t4_minutes
from .data import (DataFormatError, load_eval_prompts, load_preferences, parse_rows, report_skipped, to_messages,
                   to_preference_example)
from .env import (Profile, default_device, environment_report, get_profile, output_dir, precision,
                  quiet_library_notices, seed_everything)
from .measure import compare_times, count_parameters, describe_trainable, fmt_bytes, fmt_ratio, peak_memory, time_fn
from .memory import estimate_memory
from .models import (build_model, is_standin, load_model, load_tokenizer, lora_targets, model_spec, no_loading_bar,
                     out_of_memory_advice, vocab_report)
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
           "compare_times", "count_parameters", "describe_trainable", "fmt_bytes", "fmt_ratio", "peak_memory", "time_fn",
           "estimate_memory",
           "build_model", "is_standin", "load_model", "load_tokenizer", "lora_targets", "model_spec", "no_loading_bar",
           "out_of_memory_advice", "vocab_report",
           "history_series", "plot_history",
           "chat_prompt", "generate", "generate_ids", "side_by_side",
           "tracker",
           "latest_checkpoint", "sft_adapter_dir"]
