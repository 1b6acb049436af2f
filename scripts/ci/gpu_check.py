"""Check on a GPU what the CPU rehearsal cannot: fp16 loss scaling, SDPA kernels, bitsandbytes 4-bit, peak memory.

    python scripts/ci/gpu_check.py        # a few minutes on a T4; prints PASS/FAIL per check, exits 1 on any FAIL

The CPU rehearsal (scripts/ci/rehearse.py, COURSE_CPU_BF16=1) runs every notebook's code path, including bf16
autocast. What only a CUDA GPU has is checked here, offline (real-size models with random weights, tiny stand-ins):

1. precision   helpers.precision() picks fp16 on a T4 (no native bf16), bf16 from compute capability 8.
2. fp16 scaler fp16 autocast + GradScaler trains fp32 LoRA weights with finite losses and a finite scale; fp16
               trainable weights fail the way the README's troubleshooting says ("Attempting to unscale FP16
               gradients").
3. sdpa        a fused scaled-dot-product-attention kernel (memory-efficient or flash) exists for the course's
               shapes (grouped-query attention, fp16) and matches the math kernel; the memory model assumes one.
4. 4-bit       bitsandbytes NF4 loads a model (Linear4bit layers), LoRA on it trains a step under fp16 scaling, and
               helpers.train.trainable_to_fp32 undoes TRL's bf16 cast of the adapter (the T4 trap of 04).
5. memory      a real-size SmolLM2-360M LoRA step (8 x 512 tokens): measured CUDA peak within 10% of
               helpers.estimate_memory, and it fits the T4's usable 15 GiB. Its speed is the timing yardstick.
6. orpo fp16   05's trainer - TRL's ORPOTrainer, a LoRA PeftModel on an fp32 base - trains under fp16 autocast with
               accelerate's GradScaler: finite loss, nll_loss and log_odds_ratio, a finite loss scale, the adapter
               moved and still fp32.
7. reward fp16 06's reward model (the id in 06's config cell, from the Hub; a random stand-in when there is no
               network, said so) scores held-out chosen/rejected answers in fp32 and in fp16: every fp16 score
               finite, and the same verdict (chosen above rejected or not) on every pair whose fp32 margin is
               larger than the tolerance.
8. judge fp16  06's judge the same way: log P("A") - log P("B") after a judging prompt, in both answer orders,
               fp32 against fp16.
9. ddp nccl    07's script (scripts/students/ddp_sft.py) as 2 processes over NCCL when two GPUs are visible (Kaggle's
               2 x T4): both ranks in one DistributedDataParallel group on the nccl backend, the same finite losses.
               On one GPU it is skipped with a note (07 then runs its two-process lesson on CPU processes).
Then one timing line per notebook: the README's T4 column (the notebooks' own estimates at an assumed 8 TFLOP/s,
helpers.budget) next to what the speed measured here (check 5) makes of it, and each check's own time.

Without CUDA it says "no CUDA", lists the checks as skipped and exits 0: there is nothing to check.
``--cpu-rehearsal`` runs checks 6-8 on the CPU (bf16 for fp16, no loss scaler, quick stand-ins) - what the test
suite does, so their code has run before it meets a GPU.
"""
from __future__ import annotations

import ast
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")   # ORPO lives in trl.experimental; importing it warns
import torch  # noqa: E402

# The root computed here, not imported: this runs on a Colab/Kaggle T4 where the kit is not installed (README).
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import helpers  # noqa: E402

MODEL_ID = "HuggingFaceTB/SmolLM2-360M"
REHEARSAL = "--cpu-rehearsal" in sys.argv      # checks 6-8 on the CPU: bf16 for fp16, no scaler, stand-ins
DEVICE = "cpu" if REHEARSAL else "cuda"
HALF = torch.bfloat16 if REHEARSAL else torch.float16
NOTES: list[str] = []                           # said once under the results (a stand-in used, a check skipped)
MEASURED: dict[str, float] = {}                 # speeds the timing lines use
REWARD_TOL = JUDGE_TOL = 0.1                    # fp32 margins below this (reward units / nats) may flip in fp16


def _tiny(dtype=torch.float32):
    """The quick profile's tiny Llama-style stand-in on the GPU (real module names, random weights)."""
    return helpers.load_model(MODEL_ID, "quick", dtype=dtype, device="cuda")


