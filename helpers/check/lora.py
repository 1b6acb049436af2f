"""Self-checks for 01_lora-from-scratch: each compares the student's LoRA pieces with PEFT's LoRA layer.

The student's class is called as ``cls(base, r=..., alpha=..., dropout=...)`` and must keep the notebook's
names: ``A`` (r, d_in) and ``B`` (d_out, r) as parameters, ``scaling``, ``merged``, ``delta_weight()``,
``merge()``, ``unmerge()``; DoRA adds ``magnitude`` (d_out,).

Exercises 2, 3, 5 (a class) and 4 (a function that changes a model) are each split in three, so the grader can
run them apart (grading/worker.py) while the notebook's self-check runs them in one go:
  <check>.cases(seed) -> inputs   what the check chooses: base weights, A, B, inputs, upstream gradients (data)
  <check>.probe(yours, inputs)    builds the student's object, runs it on the inputs, returns what it did as data
                                  (outputs, gradients, weights, dtypes, names, counts) - the only part that
                                  touches the student's object
  <check>.judge(inputs, data)     compares that data with PEFT run on the same inputs: PASS, or FAIL with a hint
The self-check is judge(inputs, probe(yours, inputs)). When graded, the probe runs in the student's process and
the judge in the grader's: a probe the student's code patched can only send other data, judged the same way.
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from . import _reference as _ref
from ._core import attempt, close, equal, failed, passed, self_check

__all__ = ["lora_scaling", "lora_forward", "lora_merge", "inject_lora", "dora_forward"]

_FORWARD_LAYERS = [(12, 7, 4, 8, True), (16, 24, 2, 16, False)]       # d_in, d_out, r, alpha, bias
_MERGE_LAYERS = [(12, 7, 3, 6, "float32"), (6, 10, 2, 8, "float32"), (16, 8, 4, 8, "float16")]
_DORA_LAYERS = [(12, 7, 4, 8, True), (10, 16, 2, 4, False)]
_INJECT_CASES = [("HuggingFaceTB/SmolLM2-135M", ["q_proj", "v_proj"]), ("HuggingFaceTB/SmolLM2-135M", None),
                 ("EleutherAI/pythia-160m", None)]
_FORWARD_HINT = ("the output is the frozen layer's output plus the scaled low-rank branch; the branch runs in the "
                 "trainable weights' dtype and its result joins h in h's dtype")
_DORA_HINT = ("reread DoRA's formula above: a direction (the adapted weight, each row normalised) times a trained "
              "length; the norm is treated as a constant in backward")
_INJECT_HINT = ("two steps: nothing of the original model may train, and every targeted layer is swapped for a LoRA "
                "layer built around it - find_targets and replace_module above do the finding and the swapping")


def _peft_layer(base: nn.Linear, r: int, alpha: float, **options):
    """PEFT's LoRA layer (adapter 'default') around a copy of ``base``, in eval mode."""
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # a harmless CPU notice printed on PEFT's import
    import peft

    holder = nn.Module()
    holder.layer = copy.deepcopy(base)
    peft.inject_adapter_in_model(peft.LoraConfig(r=r, lora_alpha=alpha, target_modules=["layer"], **options), holder)
    return holder.layer.eval()


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


def _split_check(cases, probe, judge, **fallback):
    """Decorate a docstring-only function into the self-check judge(inputs, probe(yours, inputs)), carrying its
    three parts as ``.cases``, ``.probe`` and ``.judge`` for the grader."""
    def decorate(described):
        def check(yours) -> None:
            inputs = cases()
            judge(inputs, probe(yours, inputs))

        check.__name__, check.__doc__ = described.__name__, described.__doc__
        run = self_check(**fallback)(check)
        run.cases, run.probe, run.judge = cases, probe, judge
        return run
    return decorate


# ---------------------------------------------------------------- the layers' inputs, and what a layer did

