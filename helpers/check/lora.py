"""Self-checks for 01_lora-from-scratch: each compares the student's LoRA pieces with PEFT's LoRA layer.

The student's class is called as ``cls(base, r=..., alpha=..., dropout=...)`` and must keep the notebook's
names: ``A`` (r, d_in) and ``B`` (d_out, r) as parameters, ``scaling``, ``merged``, ``delta_weight()``,
``merge()``, ``unmerge()``; DoRA adds ``magnitude`` (d_out,).
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from . import _reference as _ref
from ._core import attempt, close, equal, failed, passed, self_check

__all__ = ["lora_scaling", "lora_forward", "lora_merge", "inject_lora", "dora_forward"]


def _peft():
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # a harmless CPU notice printed on import
    import peft

    return peft


def _peft_layer(base: nn.Linear, r: int, alpha: float, **options):
    """PEFT's LoRA layer (adapter 'default') around a copy of ``base``, in eval mode."""
    peft = _peft()
    holder = nn.Module()
    holder.layer = copy.deepcopy(base)
    peft.inject_adapter_in_model(peft.LoraConfig(r=r, lora_alpha=alpha, target_modules=["layer"], **options), holder)
    return holder.layer.eval()


def _build(name, cls, base, r, alpha, dropout=0.0, hint=""):
    layer = attempt(name, cls, base, r=r, alpha=alpha, dropout=dropout,
                    hint=hint or "the class is called as LoRALinear(base, r=..., alpha=..., dropout=...)")
    for attr in ("A", "B"):
        if not isinstance(getattr(layer, attr, None), nn.Parameter):
            failed(name, f"the layer has no parameter {attr!r}", "keep the notebook's names: self.A and self.B")
    return layer


def _randomise_B(layer, gen):
    with torch.no_grad():
        layer.B.copy_(torch.randn(layer.B.shape, generator=gen))


def _copy_into(ours, theirs):
    with torch.no_grad():
        theirs.lora_A["default"].weight.copy_(ours.A)
        theirs.lora_B["default"].weight.copy_(ours.B)


@self_check(reference=_ref.lora_scaling)
def lora_scaling(fn) -> None:
    """Check ``fn(alpha, r, rslora=False)`` against the scaling PEFT computes, with and without rsLoRA."""
    name = "lora_scaling"
    cases = [(32, 16, False), (16, 4, True), (8, 8, False), (64, 16, True), (1, 2, False), (12, 9, True)]
    for alpha, r, rslora in cases:
        want = _peft_layer(nn.Linear(4, 4), r, alpha, use_rslora=rslora).scaling["default"]
        got = attempt(name, fn, alpha, r, rslora, hint="the function takes alpha, r and rslora and returns one number")
        close(name, got, want, what=f"scaling for alpha={alpha}, r={r}, rslora={rslora}",
              hint="reread the two definitions above the exercise: what divides alpha for LoRA, and "
                   "what for rsLoRA?")
    return passed(name, f"{len(cases)} settings equal PEFT's scaling")


@self_check(build=_ref.build_lora_forward, what="class")
def lora_forward(cls) -> None:
    """Check ``cls.forward``: outputs and A/B gradients equal PEFT's LoRA layer (fp32, random A and B), dropout
    on the LoRA branch only, and an fp16/bf16 base with fp32 A and B."""
    name = "lora_forward"
    hint = ("the output is the frozen layer's output plus the scaled low-rank branch; the branch runs in the "
            "trainable weights' dtype and its result joins h in h's dtype")
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for d_in, d_out, r, alpha, bias in [(12, 7, 4, 8, True), (16, 24, 2, 16, False)]:
        base = nn.Linear(d_in, d_out, bias=bias)
        ours = _build(name, cls, copy.deepcopy(base), r, alpha).eval()
        _randomise_B(ours, gen)
        theirs = _peft_layer(base, r, alpha)
        _copy_into(ours, theirs)
        x, grad_out = torch.randn(3, 5, d_in, generator=gen), torch.randn(3, 5, d_out, generator=gen)
        got, want = attempt(name, ours, x, hint=hint), theirs(x)
        worst = max(worst, close(name, got, want, what=f"output of a {d_in} -> {d_out}, r={r} layer", hint=hint))
        if not getattr(got, "requires_grad", False):
            failed(name, "the output is not connected to A and B (no gradient)", "build the update from the layer's trainable parameters")
        (got * grad_out).sum().backward()
        (want * grad_out).sum().backward()
        for ours_p, theirs_p, label in [(ours.A, theirs.lora_A["default"].weight, "A"),
                                        (ours.B, theirs.lora_B["default"].weight, "B")]:
            if ours_p.grad is None:
                failed(name, f"{label} got no gradient", hint)
            worst = max(worst, close(name, ours_p.grad, theirs_p.grad, what=f"gradient of {label}", hint=hint))
    # dropout on the branch only: with p = 1 every input of the branch is dropped, W0·x must be untouched
    base = nn.Linear(8, 6)
    ours = _build(name, cls, base, 2, 4, dropout=1.0).train()
    _randomise_B(ours, gen)
    x = torch.randn(4, 8, generator=gen)
    with torch.no_grad():
        close(name, attempt(name, ours, x, hint=hint), base(x), what="output in training mode with dropout=1.0",
              hint="dropout belongs on the LoRA branch only, never on the frozen layer's input")
    # half-precision base: A and B stay fp32, the output keeps the base's dtype
    for dtype in (torch.float16, torch.bfloat16):
        base = nn.Linear(8, 6).to(dtype)
        ours = _build(name, cls, base, 2, 4).eval()
        equal(name, (ours.A.dtype, ours.B.dtype), (torch.float32, torch.float32), what=f"dtype of (A, B) next to a "
              f"{dtype} base", hint="the trainable weights stay fp32 whatever the base's dtype")
        _randomise_B(ours, gen)
        x = torch.randn(4, 8, generator=gen).to(dtype)
        with torch.no_grad():
            got = attempt(name, ours, x, hint="the branch's input must have the trainable weights' dtype")
            equal(name, got.dtype, dtype, what=f"output dtype for a {dtype} base",
                  hint="the layer's output keeps the base output's dtype")
            want = _ref.lora_output_fp32(ours, x)
            close(name, got.float(), want, atol=0.05, rtol=0.02, what=f"output for a {dtype} base", hint=hint)
    return passed(name, f"outputs and A/B gradients equal PEFT's (max difference {worst:.1e}); dropout on the branch "
                        "only; fp16 and bf16 bases work with fp32 A and B")


