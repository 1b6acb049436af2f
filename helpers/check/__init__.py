"""Self-checks, one module per notebook, as ``helpers.check.<name>`` (see ``_core``); ``_reference`` is not exported."""
from ._core import SelfCheckError, learned
from .setup import *  # noqa: F401,F403  (00_setup)
from .lora import *  # noqa: F401,F403  (01_lora-from-scratch)
from .savings import *  # noqa: F401,F403  (02_what-lora-saves)
from .sft import *  # noqa: F401,F403  (03_sft)
from .dpo import *  # noqa: F401,F403  (04_dpo)
from .orpo import *  # noqa: F401,F403  (05_orpo)
from .evaluation import *  # noqa: F401,F403  (06_evaluation)
from .ddp import *  # noqa: F401,F403  (07_two-gpus)

__all__ = ["SelfCheckError", "learned", *setup.__all__, *lora.__all__, *savings.__all__, *sft.__all__, *dpo.__all__,
           *orpo.__all__, *evaluation.__all__, *ddp.__all__]