def _step(model, optimizer, scaler, ids, dtype):
    with torch.autocast("cuda", dtype=dtype):
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def check_precision():
    prec, (major, minor) = helpers.precision(), torch.cuda.get_device_capability(0)
    want = "bf16" if major >= 8 else "fp16"
    assert prec.name == want, f"capability {major}.{minor}: precision() chose {prec.name}, expected {want}"
    assert prec.trainer_args == {"fp16": want == "fp16", "bf16": want == "bf16"}
    return f"capability {major}.{minor} -> {prec}"


def check_fp16_scaler():
    from peft import get_peft_model

    model = get_peft_model(_tiny(torch.float16), helpers.train.lora_config(MODEL_ID))   # fp16 frozen base
    assert helpers.train.trainable_to_fp32(model) == 0, "PEFT should create the adapters in fp32 on an fp16 base"
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    scaler = torch.amp.GradScaler("cuda")
    ids = torch.randint(0, model.config.vocab_size, (4, 128), device="cuda")
    losses = [_step(model, optimizer, scaler, ids, torch.float16) for _ in range(12)]   # early steps may be skipped
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < losses[0], f"loss did not fall on a repeated batch: {losses}"
    assert 1.0 <= scaler.get_scale() < float("inf"), scaler.get_scale()
    scale = scaler.get_scale()
    # the trap: trainable weights in fp16
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.half()
    try:
        _step(model, torch.optim.AdamW([p for p in model.parameters() if p.requires_grad]), scaler, ids,
              torch.float16)
    except ValueError as err:
        assert "Attempting to unscale FP16 gradients" in str(err), err
    else:
        raise AssertionError("fp16 trainable weights trained without the error the README describes")
    return f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in 12 steps, loss scale {scale:g}; fp16 weights refused"


def check_sdpa():
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    config = helpers.models.model_config(MODEL_ID)                                  # 15 query heads, 5 key/value heads
    heads, kv, dim = config.num_attention_heads, config.num_key_value_heads, config.hidden_size // config.num_attention_heads
    q = torch.randn(2, heads, 512, dim, device="cuda", dtype=torch.float16)
    k, v = (torch.randn(2, kv, 512, dim, device="cuda", dtype=torch.float16) for _ in range(2))
    with sdpa_kernel([SDPBackend.MATH]):
        reference = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    working = {}
    for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION):
        try:
            with sdpa_kernel([backend]):
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            working[backend.name] = (out - reference).abs().max().item()
        except RuntimeError:
            continue
    assert working, "no fused SDPA kernel for grouped-query attention in fp16 on this GPU (only the math kernel)"
    worst = max(working.values())
    assert worst < 5e-3, f"a fused kernel differs from the math kernel by {worst:.2e}"
    return "fused kernels: " + ", ".join(f"{name} (max diff {diff:.1e})" for name, diff in working.items())


def check_4bit():
    import transformers
    from peft import get_peft_model

    with tempfile.TemporaryDirectory() as tmp:
        _tiny().save_pretrained(tmp)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            tmp, dtype=torch.float16, device_map={"": 0},
            quantization_config=transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                                bnb_4bit_use_double_quant=True,
                                                                bnb_4bit_compute_dtype=torch.float16))
    n4 = sum(type(m).__name__ == "Linear4bit" for m in model.modules())
    assert n4 > 0, "no Linear4bit layer after loading in 4-bit"
    model = get_peft_model(model, helpers.train.lora_config(MODEL_ID))
    for p in model.parameters():             # what SFTTrainer/DPOTrainer do to a quantized model's adapter
        if p.requires_grad:
            p.data = p.data.to(torch.bfloat16)
    cast = helpers.train.trainable_to_fp32(model)
    assert cast > 0 and all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    ids = torch.randint(0, model.config.vocab_size, (2, 128), device="cuda")
    loss = _step(model, optimizer, torch.amp.GradScaler("cuda"), ids, torch.float16)
    assert torch.isfinite(torch.tensor(loss)), loss
    return f"{n4} Linear4bit layers; {cast} adapter tensors cast back to fp32; fp16-scaled step loss {loss:.3f}"