def _spec(gen, d_in, d_out, r, alpha, bias=True, dtype="float32", batch=(3,)):
    """One layer's inputs, as the check chooses them: a base layer's weights, A, B, an input x and an upstream
    gradient for the output."""
    return {"d_in": d_in, "d_out": d_out, "r": r, "alpha": alpha, "dtype": dtype,
            "weight": torch.randn(d_out, d_in, generator=gen) / d_in ** 0.5,
            "bias": torch.randn(d_out, generator=gen) if bias else None,
            "A": torch.randn(r, d_in, generator=gen) / d_in ** 0.5, "B": torch.randn(d_out, r, generator=gen),
            "x": torch.randn(*batch, d_in, generator=gen), "grad_out": torch.randn(*batch, d_out, generator=gen)}


def _base(spec) -> nn.Linear:
    base = nn.Linear(spec["d_in"], spec["d_out"], bias=spec["bias"] is not None)
    with torch.no_grad():
        base.weight.copy_(spec["weight"])
        if spec["bias"] is not None:
            base.bias.copy_(spec["bias"])
    return base.to(getattr(torch, spec["dtype"]))


def _build(name, cls, spec, dropout=0.0, hint=""):
    layer = attempt(name, cls, _base(spec), r=spec["r"], alpha=spec["alpha"], dropout=dropout,
                    hint=hint or "the class is called as LoRALinear(base, r=..., alpha=..., dropout=...)")
    for attr in ("A", "B"):
        if not isinstance(getattr(layer, attr, None), nn.Parameter):
            failed(name, f"the layer has no parameter {attr!r}", "keep the notebook's names: self.A and self.B")
    return layer


def _set_factors(name, layer, spec, hint) -> None:
    for attr in ("A", "B"):
        if not isinstance(getattr(layer, attr, None), torch.Tensor):
            failed(name, f"the layer ({type(layer).__name__}) has no parameter {attr!r}", hint)
        if getattr(layer, attr).shape != spec[attr].shape:
            failed(name, f"{attr} has shape {tuple(getattr(layer, attr).shape)}, expected {tuple(spec[attr].shape)}",
                   hint)
        with torch.no_grad():
            getattr(layer, attr).copy_(spec[attr])


def _data(value):
    """What the student's object gave, as the judge may receive it: a plain tensor (detached), else the value."""
    if isinstance(value, torch.Tensor):
        return value.detach().as_subclass(torch.Tensor).clone()
    return value


def _run(name, layer, spec, hint, params=("A", "B")) -> dict:
    """The layer's output for ``spec``'s x and, if the output is connected to them, the gradients of ``params``
    for ``spec``'s upstream gradient."""
    out, grads = attempt(name, layer, spec["x"], hint=hint), None
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == spec["grad_out"].shape:
        attempt(name, lambda: (out * spec["grad_out"]).sum().backward(), hint=hint)
        grads = {p: _data(getattr(layer, p).grad) for p in params}
    return {"out": _data(out), "grads": grads}


def _tensor(name, got, what, hint):
    """The tensor the judge compares: None, or anything but a plain tensor (an object whose __eq__ says yes, a
    tensor subclass), is a FAIL."""
    if got is None:
        failed(name, f"the {what} is None - did you forget to return it?", hint)
    if type(got) is not torch.Tensor:
        failed(name, f"the {what} is a {type(got).__name__}, not a tensor", hint)
    return got


def _same(name, got, want, what, hint, **tolerance):
    """``close`` on a tensor the student's object gave (``_tensor``); the largest difference."""
    return close(name, _tensor(name, got, what, hint), want, what=what, hint=hint, **tolerance)


def _peft_with(spec, **options):
    """PEFT's LoRA layer around ``spec``'s base (fp32), holding ``spec``'s A and B."""
    theirs = _peft_layer(_base(dict(spec, dtype="float32")), spec["r"], spec["alpha"], **options)
    with torch.no_grad():
        theirs.lora_A["default"].weight.copy_(spec["A"])
        theirs.lora_B["default"].weight.copy_(spec["B"])
    return theirs


