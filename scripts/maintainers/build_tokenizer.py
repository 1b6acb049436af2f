"""Rebuild data/tokenizer.json: the quick profile's small byte-level BPE, trained on the course's own text.

    python scripts/maintainers/build_tokenizer.py          # writes data/tokenizer.json
    python scripts/maintainers/build_tokenizer.py --check  # exit 1 if the committed file differs from a fresh build

Byte-level: any text encodes (unknown characters fall back to bytes), like the GPT-2/Pythia/SmolLM2 tokenizers.
Special tokens come first with fixed ids, as in the real tokenizers the stand-ins imitate.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "tokenizer.json"
VOCAB_SIZE = 1000
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>"]


def corpus() -> list[str]:
    """Every string of the course data, in a fixed order."""
    texts = []
    for split in ("train", "test"):
        for line in (ROOT / "data" / "hh_pref" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [row["chosen"], row["rejected"]]
    prompts = json.loads((ROOT / "data" / "eval_prompts.json").read_text(encoding="utf-8"))
    texts += prompts["plain"] + prompts["harmful"] + [p for g in prompts["rephrase_groups"] for p in g["prompts"]]
    return texts


def build() -> str:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer=trainer)
    return tok.to_str(pretty=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    text = build()
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("data/tokenizer.json is up to date" if same else "data/tokenizer.json differs from a fresh build")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {VOCAB_SIZE:,} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