def check_memory():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from peft import get_peft_model

    prec = helpers.precision()
    batch, seq = 8, 512
    est = helpers.estimate_memory(MODEL_ID, "lora", r=16, batch_size=batch, seq_len=seq, checkpointing=False,
                                  weight_dtype=prec.compute_dtype, compute_dtype=prec.compute_dtype, lora_dropout=0.05)
    gc.collect()
    torch.cuda.empty_cache()
    with helpers.peak_memory() as mem:
        model = get_peft_model(helpers.build_model(MODEL_ID, device="cuda", dtype=prec.compute_dtype),
                               helpers.train.lora_config(MODEL_ID))
        helpers.train.trainable_to_fp32(model)
        model.train()
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, fused=True)
        scaler = torch.amp.GradScaler("cuda", enabled=prec.fp16)
        ids = torch.randint(0, model.config.vocab_size, (batch, seq), device="cuda")
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]):
            _step(model, optimizer, scaler, ids, prec.compute_dtype)     # warm-up: kernels chosen, optimizer state made
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(2):
                _step(model, optimizer, scaler, ids, prec.compute_dtype)
            torch.cuda.synchronize()
            seconds = (time.perf_counter() - start) / 2
        n_params = helpers.count_parameters(model)[1]
        del model, optimizer
    flops = helpers.flops_per_token(n_params, kind="lora") * batch * seq
    MEASURED["tflops"] = flops / seconds / 1e12
    peak = mem["peak"]
    off = (est.peak - peak) / peak
    assert abs(off) <= 0.10, f"measured {helpers.fmt_bytes(peak)}, predicted {helpers.fmt_bytes(est.peak)} ({off:+.1%})"
    assert peak < helpers.budget.T4_USABLE_GIB * 2**30, f"{helpers.fmt_bytes(peak)} does not fit a T4"
    return (f"{MODEL_ID} LoRA {batch} x {seq}: measured {helpers.fmt_bytes(peak)}, predicted "
            f"{helpers.fmt_bytes(est.peak)} ({off:+.1%}); {seconds * 1000:,.0f} ms/step = "
            f"{MEASURED['tflops']:.1f} TFLOP/s sustained")


def _pairs(n: int):
    """``n`` held-out preference pairs of the course's own data (conversational prompt/chosen/rejected)."""
    from helpers.prefs import to_pairs

    pairs, _ = to_pairs(helpers.load_preferences("quick", "test"))
    return pairs.select(range(min(n, len(pairs))))


def check_orpo_fp16():
    """05's trainer under fp16 loss scaling: TRL's ORPOTrainer on a LoRA PeftModel with an fp32 base (as 05)."""
    import datasets
    from peft import get_peft_model
    from transformers import PrinterCallback
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    datasets.disable_progress_bars()
    model = get_peft_model(helpers.load_model(MODEL_ID, "quick", dtype=torch.float32, device=DEVICE),
                           helpers.train.lora_config(MODEL_ID))
    tokenizer = helpers.load_tokenizer(MODEL_ID, "quick", chat_template="course")
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    precision = dict(fp16=False, bf16=True) if REHEARSAL else dict(fp16=True, bf16=False)  # the T4's path: fp16
    with tempfile.TemporaryDirectory() as out:
        args = ORPOConfig(output_dir=out, beta=0.1, max_steps=4, per_device_train_batch_size=2,
                          gradient_accumulation_steps=1, learning_rate=1e-3, max_length=128,
                          activation_checkpointing=False, **precision, use_cpu=REHEARSAL, save_strategy="no",
                          logging_steps=1, remove_unused_columns=False, report_to="none", disable_tqdm=True,
                          dataloader_pin_memory=False, seed=0)
        trainer = ORPOTrainer(model=model, args=args, processing_class=tokenizer, train_dataset=_pairs(8))
        trainer.remove_callback(PrinterCallback)              # no raw log dicts on the screen: the line below says it
        assert helpers.train.trainable_to_fp32(trainer.model) == 0, "the adapter was cast to half precision"
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert len(logs) == 4, f"{len(logs)} logged steps, expected 4"
    for key in ("loss", "nll_loss", "log_odds_ratio"):
        values = [h[key] for h in logs]
        assert all(torch.isfinite(torch.tensor(values))), f"{key} not finite under {HALF}: {values}"
    scaler = trainer.accelerator.scaler
    if REHEARSAL:
        scale = "no loss scaler (bf16 on the CPU rehearsal)"
    else:
        assert scaler is not None, "fp16=True but accelerate made no GradScaler: the loss is not scaled"
        assert 1.0 <= scaler.get_scale() < float("inf"), scaler.get_scale()
        scale = f"loss scale {scaler.get_scale():g}"
    moved = sum(not torch.equal(p.detach(), before[n]) for n, p in trainer.model.named_parameters() if n in before)
    assert moved > 0, "no adapter weight changed in 4 steps"
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters() if p.requires_grad)
    return (f"4 steps, loss {logs[0]['loss']:.3f} -> {logs[-1]['loss']:.3f}, nll {logs[-1]['nll_loss']:.3f}, "
            f"log_odds_ratio {logs[-1]['log_odds_ratio']:.3f}; {scale}; {moved} adapter tensors moved, fp32; "
            f"{seconds / 4:.2f} s/step")