def _judge_run(name, got, spec, theirs, params, what, hint, grad_hint="", atol=1e-6) -> float:
    """A ``_run`` against PEFT's layer ``theirs`` ({label: its parameter}): the output, then each gradient."""
    want = theirs(spec["x"])
    worst = _same(name, got["out"], want.detach(), what, hint, atol=atol)
    if got["grads"] is None:
        failed(name, "the output is not connected to A and B (no gradient)",
               "build the update from the layer's trainable parameters")
    (want * spec["grad_out"]).sum().backward()
    for label, param in params.items():
        if got["grads"].get(label) is None:
            failed(name, f"{label} got no gradient", hint)
        worst = max(worst, _same(name, got["grads"][label], param.grad, f"gradient of {label}", grad_hint or hint,
                                 atol=atol))
    return worst


# ---------------------------------------------------------------- Exercise 2: the forward pass

def _forward_cases(seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    layers = [_spec(gen, d_in, d_out, r, alpha, bias, batch=(3, 5)) for d_in, d_out, r, alpha, bias in _FORWARD_LAYERS]
    dropout = _spec(gen, 8, 6, 2, 4, batch=(4,))
    half = [_spec(gen, 8, 6, 2, 4, dtype=dtype, batch=(4,)) for dtype in ("float16", "bfloat16")]
    return {"layers": layers, "dropout": dropout, "half": half}


def _probe_forward(cls, inputs) -> dict:
    """Run the student's LoRA layer on the check's inputs: outputs, gradients, dtypes."""
    name, hint, data = "lora_forward", _FORWARD_HINT, {"layers": [], "half": []}
    for spec in inputs["layers"]:
        ours = _build(name, cls, spec).eval()
        _set_factors(name, ours, spec, hint)
        data["layers"].append(_run(name, ours, spec, hint))
    spec = inputs["dropout"]
    ours = _build(name, cls, spec, dropout=1.0).train()
    _set_factors(name, ours, spec, hint)
    with torch.no_grad():
        data["dropout"] = _data(attempt(name, ours, spec["x"], hint=hint))
    for spec in inputs["half"]:
        ours = _build(name, cls, spec).eval()
        _set_factors(name, ours, spec, hint)
        with torch.no_grad():
            got = attempt(name, ours, spec["x"].to(getattr(torch, spec["dtype"])),
                          hint="the branch's input must have the trainable weights' dtype")
        data["half"].append({"factors": (str(ours.A.dtype), str(ours.B.dtype)), "out": _data(got)})
    return data


def _judge_forward(inputs, data) -> None:
    name, hint, worst = "lora_forward", _FORWARD_HINT, 0.0
    for spec, got in zip(inputs["layers"], data["layers"]):
        theirs = _peft_with(spec)
        params = {"A": theirs.lora_A["default"].weight, "B": theirs.lora_B["default"].weight}
        what = f"output of a {spec['d_in']} -> {spec['d_out']}, r={spec['r']} layer"
        worst = max(worst, _judge_run(name, got, spec, theirs, params, what, hint))
    spec = inputs["dropout"]     # dropout p = 1 drops every input of the branch: W0·x must be untouched
    with torch.no_grad():
        _same(name, data["dropout"], _base(spec)(spec["x"]), "output in training mode with dropout=1.0",
              "dropout belongs on the LoRA branch only, never on the frozen layer's input")
    for spec, got in zip(inputs["half"], data["half"]):     # a half-precision base: A and B stay fp32
        dtype = getattr(torch, spec["dtype"])
        equal(name, tuple(got["factors"]), (str(torch.float32), str(torch.float32)),
              what=f"dtype of (A, B) next to a {dtype} base", hint="the trainable weights stay fp32 whatever the base's dtype")
        equal(name, _tensor(name, got["out"], f"output for a {dtype} base", hint).dtype, dtype,
              what=f"output dtype for a {dtype} base", hint="the layer's output keeps the base output's dtype")
        x = spec["x"].to(dtype)
        with torch.no_grad():
            want = _base(spec)(x).float() + _peft_with(spec).scaling["default"] * (x.float() @ spec["A"].T @ spec["B"].T)
        close(name, got["out"], want, atol=0.05, rtol=0.02, what=f"output for a {dtype} base", hint=hint)
    return passed(name, f"outputs and A/B gradients equal PEFT's (max difference {worst:.1e}); dropout on the branch "
                        "only; fp16 and bf16 bases work with fp32 A and B")


@_split_check(_forward_cases, _probe_forward, _judge_forward, build=_ref.build_lora_forward, what="class")
def lora_forward(cls) -> None:
    """Check ``cls.forward``: outputs and A/B gradients equal PEFT's LoRA layer (fp32, random A and B), dropout
    on the LoRA branch only, and an fp16/bf16 base with fp32 A and B."""


# ---------------------------------------------------------------- Exercise 3: merging

def _merge_cases(seed: int = 1) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {"layers": [_spec(gen, d_in, d_out, r, alpha, dtype=dtype, batch=(4,))
                       for d_in, d_out, r, alpha, dtype in _MERGE_LAYERS]}


def _weight(name, layer):
    weight = getattr(getattr(layer, "base", None), "weight", None)
    if not isinstance(weight, torch.Tensor):
        failed(name, "the layer has no frozen layer self.base with a weight", "keep the notebook's names: self.base")
    return _data(weight)


def _probe_merge(cls, inputs) -> dict:
    """Run the student's delta_weight, merge and unmerge: the weights after each, the output once merged."""
    name, data = "lora_merge", []
    for spec in inputs["layers"]:
        ours = _build(name, cls, spec).eval()
        _set_factors(name, ours, spec, "")
        with torch.no_grad():
            delta = attempt(name, ours.delta_weight, hint="the weight change the branch adds, as one (d_out, d_in) matrix")
            attempt(name, ours.merge, hint="fold the change into the frozen weight, in that weight's dtype")
            merged = _weight(name, ours)
            after = attempt(name, ours, spec["x"].to(getattr(torch, spec["dtype"])),
                            hint="the forward pass (Exercise 2) must work first")
            attempt(name, ours.unmerge, hint="unmerge undoes exactly what merge did")
            data.append({"delta": _data(delta), "merged": merged, "after": _data(after), "restored": _weight(name, ours)})
    return {"layers": data}


def _judge_merge(inputs, data) -> None:
    name = "lora_merge"
    for spec, got in zip(inputs["layers"], data["layers"]):
        dtype = getattr(torch, spec["dtype"])
        theirs, W0 = _peft_with(spec).eval(), _base(spec).weight.detach().float()
        tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=2e-2, rtol=1e-2)
        with torch.no_grad():
            delta = theirs.get_delta_weight("default")
            _same(name, got["delta"], delta, "delta_weight()",
                  "the branch is linear: which single matrix does it multiply x by? Scaling included")
            _same(name, got["merged"], W0 + delta, f"merged weight ({dtype})",
                  "after merging, the frozen weight holds the whole change", **tol)
            _same(name, got["after"], theirs(spec["x"].to(dtype).float()), f"output after merge ({dtype})",
                  "once merged, the branch must not be added a second time", **tol)
            _same(name, got["restored"], W0, f"weight after unmerge ({dtype})",
                  "unmerge must give back the original frozen weight", **tol)
    return passed(name, "delta_weight equals PEFT's; merged output equals PEFT's; unmerge restores W0 (fp32, fp16)")


