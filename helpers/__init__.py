"""The course's small shared package: plumbing that two or more notebooks need.

What is being *taught* (the LoRA layer, the DPO loss, ...) lives in the notebook that teaches it.
Importing this package has no side effects: no seeding, no downloads, no printing. Names below are stable -
homework code calls them.

``__version__`` is the kit's version. Every notebook's setup cell prints it ("course kit 1.0"), so a handed-in
notebook's stored outputs say which kit made them; `scripts/grade.py` flags outputs from another version. Bump it
when a notebook or a self-check changes what students hand in, then run `python scripts/sync_notebooks.py`.
"""
__version__ = "1.0"   # read (not imported) by scripts/sync_notebooks.py and scripts/grade.py: keep it a plain string
from . import check, evaluation, prefs, rating, track
from .budget import T4_SUSTAINED_TFLOPS, flops_per_token, t4_assumption, t4_minutes
from .data import (DataFormatError, load_eval_prompts, load_preferences, parse_rows, report_skipped, require_columns,
                   to_messages, to_preference_example)
from .env import (PROFILES, Precision, Profile, ProfileError, default_device, environment_report, get_profile,
                  native_bf16, output_dir, platform_name, precision, quiet_library_notices, seed_everything)
from .measure import (Timing, compare_times, count_parameters, describe_trainable, fmt_bytes, fmt_ratio, peak_memory,
                      saved_tensor_bytes, synchronize, time_fn, training_state_bytes)
from .memory import MemoryEstimate, estimate_memory
from .models import (CHAT_TEMPLATES, COURSE_CHAT_TEMPLATE, FAMILIES, MODELS, ModelSpec, UnknownModelError,
                     build_model, load_model, load_tokenizer, lora_targets, model_config, model_spec,
                     out_of_memory_advice, vocab_report)
from .plot import history_series, plot_history
from .text import chat_prompt, generate, generate_ids, side_by_side
from .train import latest_checkpoint, sft_adapter_dir
from .track import Tracker, TrackerError, tracker

__all__ = [n for n in dir() if not n.startswith("_")]