def _notebook_setting(notebook: str, name: str) -> tuple[str, str]:
    """``(full, quick)`` model ids from a notebook's config cell - ``NAME = "id"`` or ``NAME = profile.pick(full="id",
    quick="id")`` - so this check loads what the notebook loads, named in one place only."""
    source = "\n".join("".join(c["source"]) for c in json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
                       if c["cell_type"] == "code")
    line = re.search(rf"^{name}\s*=.*$", source, re.M)
    picks = dict(re.findall(r'(full|quick)="([^"]+)"', line.group())) if line else {}
    plain = re.match(rf'{name}\s*=\s*"([^"]+)"', line.group()) if line else None
    if plain:
        return plain.group(1), plain.group(1)
    if not {"full", "quick"} <= set(picks):
        raise LookupError(f"no {name} = \"...\" or profile.pick(full=..., quick=...) in notebooks/{notebook}")
    return picks["full"], picks["quick"]


def _notebook_literal(notebook: str, name: str):
    """The value of ``NAME = <literal>`` in a notebook's code cells (the last such assignment)."""
    value = None
    for cell in json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]:
        if cell["cell_type"] == "code":
            for node in ast.parse("".join(cell["source"])).body:
                if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
                    value = ast.literal_eval(node.value)
    if value is None:
        raise LookupError(f"no {name} = <literal> in notebooks/{notebook}")
    return value


def _hub_or_standin(what: str, load_full, load_quick):
    """The real model from the Hub (or its cache); without a network the quick profile's random stand-in, said so."""
    if not REHEARSAL:
        try:
            return load_full()
        except (ConnectionError, OSError, helpers.models.UnknownModelError) as err:  # offline: load_model says UnknownModel
            NOTES.append(f"{what}: the Hub model could not be loaded ({str(err).splitlines()[0][:90]}); checked its "
                         "random-weight stand-in instead - run with a network for the real weights")
    return load_quick()


def _agreement(full: torch.Tensor, half: torch.Tensor, tol: float) -> tuple[int, int, float]:
    """(pairs whose fp32 margin exceeds tol, how many of them keep their sign in half precision, max |difference|)."""
    clear = full.abs() > tol
    same = (torch.sign(full) == torch.sign(half)) & clear
    return int(clear.sum()), int(same.sum()), float((full - half).abs().max())


def _fp32_then_half(model, run, tol: float, what: str, margin: str) -> tuple[int, int, float, float]:
    """Run ``run()`` -> (verdict margins, every score, seconds) in fp32, cast the model to HALF, run again: every score
    finite and every clear verdict (|fp32 margin| > tol) kept. Returns (clear, kept, max |difference|, half seconds)."""
    full, _, _ = run()
    model.to(HALF)
    half, scores, seconds = run()
    assert torch.isfinite(scores).all(), f"{int((~torch.isfinite(scores)).sum())} {HALF} {what} not finite"
    clear, same, diff = _agreement(full, half, tol)
    assert same == clear, f"{clear - same} of {clear} clear verdicts ({margin} > {tol}) flip in {HALF}"
    return clear, same, diff, seconds


def check_reward_fp16():
    """06's reward model in fp32 and fp16 on the same held-out pairs: finite, same verdicts within REWARD_TOL."""
    model_id, quick_id = _notebook_setting("06_evaluation.ipynb", "REWARD_MODEL_ID")
    model, tokenizer = _hub_or_standin(
        f"reward model {model_id}",
        lambda: helpers.evaluation.load_reward_model(model_id, "full", dtype=torch.float32, device=DEVICE),
        lambda: helpers.evaluation.load_reward_model(quick_id, "quick", device=DEVICE))
    pairs = _pairs(16)
    prompts = [p["prompt"][-1]["content"] for p in pairs]
    chosen, rejected = [p["chosen"][0]["content"] for p in pairs], [p["rejected"][0]["content"] for p in pairs]

    def margins():
        start = time.perf_counter()
        good = helpers.evaluation.reward_scores(model, tokenizer, prompts, chosen, batch_size=8)
        bad = helpers.evaluation.reward_scores(model, tokenizer, prompts, rejected, batch_size=8)
        return good - bad, torch.cat([good, bad]), time.perf_counter() - start  # verdicts, every score, seconds

    name = getattr(model, "name_or_path", model_id)
    clear, same, diff, seconds = _fp32_then_half(model, margins, REWARD_TOL, "scores", "fp32 margin")
    del model
    return (f"{name}: {len(pairs)} pairs, scores finite; {same} of {clear} clear verdicts (|fp32 margin| > "
            f"{REWARD_TOL}) kept, max |fp32 - {str(HALF)[6:]}| {diff:.3f}; {seconds:.2f} s for {2 * len(pairs)} answers")


