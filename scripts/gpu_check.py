"""Check on a GPU what the CPU rehearsal cannot: fp16 loss scaling, SDPA kernels, bitsandbytes 4-bit, peak memory.

    python scripts/gpu_check.py        # a few minutes on a T4; prints PASS/FAIL per check, exits 1 on any FAIL

The CPU rehearsal (scripts/rehearse.py, COURSE_CPU_BF16=1) runs every notebook's code path, including bf16
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
               helpers.estimate_memory, and it fits the T4's usable 15 GiB.

Without CUDA it says so and exits 0: there is nothing to check.
"""
from __future__ import annotations

import gc
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import helpers  # noqa: E402

MODEL_ID = "HuggingFaceTB/SmolLM2-360M"


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

    config = helpers.model_config(MODEL_ID)                                  # 15 query heads, 5 key/value heads
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
            for _ in range(3):
                _step(model, optimizer, scaler, ids, prec.compute_dtype)
        del model, optimizer
    peak = mem["peak"]
    off = (est.peak - peak) / peak
    assert abs(off) <= 0.10, f"measured {helpers.fmt_bytes(peak)}, predicted {helpers.fmt_bytes(est.peak)} ({off:+.1%})"
    assert peak < helpers.env.T4_USABLE_GIB * 2**30, f"{helpers.fmt_bytes(peak)} does not fit a T4"
    return f"{MODEL_ID} LoRA {batch} x {seq}: measured {helpers.fmt_bytes(peak)}, predicted {helpers.fmt_bytes(est.peak)} ({off:+.1%})"


CHECKS = [("precision", check_precision), ("fp16 scaler", check_fp16_scaler), ("sdpa", check_sdpa),
          ("4-bit", check_4bit), ("memory", check_memory)]


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA GPU here: nothing to check (fp16 loss scaling, SDPA kernels, bitsandbytes 4-bit and peak "
              "memory need one). Run this on a Colab/Kaggle T4: python scripts/gpu_check.py")
        return 0
    helpers.quiet_library_notices()
    print(f"GPU: {torch.cuda.get_device_name(0)} | torch {torch.__version__} | {helpers.precision()}")
    failed = 0
    for name, check in CHECKS:
        start = time.perf_counter()
        try:
            detail = check()
            print(f"PASS {name:12s} {detail} ({time.perf_counter() - start:.1f} s)")
        except Exception as err:  # one failing check must not hide the others
            failed += 1
            print(f"FAIL {name:12s} {type(err).__name__}: {err}")
            traceback.print_exc(limit=3)
        gc.collect()
        torch.cuda.empty_cache()
    print(f"{len(CHECKS) - failed} of {len(CHECKS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
