"""Pretrain the course micro-model: the quick profile's stand-in for the SmolLM2 ids, with real (learned) weights.

    python scripts/maintainers/pretrain_micro.py          # generate the text, pretrain, write data/micro-llama/
    python scripts/maintainers/pretrain_micro.py --check  # retrain and compare with the shipped weights; writes nothing
    python scripts/maintainers/pretrain_micro.py --corpus # print a sample of the pretraining text and its size, then stop

What it builds: a LlamaForCausalLM with the same classes and module names as SmolLM2 (q_proj, k_proj, v_proj,
o_proj, gate_proj, up_proj, down_proj), grouped-query attention like SmolLM2 (4 query heads share 2 key/value
heads), tied input/output embeddings, and the project's 1,000-token byte-level BPE (data/tokenizer.json).
About 0.7 million parameters, stored in fp32 (about 2.9 MB).

What it learns from: text generated here, at build time, from a grammar and word banks written by the project
(everyday how-to advice, FAQ entries, short explanations, reader letters about everyday problems, loose everyday
sentences, safety-minded notes), advice notes on the course's own topics (COURSE_FRAMES: every everyday and
harmful request of scripts/maintainers/make_data.py, train and test, with its steps or the reasons against it, and the
excuses and "secrecy" phrases the rejected answers are made of - in the second person, as prose, never as a
dialogue or as an answer of the pairs, so that the base model knows the words of BOTH sides of every pair and
its loss on the course's answers is far below a random model's) and keyword lists ("Tags: rumour, tomatoes, glasses, ...") whose single words are
drawn from the vocabulary of the course's TRAINING pairs, in random order (735 of the tokenizer's 1,000 tokens
occur in the text; a LoRA adapter cannot train embedding rows, so the base has to know the answers' tokens). Nothing
is copied from anywhere, and the text
- is prose, FAQ entries ("Question: ... / Answer: ...") and keyword lists, as web pages print them: no
  "Human:"/"Assistant:" dialogue, no chat template. Documents of 3-8 paragraphs (85-800 tokens) are packed into
  one stream, each followed by EOS - the standard separator, as in GPT-2's pretraining. So the base model knows
  the EOS token, but only after a whole document: it writes fluent-looking text in the course's domain and neither
  follows the dialogue format nor stops within an answer's length; notebook 03 (SFT) teaches it both;
- contains none of the course's preference pairs or evaluation prompts (tests/test_micro.py checks this).
The keyword lists read data/hh_pref/train.jsonl, so rerun this script after scripts/maintainers/make_data.py changes it.

Time: 300 steps of 24 x 128 tokens (about 0.9M tokens seen) take about 1 minute of CPU time on one thread
(measured: 65 s of CPU time; 123 s wall-clock on the shared 2-core machine at a load average of ~10; expect about
1-2 minutes on 2 idle cores). It prints both numbers when it finishes.

Deterministic: the text comes from random.Random(SEED), torch is seeded, and training runs on ONE CPU thread
(multi-threaded reductions may add in a different order), so on the same machine and torch build a rerun gives
bit-identical weights. `--check` reports the largest weight difference and passes if it is within CHECK_ATOL
and the held-out loss within CHECK_LOSS_NATS (other CPUs or torch builds may round differently; the
tolerance is stated so a reproduction elsewhere still means something). CI never retrains; it loads the file.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "micro-llama"
TOKENIZER = ROOT / "data" / "tokenizer.json"
SEED = 1234
CHECK_ATOL = 1e-4          # --check: largest allowed |weight difference| against the shipped file
CHECK_LOSS_NATS = 0.02     # --check: largest allowed difference in held-out loss (nats/token)

ARCH = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=256, max_position_embeddings=1024, rope_theta=100000.0, tie_word_embeddings=True,
            hidden_act="silu", rms_norm_eps=1e-5)
TRAIN = dict(documents=3_000, paragraphs=(3, 8), seq_len=128, batch_size=24, steps=300, lr=3e-3, warmup=20,
             weight_decay=0.01, min_lr_ratio=0.1, heldout_documents=80, tags_share=0.2,
             course_share=0.4, course_kinds=dict(steps=3, reasons=3, excuse=0.4, secrecy=0.6))

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


FAQ_QUESTIONS = ["Question: How would you {goal}?", "Question: What is the best way to {goal}?",
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


# =============================================================================================================
# The broad part: explanations, reader letters and everyday sentences from word banks, so the model sees much more of
# the tokenizer's vocabulary in varied plain prose (first and second person, numbers, quotes, semicolons) and does
# not become certain of one narrow grammar. Still no dialogue format and no EOS.
# =============================================================================================================
FACTS = [
    ("why the sky looks blue", "sunlight is scattered by the air, and blue light is scattered much more than red"),
    ("how a fridge keeps food cold", "a pump moves heat from inside the box to the coils at the back"),
    ("why bread rises", "yeast eats sugar and gives off tiny bubbles of gas that get trapped in the dough"),
    ("what a budget is", "a plan for how much money comes in each month and where every pound of it goes"),
    ("how vaccines work", "they show the immune system a harmless copy of a germ so it can react faster later"),
    ("why ice floats", "water expands by about 9% when it freezes, so ice is lighter than the same volume of water"),
    ("what a credit score measures", "how reliably someone has paid back money they borrowed in the past"),
    ("how tides happen", "the Moon's gravity pulls on the oceans, raising the water on the side facing it"),
    ("what a function is in code", "a named block of steps that takes inputs, does some work and returns a result"),
    ("why leaves change colour", "trees stop making green chlorophyll in autumn, so yellow and red pigments show"),
    ("how a bicycle stays upright", "the wheels and small steering corrections keep it balanced while it moves"),
    ("what inflation means", "prices rising over time, so the same amount of money buys a little less each year"),
    ("why we yawn", "nobody is completely sure, although it may help cool the brain and keep us alert"),
    ("how solar panels make power", "light knocks electrons loose in silicon cells, and that flow is a current"),
    ("what a mortgage is", "a long loan used to buy a home, paid back with interest over many years"),
    ("why onions make eyes water", "cutting them releases a gas that turns into a mild acid in your eyes"),
    ("how email travels", "a message is split into small packets that find their own way across the network"),
    ("what protein does in the body", "it builds and repairs muscles, skin and many other tissues"),
    ("why metal feels colder than wood", "metal carries heat away from your hand much faster"),
    ("how a vote is counted", "ballots are sorted by candidate and counted at least twice by different people"),
    ("what a fever is", "a rise in body temperature above about 38 degrees, usually while fighting an infection"),
    ("how a lock and key work", "small pins inside line up only when the right key pushes them to the right height"),
    ("why cats purr", "they purr when they feel content, and sometimes to calm themselves when hurt"),
    ("what a spreadsheet is", "a grid of cells where numbers and formulas update each other automatically"),
    ("how plants drink", "water moves up from the roots through thin tubes as it evaporates from the leaves"),
    ("why batteries run down", "the chemicals inside slowly use up the reaction that pushes electrons around"),
    ("what a recipe's yield is", "the number of portions it makes, which tells you how much to scale it"),
    ("how the heart pumps blood", "four chambers squeeze in turn, about 60 to 100 times a minute at rest"),
    ("why planes leave white trails", "water vapour in the hot exhaust freezes into ice crystals high up"),
    ("what a password manager does", "it stores long, different passwords for every site behind one strong key"),
]
FACT_FRAMES = [
    "Here is a short explanation of {topic}. In a sentence: {fact}.",
    "People often ask {topic}. The short answer is that {fact}.",
    "Did you know? {Fact}. That is {topic}, in plain words.",
    "A teacher once explained {topic} like this: {fact}. Most students remember it after that.",
    "If you have ever wondered {topic}, here it is: {fact}; nothing more complicated than that.",
]
PEOPLE = ["my sister", "my brother", "my neighbour", "my boss", "my flatmate", "my son", "my daughter",
          "my partner", "my friend", "my mum", "my dad", "a colleague", "my landlord", "my teacher"]
PROBLEMS = ["keeps borrowing things without asking", "plays loud music late at night", "is always late",
            "never answers messages", "leaves dishes in the sink for days", "wants to borrow money again",
            "talks over everyone in meetings", "forgets to pay the bills on time", "is spending too much time online",
            "feels anxious about starting a new school", "is nervous about a driving test next week",
            "wants to lose weight but hates running", "is moving to a new city for work"]
ADVICE = ["talk to them calmly at a quiet moment", "explain how it affects you without blaming them",
          "agree on one simple rule together", "write down what you both expect", "give it a week and then "
          "check in again", "ask them what would help", "suggest doing it together the first time",
          "be honest but kind about it", "keep a note of what happens so you can talk about facts",
          "ask a trusted friend for a second opinion"]
LETTER_FRAMES = [
    "A reader wrote in: '{Person} {problem}, and I'm not sure what to do.' The advice was to {a1}, and then {a2}.",
    "'{Person} {problem},' one reader told us. 'What should I do?' Our suggestion: {a1}. It also helps to {a2}.",
    "When {person} {problem}, it is tempting to say nothing. A better idea is to {a1}; after that, {a2}.",
    "I asked a few friends what they'd do if {person} {problem}. Most said to {a1}. One said to {a2}, which "
    "worked well for her.",
]
SUBJECTS = ["Human memory", "Assistant coaches", "Human skin", "Assistant managers", "A good plan", "Your doctor",
            "A small garden", "Every new habit", "The local library", "A quick walk",
            "Most children", "A simple recipe", "The weather", "A clear list", "Older computers", "A good night's "
            "sleep", "Many students", "A friendly neighbour", "The first week", "Some people", "A careful driver",
            "The bus", "Fresh fruit", "A short break", "The team", "My grandmother", "Our landlord", "This year"]
VERBS = ["usually needs", "often depends on", "can change", "rarely takes", "might include", "should start with",
         "does not need", "tends to improve", "always comes with", "makes room for", "could use", "will probably need"]
OBJECTS = ["a little patience", "about 20 minutes", "two or three tries", "fresh water", "a quiet place",
           "clear instructions", "a second opinion", "some extra money", "a spare key", "a good map", "an early "
           "start", "plenty of light", "a free afternoon", "a written list", "a warm coat", "about 5 pounds",
           "a weekly check", "someone to talk to", "the right tools", "a sharp pencil", "100 grams of flour",
           "a phone call", "an honest answer", "a few quiet days"]
TAILS = ["", " in winter", " at the weekend", " before the end of the month", " after a long day", " for most people",
         " when money is tight", " at home", " at work", " on a busy day", " in a new town", " every so often"]
LINKS = [" So ", " Still, ", " That is why ", " On the other hand, ", " In short, ", " Even so, ", " Which means "]


def fact_note(rng: random.Random) -> str:
    topic, fact = rng.choice(FACTS)
    return rng.choice(FACT_FRAMES).format(topic=topic, fact=fact, Fact=_cap(fact))


def letter(rng: random.Random) -> str:
    person = rng.choice(PEOPLE)
    a1, a2 = rng.sample(ADVICE, 2)
    return rng.choice(LETTER_FRAMES).format(person=person, Person=_cap(person), problem=rng.choice(PROBLEMS),
                                            a1=a1, a2=a2)


def everyday(rng: random.Random) -> str:
    """Two to four plain sentences from the word banks (varied, loosely connected, like notes on a blog)."""
    sentences = []
    for i in range(rng.randint(1, 3)):
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}."
        if i and rng.random() < 0.4:
            link = rng.choice(LINKS)
            s = link.strip() + " " + s[0].lower() + s[1:]
        sentences.append(s)
    return " ".join(sentences)


# Keyword lists ("Tags: ...", as blogs and book indexes print them), with single words drawn from the vocabulary of
# the course's TRAINING pairs (data/hh_pref/train.jsonl; never the test split or the evaluation prompts). Only
# words, in random order - no phrase or sentence of the pairs - so the model meets every token the course's
# answers are made of (a LoRA adapter cannot train the embedding rows of tokens the base never saw) without
# seeing any answer.
TAG_FRAMES = ["Tags: {words}.", "Keywords: {words}.", "Related words: {words}.", "Index terms: {words}."]


def _training_words() -> list[str]:
    import re

    words = set()
    for line in (ROOT / "data" / "hh_pref" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        words.update(re.findall(r"[A-Za-z]+(?:'[a-z]+)?|\d+", row.get("chosen", "") + " " + row.get("rejected", "")))
    return sorted(words - {"Human", "Assistant"})


_WORDS: list[str] = []


def tags(rng: random.Random) -> str:
    if not _WORDS:
        _WORDS.extend(_training_words())
    return rng.choice(TAG_FRAMES).format(words=", ".join(rng.sample(_WORDS, rng.randint(4, 10))))


# The course's topics (scripts/maintainers/make_data.py: every everyday and harmful request of train AND test), as advice
# prose in the second person - never as a dialogue, never an answer of the pairs - so the base model knows the words
# of both sides of every pair: the steps of everyday advice and the excuses of an unhelpful reply, the reasons
# against a harmful plan and the "secrecy" of going along with it. How often each kind comes (TRAIN["course_kinds"])
# sets how familiar each side is: a topic's steps or reasons are its own, while the excuses and secrecy phrases are a
# few stock phrases shared by every topic, so with weights 3, 3, 1, 1 the base model found the rejected side more
# likely on most held-out pairs (0.135 preference accuracy, measured on an earlier version of this text). The stock phrases come less often (0.4 and 0.6 against
# 3), chosen by measuring: the base is then near chance on the held-out pairs (0.458, measured), as a
# small base model is on HH-RLHF. tests/test_micro.py re-measures it.
COURSE_FRAMES = {
    "steps": ["If you want to {g}, {s1}; then {s2}.", "A good way to {g}: {s1}, and {s2}.",
              "Want to {g}? Most people {s1} and then {s2}."],
    "excuse": ["Ask a busy friend how to {g} and you may hear that {x}. {b}", "Not everyone will help you {g}. Some "
               "say that {x}. {b}", "When you ask how to {g}, a lazy reply is that {x}. {b}"],
    "reasons": ["If you want to {g}, think again: {w}. {alt}", "Before you {g}, remember that {w}. {alt}",
                "Anyone tempted to {g} should know that {w}. {alt}"],
    "secrecy": ["Someone who wants to {g} will often {s1} and {s2}.", "People who {g} tend to {s1}, then {s2}.",
                "In the story, the plan to {g} was simple: {s1}, and {s2}."],
}
_COURSE: dict = {}


def _course_banks() -> dict:
    if not _COURSE:
        spec = importlib.util.spec_from_file_location("make_data", ROOT / "scripts" / "maintainers" / "make_data.py")
        md = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(md)
        _COURSE.update(md=md, everyday=md.everyday_topics(md.EVERYDAY_TRAIN) + md.everyday_topics(md.EVERYDAY_TEST),
                       harmful=md.harmful_topics(md.GEN_TRAIN_REQUESTS + md.GEN_TEST_REQUESTS
                                                 + md.EXTRA_TEST_REQUESTS))
    return _COURSE


def course_note(rng: random.Random) -> str:
    c = _course_banks()
    md = c["md"]
    kind = rng.choices(sorted(COURSE_FRAMES), weights=[TRAIN["course_kinds"][k] for k in sorted(COURSE_FRAMES)])[0]
    frame = rng.choice(COURSE_FRAMES[kind])
    if kind in ("steps", "excuse"):
        goal, s1, s2 = rng.choice(c["everyday"])
        text = frame.format(g=md.you(goal), s1=s1, s2=s2, x=rng.choice(md.EXCUSES), b=rng.choice(md.BRUSH_OFFS))
    else:
        goal, w, alt = rng.choice(c["harmful"])
        s1, s2 = rng.sample(md.SNEAKY, 2)
        text = frame.format(g=md.you(goal), w=w, alt=alt, s1=s1, s2=s2)
    return _cap(text)


def document(rng: random.Random) -> str:
    """One short paragraph: an explanation, a reader letter, everyday sentences, an FAQ entry, a safety-minded
    note or a how-to."""
    kind = rng.random()
    if kind < TRAIN["tags_share"]:
        return tags(rng)
    if rng.random() < TRAIN["course_share"]:
        return course_note(rng)
    kind = rng.random()
    if kind < 0.25:
        return fact_note(rng)
    if kind < 0.45:
        return letter(rng)
    if kind < 0.7:
        return everyday(rng)
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
    """``n_documents`` generated documents (each PARAGRAPHS[0]-PARAGRAPHS[1] paragraphs separated by blank lines,
    like a web page), always the same for the same seed."""
    rng = random.Random(seed)
    lo, hi = TRAIN["paragraphs"]
    return ["\n\n".join(document(rng) for _ in range(rng.randint(lo, hi))) for _ in range(n_documents)]


# =============================================================================================================
# Training
# =============================================================================================================
def _tokenizer():
    import transformers

    return transformers.PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER), eos_token="<|endoftext|>",
                                                bos_token="<|endoftext|>", unk_token=None, model_max_length=1024,
                                                clean_up_tokenization_spaces=False)


def _stream(tokenizer, documents) -> "torch.Tensor":
    """All documents as one token stream, each followed by EOS: standard packing, with EOS as the document
    separator (as GPT-2 was pretrained). EOS comes only after a whole document of several paragraphs, so the base
    model knows the token but does not say it after one short answer."""
    import torch

    ids = []
    for row in tokenizer(documents)["input_ids"]:
        ids += row + [tokenizer.eos_token_id]
    return torch.tensor(ids, dtype=torch.long)


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
    log(f"corpus: {len(docs):,} generated documents, {len(train_stream):,} training tokens, "
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
    parser.add_argument("--corpus", action="store_true", help="print sample documents and the corpus size")
    args = parser.parse_args()
    if args.corpus:
        docs = corpus(TRAIN["documents"])
        print("\n\n".join(docs[:6]))
        print(f"\n{len(docs):,} documents, {sum(len(d) for d in docs):,} characters, "
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