@_split_check(_merge_cases, _probe_merge, _judge_merge, build=_ref.build_lora_merge, what="class")
def lora_merge(cls) -> None:
    """Check ``delta_weight``, ``merge`` and ``unmerge`` against PEFT's get_delta_weight and W0."""


# ---------------------------------------------------------------- Exercise 4: the injection

def _standin(model_id):
    from ..models import load_model

    return load_model(model_id, "quick", device="cpu")


def _peft_reference(model_id, targets):
    """PEFT's LoRA (r=4, alpha=8) on a fresh stand-in model, and {module name: PEFT's LoRA layer}."""
    import peft

    with warnings.catch_warnings():  # PEFT calls a transformers API that was renamed (a FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model = peft.get_peft_model(_standin(model_id), peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    return model, {n: m for n, m in model.base_model.model.named_modules() if hasattr(m, "lora_A")}


def _inject_cases(seed: int = 0) -> dict:
    """The stand-in models and targets, and for every layer PEFT wraps an A and a B to put in after the injection."""
    from ..models import lora_targets

    gen = torch.Generator().manual_seed(seed)
    cases = []
    for model_id, targets in _INJECT_CASES:
        targets = targets or lora_targets(model_id)
        factors = {}
        for layer, m in sorted(_peft_reference(model_id, targets)[1].items()):
            (r, d_in), (d_out, _) = m.lora_A["default"].weight.shape, m.lora_B["default"].weight.shape
            factors[layer] = (torch.randn(r, d_in, generator=gen) / d_in ** 0.5, 0.1 * torch.randn(d_out, r, generator=gen))
        cases.append({"model_id": model_id, "targets": targets, "factors": factors})
    return {"cases": cases, "ids": torch.arange(12).reshape(1, 12)}