def check_judge_fp16():
    """06's judge in fp32 and fp16: log P('A') - log P('B') after a judging prompt, both answer orders."""
    judge_id, quick_id = _notebook_setting("06_evaluation.ipynb", "JUDGE_ID")
    model, tokenizer = _hub_or_standin(
        f"judge {judge_id}",
        lambda: (helpers.load_model(judge_id, "full", dtype=torch.float32, device=DEVICE),
                 helpers.load_tokenizer(judge_id, "full")),
        lambda: (helpers.load_model(quick_id, "quick", device=DEVICE), helpers.load_tokenizer(quick_id, "quick")))
    options = [tokenizer.encode(letter, add_special_tokens=False) for letter in ("A", "B")]
    assert all(len(ids) == 1 for ids in options), f"'A' and 'B' are not single tokens: {options}"
    options = [ids[0] for ids in options]
    template = _notebook_literal("06_evaluation.ipynb", "JUDGE_TEMPLATE")   # the judging prompt 06 uses
    pairs = _pairs(8)
    rows = [(p["prompt"][-1]["content"], p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs]
    texts = [helpers.chat_prompt(tokenizer, template.format(question=q, a=a, b=b)) for q, a, b in rows] + \
            [helpers.chat_prompt(tokenizer, template.format(question=q, a=b, b=a)) for q, a, b in rows]

    @torch.no_grad()
    def log_odds():
        start, old = time.perf_counter(), tokenizer.padding_side
        tokenizer.padding_side = "left"                        # the last position is every prompt's end
        try:
            batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            logits = model(**batch, logits_to_keep=1).logits[:, -1].float().log_softmax(-1)
        finally:
            tokenizer.padding_side = old
        log_odds = (logits[:, options[0]] - logits[:, options[1]]).cpu()
        return log_odds, log_odds, time.perf_counter() - start                  # verdicts, every score, seconds

    name = getattr(model, "name_or_path", judge_id)
    clear, same, diff, seconds = _fp32_then_half(model, log_odds, JUDGE_TOL, "judgments", "|fp32 log-odds|")
    del model
    return (f"{name}: {len(texts)} judgments (both orders), finite; {same} of {clear} clear verdicts kept, max "
            f"|fp32 - {str(HALF)[6:]}| {diff:.3f} nats; {seconds:.2f} s for one batch of {len(texts)}")


def check_ddp_nccl():
    """07's scripts/students/ddp_sft.py as 2 processes over NCCL (2 visible GPUs); skipped on one."""
    if torch.cuda.device_count() < 2:
        raise SkipCheck(f"{torch.cuda.device_count()} GPU visible: 07's two-GPU DDP step needs two (Kaggle's "
                        "2 x T4; with one GPU 07 runs its 1-vs-2-process lesson on CPU processes)")
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                   str(ROOT / "scripts" / "students" / "ddp_sft.py"), "--out", out, "--profile", "quick", "--model-id", MODEL_ID,
                   "--max-steps", "4", "--batch-size", "4", "--max-length", "256", "--train-pairs", "64",
                   "--lora-dropout", "0", "--no-group-by-length"]
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "0,1", "OMP_NUM_THREADS": "1"}
        run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert run.returncode == 0, f"exit {run.returncode}: {(run.stderr or run.stdout).strip().splitlines()[-1:]}"
        ranks = [json.loads(p.read_text()) for p in sorted(Path(out).glob("rank*.json"))]
    assert [r["rank"] for r in ranks] == [0, 1], f"rank records: {[r['rank'] for r in ranks]}"
    assert all(r["backend"] == "nccl" and r["model_wrapper"] == "DistributedDataParallel" for r in ranks), \
        [(r["backend"], r["model_wrapper"]) for r in ranks]
    losses = [[loss for _, loss in r["losses"]] for r in ranks]
    assert all(torch.isfinite(torch.tensor(l)).all() for l in losses), losses
    assert losses[0] == losses[1], f"the ranks logged different losses: {losses}"
    step = sum(ranks[0]["step_seconds"][1:]) / max(1, len(ranks[0]["step_seconds"]) - 1)
    return (f"2 ranks on {ranks[0]['device']} / {ranks[1]['device']}, backend nccl, DistributedDataParallel, "
            f"precision {ranks[0]['precision']}; losses equal on both ranks ({losses[0][0]:.3f} -> "
            f"{losses[0][-1]:.3f}); {step:.2f} s/step after the first")


