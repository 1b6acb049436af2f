"""Pretrain the course micro-model: the quick profile's stand-in for the SmolLM2 ids, with real (learned) weights.

    python scripts/pretrain_micro.py          # generate the text, pretrain, write data/micro-llama/
    python scripts/pretrain_micro.py --check  # retrain and compare with the shipped weights; writes nothing
    python scripts/pretrain_micro.py --corpus # print a sample of the pretraining text and its size, then stop

What it builds: a LlamaForCausalLM with the same classes and module names as SmolLM2 (q_proj, k_proj, v_proj,
o_proj, gate_proj, up_proj, down_proj), grouped-query attention like SmolLM2 (4 query heads share 2 key/value
heads), tied input/output embeddings, and the project's 1,000-token byte-level BPE (data/tokenizer.json).
About 0.7 million parameters, stored in fp32 (about 2.9 MB).

What it learns from: text generated here, at build time, from a small grammar written by the project (everyday
how-to advice, short explanations, safety-minded notes). Nothing is copied from anywhere, and the text
- is prose and FAQ entries ("Question: ... / Answer: ..."), as web pages print them: no "Human:"/"Assistant:"
  dialogue, no chat template, no EOS token anywhere (documents are separated by blank lines only). So the base model writes fluent-looking text in the course's domain but
  neither follows the dialogue format nor stops: notebook 03 (SFT) teaches it both;
- contains none of the course's preference pairs or evaluation prompts (tests/test_micro.py checks this).

Time: 300 steps of 24 x 128 tokens (about 0.9M tokens seen) take about 2 minutes of CPU time on one thread
(measured: 119-125 s of CPU time; 500 s wall-clock on the shared 2-core machine at a load average of ~11, so
expect about 2-3 minutes on 2 idle cores). It prints both numbers when it finishes.

Deterministic: the text comes from random.Random(SEED), torch is seeded, and training runs on ONE CPU thread
(multi-threaded reductions may add in a different order), so on the same machine and torch build a rerun gives
bit-identical weights. `--check` reports the largest weight difference and passes if it is within CHECK_ATOL
and the held-out loss within CHECK_LOSS_NATS (other CPUs or torch builds may round differently; the
tolerance is stated so a reproduction elsewhere still means something). CI never retrains; it loads the file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "micro-llama"
TOKENIZER = ROOT / "data" / "tokenizer.json"
SEED = 1234
CHECK_ATOL = 1e-4          # --check: largest allowed |weight difference| against the shipped file
CHECK_LOSS_NATS = 0.02     # --check: largest allowed difference in held-out loss (nats/token)

ARCH = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=256, max_position_embeddings=1024, rope_theta=100000.0, tie_word_embeddings=True,
            hidden_act="silu", rms_norm_eps=1e-5)
TRAIN = dict(documents=16_000, seq_len=128, batch_size=24, steps=300, lr=3e-3, warmup=20, weight_decay=0.01,
             min_lr_ratio=0.1, heldout_documents=400)

# =============================================================================================================
# The grammar. Topics: (goal as a verb phrase, three steps as imperative clauses, why it works, when to get help)
# =============================================================================================================
TOPICS = [
    ("keep bread fresh for longer", ["store it in a bread bin or a paper bag", "freeze slices you won't eat within "
     "two days", "toast frozen slices straight from the freezer"], "air dries bread out, and the fridge makes it "
     "go stale faster", None),
    ("cook rice that isn't sticky", ["rinse the rice until the water runs clear", "use about one and a half cups "
     "of water for each cup of rice", "leave the lid on and let it rest for five minutes"], "rinsing washes off "
     "the loose starch that glues the grains together", None),
    ("make a simple vegetable soup", ["soften an onion in a little oil", "add chopped vegetables and stock",
     "simmer until everything is tender, then season to taste"], "slow cooking brings out the sweetness of the "
     "vegetables", None),
    ("store leftovers safely", ["cool them within two hours", "keep them in the fridge in a closed box", "eat "
     "them within two or three days"], "bacteria grow fastest at room temperature", None),
    ("keep a kitchen knife sharp", ["hold the blade at a steady, shallow angle", "draw it along the stone a few times "
     "on each side", "finish with a few light strokes on a honing steel"], "a sharp knife slips less than a blunt "
     "one", None),
    ("study for an exam", ["make a short plan for each day", "test yourself instead of rereading your notes",
     "take a short break every half hour"], "recalling an answer makes it easier to remember later", None),
    ("write a clear email", ["put the main point in the first line", "keep paragraphs short", "say exactly what "
     "you need and by when"], "busy readers often read only the first few lines", None),
    ("prepare for a job interview", ["read about the company", "practise answers to common questions out loud",
     "prepare two or three questions of your own"], "practice makes your answers calmer and clearer", None),
    ("save money each month", ["write down what you spend for a few weeks", "set up a small automatic transfer to "
     "savings on payday", "cancel subscriptions you don't use"], "money you never see in your current account is "
     "easier not to spend", "if debts feel out of control, a free debt adviser can help"),
    ("sleep better", ["go to bed at the same time each night", "keep screens out of the bedroom", "avoid coffee "
     "after lunch"], "a regular routine sets your body clock", "if poor sleep goes on for weeks, talk to a doctor"),
    ("ease a sore back after gardening", ["rest for a day but keep gently moving", "use a warm pack for short "
     "periods", "bend your knees instead of your back next time"], "gentle movement helps stiff muscles recover",
     "if the pain is severe or spreads down a leg, see a doctor"),
    ("treat a small burn", ["cool it under cool running water for twenty minutes", "remove rings or tight "
     "clothing nearby", "cover it loosely with cling film"], "cooling stops the heat from going deeper", "for a "
     "large or deep burn, or a burn on a child, get medical help"),
    ("stay safe in hot weather", ["drink water regularly", "stay in the shade in the middle of the day", "check on "
     "older neighbours"], "the body loses water quickly in the heat", "if someone is confused or stops sweating, "
     "call for medical help"),
    ("unblock a slow sink", ["pour a kettle of hot water down the drain", "use a plunger with a little water in "
     "the sink", "clean the trap under the sink with a bucket underneath"], "most blockages are grease and hair "
     "close to the plughole", "if water backs up in several places, call a plumber"),
    ("keep a home warm for less", ["close curtains at dusk", "block draughts under doors", "turn the thermostat "
     "down by one degree"], "most heat escapes through windows, gaps and the roof", None),
    ("hang a picture straight", ["mark the height with a pencil", "use a level to draw a faint line", "use two "
     "hooks for wide frames"], "two hooks stop the frame from tilting", None),
    ("pack light for a trip", ["choose clothes in colours that match", "roll clothes instead of folding them",
     "take travel-size bottles"], "fewer items leave room and save time at the airport", None),
    ("get over jet lag", ["switch to local meal times straight away", "get daylight in the morning", "keep naps "
     "short"], "daylight resets the body clock", None),
    ("learn a new language", ["practise for fifteen minutes every day", "learn the most common words first",
     "speak out loud, even to yourself"], "short daily practice beats long weekly sessions", None),
    ("grow tomatoes on a balcony", ["use a large pot with good compost", "water deeply when the soil is dry",
     "feed weekly once the first flowers appear"], "tomatoes need steady water and lots of sun", None),
    ("look after a new puppy", ["take it outside after every meal and nap", "reward good behaviour straight away",
     "give it a quiet place to sleep"], "puppies learn fastest from quick, kind rewards", "if it stops eating or "
     "seems unwell, call a vet"),
    ("keep a cat happy indoors", ["give it a scratching post", "play with it for a few minutes twice a day",
     "put a shelf near a window"], "cats need to climb, scratch and watch the world", None),
    ("fix a bug in a program", ["read the error message carefully", "make the smallest example that shows the "
     "problem", "change one thing at a time"], "a small example shows where the problem really is", None),
    ("name variables in code", ["use words that say what the value means", "avoid single letters except for short "
     "loops", "keep the same name for the same idea"], "clear names make code easier to read later", None),
    ("work out a percentage", ["divide the part by the whole", "multiply the result by one hundred", "check the "
     "answer with a rough estimate"], "a percentage is a share out of one hundred", None),
    ("explain how rainbows form", ["picture sunlight entering a raindrop", "notice that each colour bends by a "
     "slightly different amount", "see the colours spread out as the light leaves the drop"], "white light is a "
     "mix of colours", None),
    ("give useful feedback", ["start with what worked", "describe one specific thing to change", "suggest how to "
     "change it"], "specific feedback is easier to act on", None),
    ("say no politely", ["thank the person for asking", "give a short, honest reason", "suggest another time or "
     "another person if you can"], "a clear answer is kinder than a vague one", None),
    ("make friends in a new town", ["join a club or class that meets every week", "say yes to invitations",
     "follow up with people you liked"], "seeing the same people often builds friendships", None),
    ("protect your online accounts", ["use a different password for each account", "turn on two-step "
     "verification", "be careful with links in unexpected messages"], "one leaked password then opens only one "
     "door", "if you think an account was taken over, contact the service straight away"),
]

# Safety-minded prose, in the third person (no first-person dialogue): (what someone might want, why not, the
# better path). General themes only, never instructions.
SAFETY = [
    ("get into someone else's account", "it is illegal and breaks their trust", "ask the owner, or contact the "
     "service if the account is yours"),
    ("take something that belongs to someone else", "it is theft and hurts the owner", "ask to borrow it, or look "
     "for a local charity that can help"),
    ("hurt a person or an animal", "it causes real harm and is a crime", "step away, calm down and talk to someone "
     "they trust"),
    ("trick people out of their money", "it is fraud and the victims are often vulnerable", "look for honest work "
     "or ask a debt adviser for help"),
    ("spy on a partner or a friend", "it is a serious invasion of privacy", "have an honest conversation or see a "
     "counsellor"),
    ("spread lies about someone", "it can ruin a person's life and may be unlawful", "raise the real problem with "
     "the right person"),
    ("take more medicine than the label says", "it can cause serious harm", "speak to a pharmacist or a doctor"),
    ("break into a building or a car", "it is a crime and can end in injury", "call a licensed locksmith if it is "
     "their own property"),
]
SAFETY_FRAMES = [
    "Some requests should be turned down. Helping someone {what} is wrong, because {why}. The kind thing is to say "
    "so clearly and suggest that they {better}.",
    "A good helper is useful, but not at any cost. If a person wants to {what}, a helper should decline, since "
    "{why}, and point them to a better path: {better}.",
    "When someone asks how to {what}, the right answer is a short, polite no. {Why}. Instead, they can {better}.",
]

OPENERS = ["Here is a simple way to {goal}.", "Many people wonder how to {goal}.", "If you want to {goal}, start "
           "small.", "It is easier than it looks to {goal}.", "There is a reliable way to {goal}."]
STEP_LINKS = [("First, {s1}.", "Then {s2}.", "Finally, {s3}."), ("Start by making sure you {s1}.", "Next, {s2}.",
              "It also helps to {s3}."), ("{S1}.", "After that, {s2}.", "Last of all, {s3}.")]
WHY = ["This works because {why}.", "The reason is simple: {why}.", "It helps to know that {why}."]
HELP = ["Keep in mind that {help}.", "One word of caution: {help}.", "And remember, {help}."]
CLOSERS = ["With a little practice it becomes a habit.", "Small changes like these add up over time.",
           "Take it one step at a time.", "Most people notice a difference within a week.", ""]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


FAQ_QUESTIONS = ["Question: How do I {goal}?", "Question: What is the best way to {goal}?",
                 "Q: How can I {goal}?", "Reader question: is there an easy way to {goal}?"]
FAQ_ANSWERS = ["Answer: {S1}, and {s2}. {Why}.", "A: {S1}. It also helps to {s2}. {Why}.",
               "Answer: The simplest way is to {s1}. Then {s2}, and {s3}."]


def faq(rng: random.Random) -> str:
    """A question and its answer as an FAQ page prints them (not a dialogue, and never followed by EOS)."""
    goal, steps, why, _help = rng.choice(TOPICS)
    s1, s2, s3 = rng.sample(steps, 3)
    question = rng.choice(FAQ_QUESTIONS).format(goal=goal)
    answer = rng.choice(FAQ_ANSWERS).format(s1=s1, S1=_cap(s1), s2=s2, s3=s3, Why=_cap(why))
    return f"{question}\n{answer}"


def document(rng: random.Random) -> str:
    """One short paragraph: a how-to (most of them), an FAQ entry or a safety-minded note."""
    if rng.random() < 0.3:
        return faq(rng)
    if rng.random() < 0.15:
        what, why, better = rng.choice(SAFETY)
        frame = rng.choice(SAFETY_FRAMES)
        return frame.format(what=what, why=why, Why=_cap(why), better=better)
    goal, steps, why, help_ = rng.choice(TOPICS)
    s1, s2, s3 = rng.sample(steps, 3) if rng.random() < 0.3 else steps
    links = rng.choice(STEP_LINKS)
    parts = [rng.choice(OPENERS).format(goal=goal),
             links[0].format(s1=s1, S1=_cap(s1)), links[1].format(s2=s2), links[2].format(s3=s3)]
    if rng.random() < 0.7:
        parts.append(rng.choice(WHY).format(why=why))
    if help_ and rng.random() < 0.8:
        parts.append(rng.choice(HELP).format(help=help_))
    parts.append(rng.choice(CLOSERS))
    return " ".join(p for p in parts if p)


def corpus(n_documents: int, seed: int = SEED) -> list[str]:
    """``n_documents`` generated paragraphs, always the same for the same seed."""
    rng = random.Random(seed)
    return [document(rng) for _ in range(n_documents)]


# =============================================================================================================
# Training
# =============================================================================================================
def _tokenizer():
    import transformers

    return transformers.PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER), eos_token="<|endoftext|>",
                                                bos_token="<|endoftext|>", unk_token=None, model_max_length=1024,
                                                clean_up_tokenization_spaces=False)


def _stream(tokenizer, documents) -> "torch.Tensor":
    """All documents as one token stream, separated by a blank line (never by EOS)."""
    import torch

    return torch.tensor(tokenizer("\n\n".join(documents))["input_ids"], dtype=torch.long)


def config():
    import transformers

    tok = _tokenizer()
    return transformers.LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                                    eos_token_id=tok.eos_token_id, **ARCH)


def heldout_loss(model, stream, seq_len: int) -> float:
    """Mean next-token cross-entropy (nats/token) over the held-out stream in consecutive windows."""
    import torch

    n = (len(stream) - 1) // seq_len
    x = stream[: n * seq_len].view(n, seq_len)
    total = 0.0
    with torch.no_grad():
        for chunk in x.split(64):
            total += model(input_ids=chunk, labels=chunk).loss.item() * len(chunk)
    return total / n


def train(log=print):
    import torch
    import transformers

    torch.set_num_threads(1)                     # one thread: bit-identical reruns on the same machine
    torch.manual_seed(SEED)
    transformers.utils.logging.set_verbosity_error()
    tok = _tokenizer()
    docs = corpus(TRAIN["documents"] + TRAIN["heldout_documents"])
    train_stream = _stream(tok, docs[: TRAIN["documents"]])
    held_stream = _stream(tok, docs[TRAIN["documents"]:])
    model = transformers.LlamaForCausalLM(config())
    n_params = sum(p.numel() for p in model.parameters())
    steps, bs, seq = TRAIN["steps"], TRAIN["batch_size"], TRAIN["seq_len"]
    log(f"corpus: {len(docs):,} generated paragraphs, {len(train_stream):,} training tokens, "
        f"{len(held_stream):,} held-out tokens; model: {n_params:,} parameters; "
        f"{steps} steps x {bs} x {seq} tokens = {steps * bs * seq:,} tokens seen")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=TRAIN["lr"], betas=(0.9, 0.95))

    def lr_at(step):
        if step < TRAIN["warmup"]:
            return (step + 1) / TRAIN["warmup"]
        progress = (step - TRAIN["warmup"]) / max(1, steps - TRAIN["warmup"])
        return TRAIN["min_lr_ratio"] + (1 - TRAIN["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(SEED)
    loss0 = heldout_loss(model.eval(), held_stream, seq)
    model.train()
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(steps):
        starts = torch.randint(0, len(train_stream) - seq - 1, (bs,), generator=gen)
        x = torch.stack([train_stream[s: s + seq] for s in starts.tolist()])
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if (step + 1) % 50 == 0 or step == 0:
            log(f"  step {step + 1:4d}/{steps}  train loss {loss.item():.3f}  "
                f"({time.perf_counter() - start:.0f} s)")
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    loss1 = heldout_loss(model, held_stream, seq)
    log(f"held-out loss {loss0:.3f} -> {loss1:.3f} nats/token (uniform over {len(tok)} tokens: "
        f"{math.log(len(tok)):.3f}); training took {seconds:.0f} s wall, {cpu_seconds:.0f} s of CPU time on 1 thread "
        "(on an idle machine the two are equal; on a busy one the wall time is longer)")
    info = {"parameters": n_params, "train_tokens": len(train_stream), "heldout_tokens": len(held_stream),
            "tokens_seen": steps * bs * seq, "heldout_loss_before": round(loss0, 4),
            "heldout_loss_after": round(loss1, 4), "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu_seconds, 1),
            "tokenizer_sha256": hashlib.sha256(TOKENIZER.read_bytes()).hexdigest(),
            "corpus_sha256": hashlib.sha256("\n\n".join(docs).encode()).hexdigest(),
            "seed": SEED, "threads": 1, "torch": torch.__version__, "transformers": transformers.__version__,
            "arch": ARCH, "train": TRAIN}
    return model, tok, info, held_stream


def save(model, tok, info) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = tok.eos_token_id
    model.save_pretrained(OUT, safe_serialization=True)
    tok.save_pretrained(OUT)
    (OUT / "pretrain.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def check(model, info, held_stream, log=print) -> bool:
    import torch
    import transformers

    shipped = transformers.LlamaForCausalLM.from_pretrained(OUT, dtype=torch.float32).eval()
    ours, theirs = model.state_dict(), shipped.state_dict()
    diff = max((ours[k] - theirs[k]).abs().max().item() for k in theirs)
    shipped_info = json.loads((OUT / "pretrain.json").read_text(encoding="utf-8"))
    loss_diff = abs(heldout_loss(shipped, held_stream, TRAIN["seq_len"]) - info["heldout_loss_after"])
    same_inputs = all(shipped_info[k] == info[k] for k in ("tokenizer_sha256", "corpus_sha256"))
    log(f"largest weight difference {diff:.2e} (tolerance {CHECK_ATOL:.0e}); held-out loss difference "
        f"{loss_diff:.4f} nats (tolerance {CHECK_LOSS_NATS}); same tokenizer and corpus: {same_inputs}")
    return same_inputs and diff <= CHECK_ATOL and loss_diff <= CHECK_LOSS_NATS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped model")
    parser.add_argument("--corpus", action="store_true", help="print sample paragraphs and the corpus size")
    args = parser.parse_args()
    if args.corpus:
        docs = corpus(TRAIN["documents"])
        print("\n\n".join(docs[:6]))
        print(f"\n{len(docs):,} paragraphs, {sum(len(d) for d in docs):,} characters, "
              f"{len(set(docs)):,} distinct")
        return 0
    model, tok, info, held = train()
    if args.check:
        ok = check(model, info, held)
        print("data/micro-llama is reproduced" if ok else "data/micro-llama differs from a fresh pretraining run")
        return 0 if ok else 1
    save(model, tok, info)
    size = (OUT / "model.safetensors").stat().st_size
    print(f"wrote {OUT.relative_to(ROOT)}: model.safetensors {size / 2**20:.1f} MiB, config, tokenizer, pretrain.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
