"""Generation with correct stopping, and side-by-side comparison.  Taught in 00_setup."""
from __future__ import annotations

import torch


def chat_prompt(tokenizer, question_or_messages) -> str:
    """A user question (or a messages list) rendered by the chat template, ending with the generation prompt."""
    if isinstance(question_or_messages, str):
        question_or_messages = [{"role": "user", "content": question_or_messages}]
    return tokenizer.apply_chat_template(question_or_messages, tokenize=False, add_generation_prompt=True)


@torch.no_grad()
def generate_ids(model, tokenizer, prompts, *, chat: bool = True, **settings) -> torch.Tensor:
    """The new token ids for a batch of prompts, (len(prompts), <= max_new_tokens), pad-filled after an early EOS:
    chat template, left padding, EOS and pad from the tokenizer; ``settings`` go to ``model.generate`` as given."""
    from .models import vocab_report

    vocab_report(model, tokenizer)  # more tokenizer entries than embedding rows: the clear message, not IndexError
    texts = [chat_prompt(tokenizer, p) if chat else p for p in prompts]
    old_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    try:
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    finally:
        tokenizer.padding_side = old_side
    was_training = model.training
    model.eval()  # no dropout while generating
    try:
        out = model.generate(**batch, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                             **settings)
    finally:
        model.train(was_training)
    return out[:, batch["input_ids"].shape[1]:]


def generate(model, tokenizer, prompts, *, max_new_tokens: int = 64, chat: bool = True) -> list[str]:
    """Answer each prompt greedily with at most ``max_new_tokens`` new tokens; returns only the new text, cut at EOS.
    Seeds torch with 0 first, so what runs after it (01 trains with dropout) repeats on every run. To sample,
    pass ``do_sample=True`` and a ``temperature`` to ``generate_ids``, as 03 and 06 do."""
    torch.manual_seed(0)
    outputs = []
    for i in range(0, len(prompts), 8):  # 8 prompts per model.generate call
        new = generate_ids(model, tokenizer, prompts[i: i + 8], chat=chat, max_new_tokens=max_new_tokens,
                           do_sample=False)
        outputs += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return outputs


def side_by_side(prompts, columns: dict):
    """Answers to the same prompts next to each other, ``side_by_side(prompts, {"before": a, "after": b})``, as an
    HTML table; returns the rows as a list of dicts (the tests read them)."""
    import html

    from IPython.display import HTML, display  # IPython comes with ipywidgets (requirements.txt)

    rows = [{"prompt": p, **{name: answers[i] for name, answers in columns.items()}} for i, p in enumerate(prompts)]
    head = "".join(f"<th style='text-align:left'>{html.escape(k)}</th>" for k in rows[0]) if rows else ""
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;vertical-align:top;white-space:pre-wrap'>"
                                    f"{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    display(HTML(f"<table><tr>{head}</tr>{body}</table>"))
    return rows