@self_check(build=_ref.build_lora_merge, what="class")
def lora_merge(cls) -> None:
    """Check ``delta_weight``, ``merge`` and ``unmerge`` against PEFT's get_delta_weight and W0."""
    name = "lora_merge"
    gen = torch.Generator().manual_seed(1)
    for d_in, d_out, r, alpha, dtype in [(12, 7, 3, 6, torch.float32), (6, 10, 2, 8, torch.float32),
                                         (16, 8, 4, 8, torch.float16)]:
        base = nn.Linear(d_in, d_out).to(dtype)
        W0 = base.weight.detach().clone()
        ours = _build(name, cls, copy.deepcopy(base), r, alpha).eval()
        _randomise_B(ours, gen)
        theirs = _peft_layer(copy.deepcopy(base).float(), r, alpha)
        _copy_into(ours, theirs)
        with torch.no_grad():
            delta = attempt(name, ours.delta_weight, hint="the weight change the branch adds, as one (d_out, d_in) matrix")
            close(name, delta, theirs.get_delta_weight("default"), what="delta_weight()",
                  hint="the branch is linear: which single matrix does it multiply x by? Scaling included")
            x = torch.randn(4, d_in, generator=gen).to(dtype)
            before = attempt(name, ours, x, hint="the forward pass (Exercise 2) must work first").float()
            attempt(name, ours.merge, hint="fold the change into the frozen weight, in that weight's dtype")
            tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=2e-2, rtol=1e-2)
            close(name, ours.base.weight.float(), W0.float() + delta, what=f"merged weight ({dtype})",
                  hint="after merging, the frozen weight holds the whole change", **tol)
            close(name, ours(x).float(), before, what=f"output after merge ({dtype})",
                  hint="once merged, the branch must not be added a second time", **tol)
            attempt(name, ours.unmerge, hint="unmerge undoes exactly what merge did")
            close(name, ours.base.weight.float(), W0.float(), what=f"weight after unmerge ({dtype})",
                  hint="unmerge must give back the original frozen weight", **tol)
    return passed(name, "delta_weight equals PEFT's; merged output equals unmerged; unmerge restores W0 (fp32, fp16)")


def _standin(model_id):
    from ..models import load_model

    return load_model(model_id, "quick", device="cpu")