def _probe_inject(fn, inputs) -> dict:
    """Run the student's inject_lora on fresh stand-in models: the names it returns, every parameter (name, size,
    trainable), the logits right after, and the logits once the check's A and B are in the wrapped layers."""
    name, data = "inject_lora", {"cases": []}
    for case in inputs["cases"]:
        model = _standin(case["model_id"])
        names = attempt(name, fn, model, case["targets"], r=4, alpha=8, hint=_INJECT_HINT)
        with torch.no_grad():
            logits = _data(model.eval()(input_ids=inputs["ids"]).logits)
        params = [(n, p.numel(), bool(p.requires_grad)) for n, p in model.named_parameters()]
        trained = None
        if sorted(names or []) == sorted(case["factors"]):
            for layer, (A, B) in case["factors"].items():
                _set_factors(name, model.get_submodule(layer), {"A": A, "B": B}, _INJECT_HINT)
            with torch.no_grad():
                trained = _data(model(input_ids=inputs["ids"]).logits)
        data["cases"].append({"names": [str(n) for n in names] if isinstance(names, (list, tuple)) else None,
                              "params": params, "logits": logits, "trained": trained})
    model = _standin("HuggingFaceTB/SmolLM2-135M")
    try:
        fn(model, ["query_key_value"], r=4, alpha=8)
        data["wrong_name"] = None
    except Exception as err:  # the student's code: what it raised, as data
        data["wrong_name"] = type(err).__name__
    return data


def _judge_inject(inputs, data) -> None:
    name, hint, lines = "inject_lora", _INJECT_HINT, []
    for case, got in zip(inputs["cases"], data["cases"]):
        model_id, targets = case["model_id"], case["targets"]
        with torch.no_grad():
            logits = _standin(model_id)(input_ids=inputs["ids"]).logits
        reference, wrapped = _peft_reference(model_id, targets)
        want_trainable, want_total = reference.get_nb_trainable_parameters()
        got_trainable = sum(int(n) for _, n, trains in got["params"] if trains)
        equal(name, got_trainable, want_trainable, what=f"trainable count for {model_id} with {targets}", hint=hint)
        equal(name, sum(int(n) for _, n, _ in got["params"]), want_total, what=f"total count for {model_id}", hint=hint)
        equal(name, sorted(got["names"] or []), sorted(wrapped), what="list of wrapped module names returned",
              hint="return the names find_targets gave you")
        stray = [n for n, _, trains in got["params"] if trains and n.rsplit(".", 1)[-1] not in ("A", "B")]
        if stray:
            failed(name, f"parameters other than A and B are trainable, e.g. {stray[:2]}", hint)
        _same(name, got["logits"], logits, "logits right after injection", hint)
        with torch.no_grad():                # with A and B trained: the wrapped layers must compute LoRA
            for layer, (A, B) in case["factors"].items():
                wrapped[layer].lora_A["default"].weight.copy_(A)
                wrapped[layer].lora_B["default"].weight.copy_(B)
            _same(name, got["trained"], reference(input_ids=inputs["ids"]).logits,
                  "logits with trained A and B (PEFT's with the same A and B)", hint, atol=1e-4, rtol=1e-4)
        lines.append(f"{model_id.split('/')[-1]} {len(got['names'])} layers, {got_trainable:,} trainable")
    wrong = data["wrong_name"]
    if wrong == "NotImplementedError":
        failed(name, "not implemented yet - replace `raise NotImplementedError` with your code", hint)
    if wrong is None:
        failed(name, "a target name that matches nothing ('query_key_value' on a Llama model) was accepted silently "
                     "- that is how 'trainable params: 0' happens", "let find_targets check the names before you change anything")
    if wrong != "ValueError":
        failed(name, f"a target name that matches nothing raised {wrong}, not ValueError", hint)
    return passed(name, "; ".join(lines) + " - all equal to PEFT, with trained A and B too; a wrong name is a ValueError")


