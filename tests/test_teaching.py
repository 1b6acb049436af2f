"""The teacher guide (TEACHING.md) stays honest: it covers every notebook, answers every hand-in question the
notebooks ask today, and every exact number it states is recomputed here from the kit itself.

How the guide marks things, so that this file can check them:
- each notebook has a section headed ``## NN · ...``;
- each "What to hand in" item is quoted as ``> **Hand-in N.** <the item's text, as in the notebook>``,
  followed by its answer; the quote must equal the notebook's text, so a changed question fails here;
- an exact number (a count, bytes, T4 minutes) carries a key right after it: ``393,216<!--#n02_pythia70m_r8-->``;
  ``expected_numbers()`` recomputes every key - with the helpers, the notebooks' config cells and the
  notebooks' own functions (tests/nbcode.py) - and the text must match. A number with thousands separators,
  or followed by a byte unit or "min", that carries no key fails too: the guide either proves it or omits it.

``python tests/test_teaching.py`` prints every key with its value, and the hand-in quotes in the guide's format
(use it to update TEACHING.md after a notebook changed).
"""
from __future__ import annotations

import functools
import math
import re
import sys
from pathlib import Path

import nbformat
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))   # helpers, when run as a script
import nbcode  # noqa: E402  (tests/nbcode.py: a notebook's definitions, run outside the notebook)

from helpers.env import REPO_ROOT as ROOT   # the repository root, defined once (helpers/env.py)
GUIDE = ROOT / "TEACHING.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PREAMBLE = "import math\nimport torch\nimport helpers\nprofile = helpers.Profile('full')\n"
TAG = re.compile(r"<!--#([\w.]+)-->")
GIB = 2**30


def _guide() -> str:
    assert GUIDE.exists(), "TEACHING.md is missing at the repository root"
    return GUIDE.read_text(encoding="utf-8")


def _number(notebook: str) -> str:
    return notebook[:2]