@self_check(build=_ref.build_inject_lora)
def inject_lora(fn) -> None:
    """Check ``fn(model, target_modules, r, alpha, dropout=0.0)``: same trainable count as PEFT on a Llama-style
    and a GPT-NeoX stand-in, nothing else trainable, logits unchanged, a wrong name is a ValueError."""
    from ..measure import count_parameters
    from ..models import lora_targets

    name = "inject_lora"
    peft = _peft()
    hint = ("two steps: nothing of the original model may train, and every targeted layer is swapped for a LoRA "
            "layer built around it - find_targets and replace_module above do the finding and the swapping")
    cases = [("HuggingFaceTB/SmolLM2-135M", ["q_proj", "v_proj"]), ("HuggingFaceTB/SmolLM2-135M", None),
             ("EleutherAI/pythia-160m", None)]
    lines = []
    for model_id, targets in cases:
        targets = targets or lora_targets(model_id)
        model = _standin(model_id)
        ids = torch.arange(12).reshape(1, 12)
        with torch.no_grad():
            logits = model(input_ids=ids).logits
        with warnings.catch_warnings():  # PEFT calls a transformers API that was renamed (a FutureWarning)
            warnings.simplefilter("ignore", FutureWarning)
            reference = peft.get_peft_model(_standin(model_id), peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets))
        want_trainable, want_total = reference.get_nb_trainable_parameters()
        names = attempt(name, fn, model, targets, r=4, alpha=8, hint=hint)
        got_trainable, got_total = count_parameters(model)
        equal(name, got_trainable, want_trainable, what=f"trainable count for {model_id} with {targets}", hint=hint)
        equal(name, got_total, want_total, what=f"total count for {model_id}", hint=hint)
        wrapped = {n for n, m in reference.base_model.model.named_modules() if hasattr(m, "lora_A")}
        equal(name, sorted(names or []), sorted(wrapped), what="list of wrapped module names returned",
              hint="return the names find_targets gave you")
        stray = [n for n, p in model.named_parameters() if p.requires_grad and n.rsplit(".", 1)[-1] not in ("A", "B")]
        if stray:
            failed(name, f"parameters other than A and B are trainable, e.g. {stray[:2]}", hint)
        with torch.no_grad():
            close(name, model.eval()(input_ids=ids).logits, logits, what="logits right after injection", hint=hint)
        lines.append(f"{model_id.split('/')[-1]} {len(names)} layers, {got_trainable:,} trainable")
    model = _standin("HuggingFaceTB/SmolLM2-135M")
    try:
        fn(model, ["query_key_value"], r=4, alpha=8)
    except NotImplementedError:
        failed(name, "not implemented yet - replace `raise NotImplementedError` with your code", hint)
    except ValueError:
        pass
    except Exception as err:
        failed(name, f"a target name that matches nothing raised {type(err).__name__}, not ValueError", hint)
    else:
        failed(name, "a target name that matches nothing ('query_key_value' on a Llama model) was accepted silently "
                     "- that is how 'trainable params: 0' happens", "let find_targets check the names before you change anything")
    return passed(name, "; ".join(lines) + " - all equal to PEFT; a wrong name is a ValueError")


@self_check(what="class")
def dora_forward(cls) -> None:
    """Check a DoRA layer ``cls(base, r, alpha)``: magnitude initialised to the row norms of W0, output equal to
    the base at step 0, and outputs plus gradients of A, B, magnitude equal to PEFT's ``use_dora=True`` layer."""
    name = "dora_forward"
    hint = ("reread DoRA's formula above: a direction (the adapted weight, each row normalised) times a trained "
            "length; the norm is treated as a constant in backward")
    gen = torch.Generator().manual_seed(2)
    worst = 0.0
    for d_in, d_out, r, alpha, bias in [(12, 7, 4, 8, True), (10, 16, 2, 4, False)]:
        base = nn.Linear(d_in, d_out, bias=bias)
        ours = _build(name, cls, copy.deepcopy(base), r, alpha, hint=hint).eval()
        magnitude = getattr(ours, "magnitude", None)
        if not isinstance(magnitude, nn.Parameter):
            failed(name, "the layer has no parameter 'magnitude'", "keep the name: a trainable magnitude, one value per output")
        close(name, magnitude, base.weight.detach().norm(dim=1), what="initial magnitude",
              hint="at step 0 the layer must equal the base: what length does each row of W0 have?")
        x = torch.randn(3, d_in, generator=gen)
        with torch.no_grad():
            close(name, attempt(name, ours, x, hint=hint), base(x), what="output at step 0 (B = 0)", hint=hint)
        theirs = _peft_layer(base, r, alpha, use_dora=True)
        _randomise_B(ours, gen)
        with torch.no_grad():
            magnitude.mul_(1 + 0.1 * torch.randn(magnitude.shape, generator=gen))   # a "trained" magnitude
            theirs.lora_magnitude_vector["default"].weight.copy_(magnitude)
        _copy_into(ours, theirs)
        grad_out = torch.randn(3, d_out, generator=gen)
        got, want = attempt(name, ours, x, hint=hint), theirs(x)
        worst = max(worst, close(name, got, want, atol=1e-5, what="output with trained A, B, magnitude", hint=hint))
        (got * grad_out).sum().backward()
        (want * grad_out).sum().backward()
        for ours_p, theirs_p, label in [(ours.A, theirs.lora_A["default"].weight, "A"),
                                        (ours.B, theirs.lora_B["default"].weight, "B"),
                                        (magnitude, theirs.lora_magnitude_vector["default"].weight, "magnitude")]:
            if ours_p.grad is None:
                failed(name, f"{label} got no gradient", hint)
            worst = max(worst, close(name, ours_p.grad, theirs_p.grad, atol=1e-5, what=f"gradient of {label}",
                                     hint=hint + " (did you detach the norm?)"))
    return passed(name, f"magnitude starts at ||W0||; outputs and gradients of A, B, magnitude equal PEFT's DoRA "
                        f"(max difference {worst:.1e})")