@_split_check(_inject_cases, _probe_inject, _judge_inject, build=_ref.build_inject_lora)
def inject_lora(fn) -> None:
    """Check ``fn(model, target_modules, r, alpha, dropout=0.0)``: same trainable count as PEFT on a Llama-style
    and a GPT-NeoX stand-in, nothing else trainable, logits unchanged, a wrong name is a ValueError."""


# ---------------------------------------------------------------- Exercise 5: DoRA

def _dora_cases(seed: int = 2) -> dict:
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for d_in, d_out, r, alpha, bias in _DORA_LAYERS:
        spec = _spec(gen, d_in, d_out, r, alpha, bias)
        norms = spec["weight"].norm(dim=1)
        layers.append(dict(spec, magnitude=norms * (1 + 0.1 * torch.randn(norms.shape, generator=gen))))  # "trained"
    return {"layers": layers}


def _probe_dora(cls, inputs) -> dict:
    """Run the student's DoRA layer: its initial magnitude and output, then outputs and gradients with the check's
    A, B and magnitude."""
    name, hint, data = "dora_forward", _DORA_HINT, []
    for spec in inputs["layers"]:
        ours = _build(name, cls, spec, hint=hint).eval()
        magnitude = getattr(ours, "magnitude", None)
        if not isinstance(magnitude, nn.Parameter):
            failed(name, "the layer has no parameter 'magnitude'", "keep the name: a trainable magnitude, one value per output")
        if magnitude.shape != spec["magnitude"].shape:
            failed(name, f"magnitude has shape {tuple(magnitude.shape)}, expected {tuple(spec['magnitude'].shape)}", hint)
        initial = _data(magnitude)
        with torch.no_grad():
            start = _data(attempt(name, ours, spec["x"], hint=hint))
            magnitude.copy_(spec["magnitude"])
        _set_factors(name, ours, spec, hint)
        data.append(dict(_run(name, ours, spec, hint, params=("A", "B", "magnitude")), initial=initial, start=start))
    return {"layers": data}


def _judge_dora(inputs, data) -> None:
    name, hint, worst = "dora_forward", _DORA_HINT, 0.0
    for spec, got in zip(inputs["layers"], data["layers"]):
        base = _base(spec)
        _same(name, got["initial"], base.weight.detach().norm(dim=1), "initial magnitude",
              "at step 0 the layer must equal the base: what length does each row of W0 have?")
        with torch.no_grad():
            _same(name, got["start"], base(spec["x"]), "output at step 0 (B = 0)", hint)
        theirs = _peft_with(spec, use_dora=True)
        with torch.no_grad():
            theirs.lora_magnitude_vector["default"].weight.copy_(spec["magnitude"])
        params = {"A": theirs.lora_A["default"].weight, "B": theirs.lora_B["default"].weight,
                  "magnitude": theirs.lora_magnitude_vector["default"].weight}
        worst = max(worst, _judge_run(name, got, spec, theirs, params, "output with trained A, B, magnitude", hint,
                                      grad_hint=hint + " (did you detach the norm?)", atol=1e-5))
    return passed(name, f"magnitude starts at ||W0||; outputs and gradients of A, B, magnitude equal PEFT's DoRA "
                        f"(max difference {worst:.1e})")


@_split_check(_dora_cases, _probe_dora, _judge_dora, what="class")
def dora_forward(cls) -> None:
    """Check a DoRA layer ``cls(base, r, alpha)``: magnitude initialised to the row norms of W0, output equal to
    the base at step 0, and outputs plus gradients of A, B, magnitude equal to PEFT's ``use_dora=True`` layer."""