class SkipCheck(Exception):
    """A check that does not apply on this machine (the message says why)."""


def timing_lines() -> list[str]:
    """One line per notebook: the README's T4 column (the notebooks' own estimates at helpers.budget's assumed
    T4 throughput) next to the same estimate at the throughput check 5 measured on this GPU."""
    assumed, measured = helpers.T4_SUSTAINED_TFLOPS, MEASURED.get("tflops")
    lines = [f"timing: the README's T4 column assumes {assumed:g} TFLOP/s sustained (helpers.budget); "
             + (f"this GPU sustained {measured:.1f} in check 5, so its training minutes scale by {assumed / measured:.2f} here"
                if measured else "check 5 did not measure this GPU's speed")]
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        column = json.loads(path.read_text())["metadata"]["course"]["t4_minutes"]
        number = re.search(r"\d+(?:\.\d+)?", column)
        here = f"~{float(number.group()) * assumed / measured:.1f} min at the measured speed" if measured and number else "-"
        lines.append(f"  {path.stem:26s} README T4: {column.split(' (')[0]:>14s} min | here: {here}")
    return lines


CHECKS = [("precision", check_precision), ("fp16 scaler", check_fp16_scaler), ("sdpa", check_sdpa),
          ("4-bit", check_4bit), ("memory", check_memory), ("orpo fp16", check_orpo_fp16),
          ("reward fp16", check_reward_fp16), ("judge fp16", check_judge_fp16), ("ddp nccl", check_ddp_nccl)]
CPU_REHEARSED = ("orpo fp16", "reward fp16", "judge fp16")   # what --cpu-rehearsal runs


def run_checks(checks) -> tuple[int, int]:
    """PASS/FAIL/SKIP one line each, with the check's time; returns (passed, failed)."""
    passed = failed = 0
    for name, check in checks:
        start = time.perf_counter()
        try:
            detail = check()
            passed += 1
            print(f"PASS {name:12s} {detail} ({time.perf_counter() - start:.1f} s)", flush=True)
        except SkipCheck as why:
            print(f"SKIP {name:12s} {why}", flush=True)
        except Exception as err:  # one failing check must not hide the others
            failed += 1
            print(f"FAIL {name:12s} {type(err).__name__}: {str(err)[:300]} ({time.perf_counter() - start:.1f} s)",
                  flush=True)
            traceback.print_exc(limit=2, file=sys.stderr)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return passed, failed


def main() -> int:
    helpers.quiet_library_notices()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # a renamed API TRL and PEFT still call
    if REHEARSAL:
        torch.set_num_threads(1)                     # tiny models: one thread beats two fighting over a busy CPU
        print(f"CPU rehearsal of checks {', '.join(CPU_REHEARSED)}: bf16 for fp16, no loss scaler, quick stand-ins")
        passed, failed = run_checks([c for c in CHECKS if c[0] in CPU_REHEARSED])
        print(f"{passed} of {passed + failed} rehearsed checks passed")
        return 1 if failed else 0
    if not torch.cuda.is_available():
        print("no CUDA: this machine has no CUDA GPU, so there is nothing to check here - fp16 loss scaling, SDPA "
              "kernels, bitsandbytes 4-bit, peak memory, 05's ORPO step, 06's fp16 scorers and 07's NCCL step need "
              "one. On Colab/Kaggle pick a T4 (Kaggle: GPU T4 x2 for the NCCL check) and run: "
              "!python scripts/ci/gpu_check.py")
        for name, _ in CHECKS:
            print(f"SKIP {name:12s} no CUDA")
        return 0
    print(f"GPU: {torch.cuda.get_device_name(0)} x {torch.cuda.device_count()} | torch {torch.__version__} | "
          f"{helpers.precision()}")
    passed, failed = run_checks(CHECKS)
    for line in timing_lines() + NOTES:
        print(line)
    print(f"{passed} of {len(CHECKS)} checks passed, {failed} failed, {len(CHECKS) - passed - failed} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