def _sections(text: str) -> dict[str, str]:
    """{'00': the text of section '## 00 · ...', ...}."""
    parts = re.split(r"^## (\d\d) · ", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _normalise(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def hand_in_items(path: Path) -> list[str]:
    """The numbered items of a notebook's "What to hand in" list, each joined into one line."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "## What to hand in" in cell.source:
            block = cell.source.split("## What to hand in", 1)[1]
            block = re.split(r"^\*\*(?:Next|Back to)|^## ", block, flags=re.M)[0]
            items = re.split(r"^\d+\. ", block.strip(), flags=re.M)
            return [_normalise(item) for item in items if item.strip()]
    raise AssertionError(f"{path.name} has no 'What to hand in' section")


# ---------------------------------------------------------------------------------------------------------------
# Every exact number of the guide, recomputed
# ---------------------------------------------------------------------------------------------------------------

def _count(n: float) -> str:
    return f"{int(n):,}"


def _minutes(m: float) -> str:
    return f"{m:.1f} min"


@functools.lru_cache(maxsize=None)
def _params(model_id: str) -> int:
    import helpers
    return helpers.count_parameters(helpers.build_model(model_id, device="meta"))[1]


def _config(notebook: str, *names: str) -> dict:
    """Full-profile values of a notebook's config cell (only the requested assignments run)."""
    return nbcode.definitions(notebook, *names, preamble=PREAMBLE)


def _readme_quick_times() -> dict[str, str]:
    """{'00': '8-61 s', ...}: the fastest idle and the slowest loaded time of the README's quick-profile table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### How long the quick profile takes", 1)[1]
    times = {}
    for line in table.splitlines():
        match = re.match(r"\| (\d\d) [^|]+\| (\d+) s \| ([\d-]+) s", line)
        if match:
            numbers = [int(match.group(2))] + [int(x) for x in match.group(3).split("-")]
            times[match.group(1)] = f"{min(numbers)}-{max(numbers)} s"
    assert times, "README.md's quick-profile table ('| 00 setup | 8 s | 14-61 s |') was not found or changed format"
    return times


@functools.lru_cache(maxsize=None)
def expected_numbers() -> dict[str, str]:
    """key -> the text TEACHING.md must show for it."""
    import helpers
    from helpers.memory import estimate_memory

    smol, smol135, tiny = "HuggingFaceTB/SmolLM2-360M", "HuggingFaceTB/SmolLM2-135M-Instruct", "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    n_smol, n_tiny = _params(smol), _params(tiny)
    fp16, fp32 = torch.float16, torch.float32
    out: dict[str, str] = {"t4_usable": f"{helpers.budget.T4_USABLE_GIB:g} GiB"}

    # the README's times (notebook metadata -> README table) and its quick-profile measurements
    quick = _readme_quick_times()
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        out[f"t4_{_number(path.name)}"] = nb.metadata["course"]["t4_minutes"]
        out[f"quick_{_number(path.name)}"] = quick[_number(path.name)]

    # 00
    out["n00_params"] = _count(_params(smol135))

    # 01
    c = _config("01_lora-from-scratch.ipynb", "R", "ALPHA", "DROPOUT", "MAX_STEPS", "BATCH_SIZE", "MAX_LENGTH", "LR")
    plan = estimate_memory(smol, "lora", r=c["R"], batch_size=c["BATCH_SIZE"], seq_len=c["MAX_LENGTH"],
                           weight_dtype=fp32, compute_dtype=fp16, lora_dropout=c["DROPOUT"])
    tokens = 2 * c["MAX_STEPS"] * c["BATCH_SIZE"] * c["MAX_LENGTH"]
    meta = helpers.build_model(smol, device="meta")
    up = meta.get_submodule("model.layers.0.mlp.up_proj")
    lora_smol = plan.trainable
    out.update({
        "n01_params": _count(n_smol), "n01_lora": _count(lora_smol),
        "n01_lora_pct": f"{100 * lora_smol / (n_smol + lora_smol):.2f}%",
        "n01_fp32_weights": helpers.fmt_bytes(4 * n_smol), "n01_adapter_bytes": helpers.fmt_bytes(16 * lora_smol),
        "n01_step_memory": helpers.fmt_bytes(plan.total), "n01_train_tokens": _count(tokens),
        "n01_t4_minutes": _minutes(helpers.t4_minutes(helpers.flops_per_token(n_smol, kind="lora") * tokens)),
        "n01_upproj_full": _count(up.in_features * up.out_features),
        "n01_upproj_lora": _count(c["R"] * (up.in_features + up.out_features)),
        "n01_wrapped": _count(7 * meta.config.num_hidden_layers),
        "n01_trap_scaling": f"{4096 / c['R']:g}", "n01_trap_lr": f"{c['LR'] / 128:g}",
    })
    for key, model_id in [("pythia410m", "EleutherAI/pythia-410m"), ("qwen05", "Qwen/Qwen2.5-0.5B")]:
        est = estimate_memory(model_id, "lora", r=c["R"])
        out[f"n01_{key}_lora"] = _count(est.trainable)

    # 02
    ns = nbcode.definitions("02_what-lora-saves.ipynb", "lora_count", "predicted_trainable", "largest_batch",
                            preamble=PREAMBLE)
    pythia70 = helpers.build_model("EleutherAI/pythia-70m", device="meta")
    p70_targets = helpers.lora_targets("EleutherAI/pythia-70m")
    for r in (2, 4, 8, 16):
        out[f"n02_pythia70m_r{r}"] = _count(ns["lora_count"](pythia70, p70_targets, r))
    p70_r8 = ns["lora_count"](pythia70, p70_targets, 8)
    out["n02_pythia70m_r8_pct"] = f"{100 * p70_r8 / (_params('EleutherAI/pythia-70m') + p70_r8):.2f}%"
    pythia160 = helpers.build_model("EleutherAI/pythia-160m", device="meta")
    p160 = ns["lora_count"](pythia160, ["query_key_value"], 8)
    out["n02_pythia160m_qkv_pct"] = f"{100 * p160 / (_params('EleutherAI/pythia-160m') + p160):.2f}%"
    out["n02_ex1"] = _count(ns["predicted_trainable"]())
    qwen = helpers.build_model("Qwen/Qwen2.5-0.5B", device="meta")
    assert ns["predicted_trainable"]() == ns["lora_count"](qwen, ["q_proj", "v_proj"], 8)
    for ckpt, key in [(False, "n02_ex3_batch"), (True, "n02_ex3_batch_ckpt")]:
        out[key] = _count(ns["largest_batch"](smol, "lora", 512, helpers.budget.T4_USABLE_GIB, r=16, checkpointing=ckpt))
    for model_id, key in [("EleutherAI/pythia-70m", "pythia70m"), ("EleutherAI/pythia-160m", "pythia160m"),
                          (smol, "smol360m"), (tiny, "tinyllama"), ("EleutherAI/pythia-1.4b", "pythia14b")]:
        full, lora = (estimate_memory(model_id, m, r=16, batch_size=8, seq_len=512).peak for m in ("full", "lora"))
        out[f"n02_saving_{key}_b8"] = f"{1 - lora / full:.0%}"
    plans = {name: estimate_memory(smol, m, r=16, batch_size=8, seq_len=512, checkpointing=ck, lora_dropout=0.05)
             for name, m, ck in [("full", "full", False), ("lora", "lora", False), ("lora_ckpt", "lora", True),
                                 ("qlora", "qlora", False)]}
    for name, est in plans.items():
        out[f"n02_total_{name}"] = helpers.fmt_bytes(est.total)
    out["n02_lora_activations"] = helpers.fmt_bytes(plans["lora"].activations)
    out["n02_lora_ckpt_activations"] = helpers.fmt_bytes(plans["lora_ckpt"].activations)
    out["n02_lora_activation_share"] = f"{plans['lora'].activations / plans['lora'].total:.0%}"
    out["n02_tinyllama_16_bytes"] = helpers.fmt_bytes(16 * n_tiny)
    out["n02_logits_bytes"] = helpers.fmt_bytes(12 * 8 * 512 * meta.config.vocab_size)

    # 03
    c = _config("03_sft.ipynb", "MAX_STEPS", "BATCH_SIZE", "GRAD_ACCUM", "MAX_LENGTH", "SAVE_STEPS", "EVAL_STEPS",
                "DISCONNECT_AT", "EVAL_PAIRS", "CHECKPOINTING")
    effective = c["BATCH_SIZE"] * c["GRAD_ACCUM"]
    resume = c["DISCONNECT_AT"] // c["SAVE_STEPS"] * c["SAVE_STEPS"]
    steps_run = c["DISCONNECT_AT"] + c["MAX_STEPS"] - resume
    evals_run = c["DISCONNECT_AT"] // c["EVAL_STEPS"] + c["MAX_STEPS"] // c["EVAL_STEPS"] - resume // c["EVAL_STEPS"]
    half = c["SAVE_STEPS"] // 2
    sft = nbcode.definitions("03_sft.ipynb", "sft_flops", "lora_step_memory", preamble=PREAMBLE)
    upper = sft["sft_flops"](n_smol, train_tokens=steps_run * effective * c["MAX_LENGTH"],
                             eval_tokens=evals_run * c["EVAL_PAIRS"] * c["MAX_LENGTH"], checkpointing=c["CHECKPOINTING"])
    out.update({
        "n03_sequences": _count(c["MAX_STEPS"] * effective), "n03_resume_step": _count(resume),
        "n03_redone": _count(c["DISCONNECT_AT"] - resume), "n03_steps_run": _count(steps_run),
        "n03_evals_run": _count(evals_run), "n03_half_save": _count(half),
        "n03_half_redone": _count(c["DISCONNECT_AT"] - c["DISCONNECT_AT"] // half * half),
        "n03_upper_minutes": _minutes(helpers.t4_minutes(upper)),
        "n03_fp32_extra": helpers.fmt_bytes(2 * n_smol), "n03_adapter_bytes": helpers.fmt_bytes(4 * lora_smol),
    })
    for batch, ckpt, key in [(c["BATCH_SIZE"], True, "n03_memory_ckpt"), (c["BATCH_SIZE"], False, "n03_memory_plain"),
                             (2 * c["BATCH_SIZE"], True, "n03_memory_ckpt_b16"),
                             (2 * c["BATCH_SIZE"], False, "n03_memory_plain_b16")]:
        out[key] = helpers.fmt_bytes(sft["lora_step_memory"](smol, batch, c["MAX_LENGTH"], ckpt).total)

    # 04
    c = _config("04_dpo.ipynb", "MAX_STEPS", "BATCH_PAIRS", "GRAD_ACCUM", "MAX_LENGTH", "EVAL_STEPS", "TEST_ROWS",
                "SEEN_PAIRS", "PROBE_PAIRS", "SCRATCH_PAIRS", "SCRATCH_STEPS", "SWEEP_BETAS", "SWEEP_STEPS",
                "CHECKPOINTING", "TRAIN_ROWS")
    dpo = nbcode.definitions("04_dpo.ipynb", "t4_plan", "lora_step_memory", preamble=PREAMBLE)
    pairs = c["BATCH_PAIRS"] * c["GRAD_ACCUM"]
    step = dpo["lora_step_memory"](smol, 2 * c["BATCH_PAIRS"], c["MAX_LENGTH"], c["CHECKPOINTING"], fp16)
    sizes = dict(max_steps=c["MAX_STEPS"], pairs_per_step=pairs, eval_steps=c["EVAL_STEPS"], n_test=c["TEST_ROWS"],
                 n_seen=c["SEEN_PAIRS"], probe_pairs=c["PROBE_PAIRS"], demo_pairs=c["BATCH_PAIRS"],
                 scratch_pairs=c["SCRATCH_PAIRS"],
                 scratch_steps=c["SCRATCH_STEPS"] + 1 + len(c["SWEEP_BETAS"]) * (c["SWEEP_STEPS"] + 1) + 6,
                 checkpointing=c["CHECKPOINTING"])
    upper = dpo["t4_plan"](n_smol, **sizes, train_len=c["MAX_LENGTH"], eval_len=c["MAX_LENGTH"], demo_len=c["MAX_LENGTH"])
    out.update({
        "n04_pairs_per_step": _count(pairs), "n04_sequences_per_step": _count(2 * pairs),
        "n04_pairs_seen": _count(c["MAX_STEPS"] * pairs), "n04_train_rows": _count(c["TRAIN_ROWS"]),
        "n04_step_memory": helpers.fmt_bytes(step.total), "n04_copy_bytes": helpers.fmt_bytes(step.weights),
        "n04_adapter_bytes": helpers.fmt_bytes(4 * step.trainable),
        "n04_upper_minutes": _minutes(helpers.t4_minutes(sum(upper.values()))),
        "n04_band": f"{2 * math.sqrt(0.25 / c['TEST_ROWS']):.2f}",
    })

    # 05
    c = _config("05_orpo.ipynb", "SFT", "SFT_STEPS", "SFT_SEQUENCES_PER_STEP", "DPO", "DPO_STEPS", "DPO_PAIRS_PER_STEP",
                "BATCH_PAIRS", "GRAD_ACCUM", "PAIRS_PER_STEP", "SFT_DPO_SEQUENCES", "MAX_STEPS", "MAX_LENGTH",
                "LAMBDA", "CHECKPOINTING", "EVAL_STEPS", "TEST_ROWS")
    vocab = meta.config.vocab_size
    orpo_tokens = c["MAX_STEPS"] * c["PAIRS_PER_STEP"] * 2 * c["MAX_LENGTH"]
    orpo_eval = (c["MAX_STEPS"] // c["EVAL_STEPS"] + 1) * c["TEST_ROWS"] * 2 * c["MAX_LENGTH"]
    orpo_flops = (orpo_tokens * helpers.flops_per_token(n_smol, kind="lora", checkpointing=c["CHECKPOINTING"])
                  + orpo_eval * helpers.flops_per_token(n_smol, kind="forward"))
    out.update({
        "n05_sft_sequences": _count(c["SFT_STEPS"] * c["SFT_SEQUENCES_PER_STEP"]),
        "n05_dpo_sequences": _count(c["DPO_STEPS"] * 2 * c["DPO_PAIRS_PER_STEP"]),
        "n05_sequences": _count(c["SFT_DPO_SEQUENCES"]), "n05_steps": _count(c["MAX_STEPS"]),
        "n05_sequences_per_step": _count(2 * c["PAIRS_PER_STEP"]), "n05_vocab": _count(vocab),
        "n05_ln_v": f"{math.log(vocab):.2f}", "n05_uniform_loss": f"{math.log(vocab) + c['LAMBDA'] * math.log(2):.2f}",
        "n05_upper_minutes": _minutes(helpers.t4_minutes(orpo_flops)),
        "n05_memory": helpers.fmt_bytes(estimate_memory(smol, "lora", r=16, batch_size=2 * c["BATCH_PAIRS"],
                                                        seq_len=c["MAX_LENGTH"], checkpointing=c["CHECKPOINTING"],
                                                        weight_dtype=fp32, compute_dtype=fp16).total),
    })

    # 06
    ev = nbcode.definitions("06_evaluation.ipynb", "full_profile_minutes", preamble=PREAMBLE)
    parts = ev["full_profile_minutes"]()
    c = _config("06_evaluation.ipynb", "TEST_PAIRS", "GEN_PROMPTS")
    out.update({
        "n06_minutes": _minutes(sum(parts.values())),
        "n06_generation_minutes": _minutes(parts["generation (greedy + samples)"]),
        "n06_judge_minutes": _minutes(parts["judge"]),
        "n06_pairs": _count(c["TEST_PAIRS"]), "n06_prompts": _count(c["GEN_PROMPTS"]),
        "n06_band": f"{2 * math.sqrt(0.25 / c['TEST_PAIRS']):.2f}",
    })

    # 07
    c = nbcode.definitions("07_two-gpus.ipynb", "SFT", "PROCESSES", "EFFECTIVE_BATCH", "BATCH_SIZE", "TRAIN_PAIRS",
                           "MAX_STEPS", "MAX_LENGTH", preamble=PREAMBLE + "RUN_PROFILE = profile\n")  # on 2 GPUs
    ddp = nbcode.definitions("07_two-gpus.ipynb", "data_parallel_plan", "per_gpu_bytes", preamble=PREAMBLE)
    accum_one, epoch = ddp["data_parallel_plan"](c["EFFECTIVE_BATCH"], c["BATCH_SIZE"], 1, c["TRAIN_PAIRS"], 1)
    accum_two, _ = ddp["data_parallel_plan"](c["EFFECTIVE_BATCH"], c["BATCH_SIZE"], c["PROCESSES"], c["TRAIN_PAIRS"], 1)
    run_tokens = c["MAX_STEPS"] * c["EFFECTIVE_BATCH"] * c["MAX_LENGTH"]
    one_t4 = helpers.t4_minutes(run_tokens * helpers.flops_per_token(n_smol, kind="lora", checkpointing=True))
    out.update({"n07_accum_one": _count(accum_one), "n07_accum_two": _count(accum_two),
                "n07_epoch_steps": _count(epoch), "n07_tokens": _count(run_tokens),
                "n07_train_pairs": _count(c["TRAIN_PAIRS"]),
                "n07_micro_one": _count(c["MAX_STEPS"] * accum_one),
                "n07_micro_rank": _count(c["MAX_STEPS"] * accum_two),
                "n07_one_t4": _minutes(one_t4), "n07_two_t4": _minutes(one_t4 / c["PROCESSES"])})
    per_gpu = ddp["per_gpu_bytes"]
    for model_id, key in [(smol, "smol360m"), (tiny, "tinyllama"), ("Qwen/Qwen2.5-0.5B", "qwen05")]:
        for method in ("full", "lora"):
            est = estimate_memory(model_id, method, r=16, batch_size=8, seq_len=512, checkpointing=True,
                                  weight_dtype=fp32, compute_dtype=fp16)
            out[f"n07_{key}_{method}_1gpu"] = helpers.fmt_bytes(est.total)
            out[f"n07_{key}_{method}_zero3_4"] = helpers.fmt_bytes(per_gpu(est, 4, 3))
            fits = [n for n in range(1, 65) if per_gpu(est, n, 3) <= helpers.budget.T4_USABLE_GIB * GIB]
            out[f"n07_{key}_{method}_min_t4s"] = _count(fits[0]) if fits else "none up to 64"
        block = sum(p.numel() for p in helpers.build_model(model_id, device="meta").model.layers[0].parameters())
        out[f"n07_{key}_block"] = _count(block)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_its_section(path):
    section = _sections(_guide()).get(_number(path.name))
    assert section is not None, f"TEACHING.md has no section '## {_number(path.name)} · ...' for {path.name}"
    for part in ("### Learning outcomes", "### Time", "### Where students get stuck", "### Hand-in answers",
                 "### Exercises: written parts outside the hand-in list", "### Rubric"):
        assert part in section, f"section {_number(path.name)} of TEACHING.md lacks '{part}'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_hand_in_question_is_answered(path):
    """Each item of the notebook's 'What to hand in' is quoted word for word and followed by an answer."""
    items = hand_in_items(path)
    section = _sections(_guide()).get(_number(path.name), "")
    answers = section.split("### Hand-in answers", 1)[-1].split("\n### ", 1)[0]
    quoted = re.findall(r"^> \*\*Hand-in (\d+)\.\*\* (.+?)\n(?!>)(.*?)(?=^> \*\*Hand-in |\Z)", answers, flags=re.M | re.S)
    found = {int(n): (_normalise(q), a.strip()) for n, q, a in quoted}
    assert sorted(found) == list(range(1, len(items) + 1)), (
        f"{path.name} asks {len(items)} hand-in items; TEACHING.md answers {sorted(found)}")
    for n, item in enumerate(items, 1):
        quote, answer = found[n]
        assert quote == item, (f"{path.name}, hand-in item {n} changed; update its answer in TEACHING.md. The "
                               f"notebook now asks:\n> **Hand-in {n}.** {item}")
        assert len(answer) >= 80, f"{path.name}, hand-in item {n}: the answer in TEACHING.md is missing or too short"
        for letter in re.findall(r"\(([a-e])\) ", item):   # (a), (b), ... each answered on its own
            assert f"({letter})" in answer, f"{path.name}, hand-in item {n}: part ({letter}) is not answered"


def test_every_exact_number_is_recomputed():
    text = _guide()
    expected = expected_numbers()
    tags = list(TAG.finditer(text))
    assert tags, "TEACHING.md states no checked number"
    wrong = []
    for tag in tags:
        key, before = tag.group(1), text[:tag.start()]
        if key not in expected:
            wrong.append(f"{key}: no such key in expected_numbers()")
        elif not before.endswith(expected[key]):
            wrong.append(f"{key}: the guide says {before[-40:]!r}, the kit gives {expected[key]!r}")
    assert not wrong, "numbers in TEACHING.md that the kit does not give:\n" + "\n".join(wrong)
    untagged = TAG.sub("\x00", text)
    for key in sorted(expected, key=lambda k: -len(expected[k])):   # drop each checked value with its tag
        untagged = untagged.replace(expected[key] + "\x00", "")
    untagged = re.sub(r"`[^`]*`", "", untagged)   # code and file names are not claims
    claims = re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)? ?(?:KiB|MiB|GiB|GB|min\b)", untagged)
    assert not claims, ("exact numbers in TEACHING.md without a recomputed key (tag them, or leave them out): "
                        + ", ".join(claims))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_rubric_gives_twenty_points(path):
    """The rows of a notebook's rubric table, bonus rows left out, add up to the 20 points the guide promises."""
    section = _sections(_guide()).get(_number(path.name), "")
    rubric = section.split("### Rubric", 1)[-1].split("\n---", 1)[0]
    points = [re.match(r"\| [^|]+ \| ([^|]+) \|", row).group(1).strip()
              for row in rubric.splitlines() if row.startswith("| ") and not row.startswith("| item")]
    required = [float(p) for p in points if not p.startswith("bonus")]
    assert required and sum(required) == 20, f"section {_number(path.name)}: the rubric adds up to {sum(required)}"


def test_no_reference_to_internal_notes():
    text = _guide().lower()
    for phrase in ("../shared", "shared/", "course notes", "course_notes", "stack_notes", "homework reports",
                   "style.md"):
        assert phrase not in text, f"TEACHING.md refers to {phrase!r}, which teachers do not have"


def test_the_builds_are_named():
    text = _guide()
    for command in ("python scripts/teachers/build_student.py", "python scripts/teachers/grade.py", "python scripts/teachers/build_slides.py"):
        assert command in text, f"TEACHING.md does not name `{command}`"


if __name__ == "__main__":   # print what the guide may state, and the current hand-in quotes
    for key, value in expected_numbers().items():
        print(f"{key:32s} {value}")
    for path in NOTEBOOKS:
        print(f"\n## {_number(path.name)}")
        for n, item in enumerate(hand_in_items(path), 1):
            print(f"> **Hand-in {n}.** {item}")
