"""Self-check cases for 00_setup (see tests/test_checks.py)."""
from functools import lru_cache

import helpers
import nbcode as _nbcode  # tests/nbcode.py: the notebook's own definitions (tests/ is on sys.path under pytest)


@lru_cache(maxsize=1)
def notebook():
    return _nbcode.definitions("00_setup.ipynb", "answer_token_ids")


def wrong(*args, **kwargs):
    return None


def answer_token_ids(tokenizer, question, answer):
    return notebook()["answer_token_ids"](tokenizer, question, answer)


def answer_without_eos(tokenizer, question, answer):
    return answer_token_ids(tokenizer, question, answer)[:-1]


def setup_args():
    return (helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick"),)


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "answer_token_ids": (setup_args, answer_token_ids, [wrong, answer_without_eos]),
}


