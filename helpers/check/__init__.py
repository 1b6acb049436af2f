"""Self-checks for the exercises: ``check.<exercise>(your_function)`` prints PASS or FAIL with a hint.

Each notebook's checks live in their own module; all are reachable as ``helpers.check.<name>``.
Every check fails on the unsolved stub (tests/test_checks.py proves it) and passes on the solution.
"""
from ._core import SelfCheckError, learned
from .setup import *  # noqa: F401,F403  (00_setup)
from .lora import *  # noqa: F401,F403  (01_lora-from-scratch)
from .savings import *  # noqa: F401,F403  (02_what-lora-saves)
from .sft import *  # noqa: F401,F403  (03_sft)
from .dpo import *  # noqa: F401,F403  (04_dpo)
from .orpo import *  # noqa: F401,F403  (05_orpo)
from .evaluation import *  # noqa: F401,F403  (06_evaluation)
from .ddp import *  # noqa: F401,F403  (07_two-gpus)
