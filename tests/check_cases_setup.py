"""Self-check cases for 00_setup (see tests/test_checks.py)."""
import helpers


def wrong(*args, **kwargs):
    return None


def answer_token_ids(tokenizer, question, answer):
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    prompt = tokenizer.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    return tokenizer(full, add_special_tokens=False)["input_ids"][len(tokenizer(prompt, add_special_tokens=False)["input_ids"]):]


def answer_without_eos(tokenizer, question, answer):
    return answer_token_ids(tokenizer, question, answer)[:-1]


def setup_args():
    return (helpers.load_tokenizer("HuggingFaceTB/SmolLM2-135M", "quick"),)


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "answer_token_ids": (setup_args, answer_token_ids, [wrong, answer_without_eos]),
}


