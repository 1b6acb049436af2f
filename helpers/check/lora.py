"""Self-checks for 01_lora-from-scratch: each compares the student's LoRA pieces with PEFT's LoRA layer.

The student's class is called as ``cls(base, r=..., alpha=..., dropout=...)`` and keeps the notebook's names: ``A``
(r, d_in) and ``B`` (d_out, r) as parameters, ``scaling``, ``merged``, ``delta_weight()``, ``merge()``, ``unmerge()``;
DoRA adds ``magnitude`` (d_out,). Exercises 2-5 are split in three (``_split_check``) so that, graded, the part that
touches the student's object runs in the student's process and the verdict in the grader's (grading/worker.py).
"""
from __future__ import annotations

import functools
import logging
import warnings

import torch
from torch import nn

from . import _reference as _ref
from ..models import load_model, lora_targets
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
_NAMES_HINT = "keep the notebook's names: A, B (DoRA: magnitude) as nn.Parameters"
_SHAPE_HINT = "A is (r, d_in), B is (d_out, r) and DoRA's magnitude holds one length per output"
_same = functools.partial(close, tensor=True)     # data a student's object gave: only a plain tensor is compared


@self_check(reference=_ref.lora_scaling)
def lora_scaling(fn) -> None:
    """Check ``fn(alpha, r, rslora=False)`` against the scaling PEFT computes, with and without rsLoRA."""
    name = "lora_scaling"
    cases = [(32, 16, False), (16, 4, True), (8, 8, False), (64, 16, True), (1, 2, False), (12, 9, True)]
    for alpha, r, rslora in cases:   # PEFT works the scaling out as it builds a LoRA layer (LoraLayer.update_layer)
        want = _peft_layer(nn.Linear(1, 1), r, alpha, use_rslora=rslora).scaling["default"]
        got = attempt(name, fn, alpha, r, rslora, hint="the function takes alpha, r and rslora and returns one number")
        close(name, got, want, what=f"scaling for alpha={alpha}, r={r}, rslora={rslora}",
              hint="reread the two definitions above the exercise: what divides alpha for LoRA, and what for rsLoRA?")
    return passed(name, f"{len(cases)} settings equal PEFT's scaling")


def _split_check(cases, probe, **fallback):
    """Make a judge the self-check named after it, in three parts the grader can run apart: ``.cases(seed)`` chooses
    the inputs (data); ``.probe(yours, inputs)``, the only part that touches the student's object, returns what it
    did as data; ``.judge(inputs, data)`` compares that with PEFT on the same inputs. The check runs judge(inputs,
    probe(yours, inputs)); graded, a probe the student's code patched can only send other data, judged the same way.
    The judge's docstring is the check's too: it says what is checked, and what ``data`` is."""
    def decorate(judge):
        judge = torch.no_grad()(judge)      # the judge computes no gradients, but for PEFT's in _judge_run

        def check(yours) -> None:
            inputs = cases()
            judge(inputs, probe(yours, inputs))

        check.__name__, check.__doc__ = judge.__name__, judge.__doc__
        run = self_check(**fallback)(check)
        run.cases, run.probe, run.judge = cases, probe, judge
        return run
    return decorate


# ---------------------------------------------------------------- the layers' inputs, and what a layer did
def _spec(gen, d_in, d_out, r, alpha, bias=True, dtype="float32", batch=(3,)):
    """One layer's inputs: a base layer's weights, A, B, an input x and an upstream gradient for the output."""
    return {"d_in": d_in, "d_out": d_out, "r": r, "alpha": alpha, "dtype": dtype,
            "weight": torch.randn(d_out, d_in, generator=gen) / d_in ** 0.5,
            "bias": torch.randn(d_out, generator=gen) if bias else None,
            "A": torch.randn(r, d_in, generator=gen) / d_in ** 0.5, "B": torch.randn(d_out, r, generator=gen),
            "x": torch.randn(*batch, d_in, generator=gen).to(getattr(torch, dtype)),     # in the base's dtype
            "grad_out": torch.randn(*batch, d_out, generator=gen)}


def _base(spec) -> nn.Linear:
    base = nn.Linear(spec["d_in"], spec["d_out"], bias=spec["bias"] is not None)
    base.load_state_dict({key: spec[key] for key in ("weight", "bias") if spec[key] is not None})
    return base.to(getattr(torch, spec["dtype"]))


def _build(name, cls, spec, hint="the class is called as LoRALinear(base, r=..., alpha=..., dropout=...)",
           dropout=0.0, put=("A", "B")):
    """The student's layer around ``spec``'s base, holding ``spec``'s values of the parameters ``put``."""
    layer = attempt(name, cls, _base(spec), r=spec["r"], alpha=spec["alpha"], dropout=dropout, hint=hint)
    _put(name, layer, spec, put)
    return layer


def _params(name, layer, values, attrs, hint="") -> list:
    """The layer's parameters ``attrs``, each shaped like ``values[attr]``; a missing parameter or a wrong shape is a
    FAIL with the caller's ``hint`` when it gives one (it knows the exercise), else the names or shapes."""
    params = []
    for attr in attrs:
        param = getattr(layer, attr, None)
        if not isinstance(param, nn.Parameter):
            failed(name, f"the layer ({type(layer).__name__}) has no parameter {attr!r}", hint or _NAMES_HINT)
        if param.shape != values[attr].shape:
            failed(name, f"{attr} has shape {tuple(param.shape)}, expected {tuple(values[attr].shape)}",
                   hint or _SHAPE_HINT)
        params.append(param)
    return params


@torch.no_grad()
def _put(name, layer, values, attrs, hint=""):
    """Copy ``values[attr]`` into the layer's parameter ``attr`` for each of ``attrs`` (checked by ``_params``)."""
    for attr, param in zip(attrs, _params(name, layer, values, attrs, hint)):
        param.copy_(values[attr])


def _data(value):
    """What the student's object gave, as the judge may receive it: a plain tensor (detached), else the value."""
    if isinstance(value, torch.Tensor):
        return value.detach().as_subclass(torch.Tensor).clone()
    return value


def _run(name, layer, spec, hint, params=("A", "B")) -> dict:
    """The layer's output for x and, if the output is connected to them, the gradients of ``params`` for grad_out."""
    out, grads = attempt(name, layer, spec["x"], hint=hint), None
    if isinstance(out, torch.Tensor) and out.requires_grad and out.shape == spec["grad_out"].shape:
        attempt(name, lambda: (out * spec["grad_out"]).sum().backward(), hint=hint)
        grads = {p: _data(getattr(layer, p).grad) for p in params}
    return {"out": _data(out), "grads": grads}


def _peft():
    """PEFT, imported without bitsandbytes' harmless CPU notice."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    import peft

    return peft


def _peft_layer(base, r, alpha, **options):
    """PEFT's LoRA layer (adapter 'default') around ``base``, as PEFT builds it for a targeted nn.Linear."""
    peft = _peft()
    config = peft.LoraConfig(r=r, lora_alpha=alpha, **options)
    return peft.tuners.lora.Linear(base, "default", config, r=r, lora_alpha=alpha)


def _peft_with(spec, **options):
    """PEFT's LoRA layer (eval mode) around ``spec``'s base in fp32, holding ``spec``'s A and B (DoRA: magnitude),
    and those parameters by the notebook's names."""
    theirs = _peft_layer(_base(dict(spec, dtype="float32")), spec["r"], spec["alpha"], **options).eval()
    factors = {"A": theirs.lora_A["default"].weight, "B": theirs.lora_B["default"].weight}
    if options.get("use_dora"):
        factors["magnitude"] = theirs.lora_magnitude_vector["default"].weight
    with torch.no_grad():
        for attr, param in factors.items():
            param.copy_(spec[attr])
    return theirs, factors


def _judge_run(name, got, spec, what, hint, grad_hint="", atol=1e-6, **options) -> float:
    """A ``_run`` against PEFT's layer on the same inputs: the output, then each trainable parameter's gradient."""
    theirs, factors = _peft_with(spec, **options)
    with torch.enable_grad():
        want = theirs(spec["x"])
        (want * spec["grad_out"]).sum().backward()
    worst = _same(name, got["out"], want.detach(), what=what, hint=hint, atol=atol)
    if got["grads"] is None:
        failed(name, "the output is not connected to A and B (no gradient)",
               "build the update from the layer's trainable parameters")
    for attr, param in factors.items():
        if got["grads"].get(attr) is None:
            failed(name, f"{attr} got no gradient", hint)
        worst = max(worst, _same(name, got["grads"][attr], param.grad, what=f"gradient of {attr}",
                                 hint=grad_hint or hint, atol=atol))
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
        data["layers"].append(_run(name, _build(name, cls, spec).eval(), spec, hint))
    spec = inputs["dropout"]
    ours = _build(name, cls, spec, dropout=1.0).train()
    with torch.no_grad():
        data["dropout"] = _data(attempt(name, ours, spec["x"], hint=hint))
    for spec in inputs["half"]:
        ours = _build(name, cls, spec).eval()
        with torch.no_grad():
            got = attempt(name, ours, spec["x"], hint="the branch's input must have the trainable weights' dtype")
        data["half"].append({"factors": (str(ours.A.dtype), str(ours.B.dtype)), "out": _data(got)})
    return data


@_split_check(_forward_cases, _probe_forward, build=_ref.build_lora_forward, what="class")
def lora_forward(inputs, data) -> None:
    """Check the student's LoRA layer ``cls.forward``: outputs and A/B gradients equal PEFT's LoRA layer (fp32,
    random A and B), dropout on the LoRA branch only, and an fp16/bf16 base with fp32 A and B. As ``judge(inputs,
    data)``: ``data`` is what ``_probe_forward`` returned for ``inputs``, compared with PEFT on the same inputs."""
    name, hint, worst = "lora_forward", _FORWARD_HINT, 0.0
    for spec, got in zip(inputs["layers"], data["layers"]):
        what = f"output of a {spec['d_in']} -> {spec['d_out']}, r={spec['r']} layer"
        worst = max(worst, _judge_run(name, got, spec, what, hint))
    spec = inputs["dropout"]     # dropout p = 1 drops every input of the branch: W0·x must be untouched
    _same(name, data["dropout"], _base(spec)(spec["x"]), what="output in training mode with dropout=1.0",
          hint="dropout belongs on the LoRA branch only, never on the frozen layer's input")
    for spec, got in zip(inputs["half"], data["half"]):     # a half-precision base: A and B stay fp32
        dtype = getattr(torch, spec["dtype"])
        equal(name, tuple(got["factors"]), (str(torch.float32), str(torch.float32)),
              what=f"dtype of (A, B) next to a {dtype} base", hint="the trainable weights stay fp32 whatever the base's dtype")
        x = spec["x"]
        want = _base(spec)(x).float() + _peft_with(spec)[0].scaling["default"] * (x.float() @ spec["A"].T @ spec["B"].T)
        _same(name, got["out"], want, atol=0.05, rtol=0.02, what=f"output for a {dtype} base", hint=hint)
        equal(name, got["out"].dtype, dtype, what=f"output dtype for a {dtype} base",
              hint="the layer's output keeps the base output's dtype")
    return passed(name, f"outputs and A/B gradients equal PEFT's (max difference {worst:.1e}); dropout on the branch "
                        "only; fp16 and bf16 bases work with fp32 A and B")


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
        with torch.no_grad():
            delta = attempt(name, ours.delta_weight, hint="the weight change the branch adds, as one (d_out, d_in) matrix")
            attempt(name, ours.merge, hint="fold the change into the frozen weight, in that weight's dtype")
            merged = _weight(name, ours)
            after = attempt(name, ours, spec["x"], hint="the forward pass (Exercise 2) must work first")
            attempt(name, ours.unmerge, hint="unmerge undoes exactly what merge did")
            data.append({"delta": _data(delta), "merged": merged, "after": _data(after), "restored": _weight(name, ours)})
    return {"layers": data}


@_split_check(_merge_cases, _probe_merge, build=_ref.build_lora_merge, what="class")
def lora_merge(inputs, data) -> None:
    """Check the student's LoRA layer's ``delta_weight``, ``merge`` and ``unmerge`` against PEFT's get_delta_weight
    and W0. As ``judge(inputs, data)``: ``data`` is what ``_probe_merge`` returned for ``inputs``."""
    name = "lora_merge"
    for spec, got in zip(inputs["layers"], data["layers"]):
        dtype = getattr(torch, spec["dtype"])
        theirs, W0 = _peft_with(spec)[0], _base(spec).weight.float()
        tol = dict(atol=1e-5, rtol=1e-4) if dtype == torch.float32 else dict(atol=2e-2, rtol=1e-2)
        delta = theirs.get_delta_weight("default")
        _same(name, got["delta"], delta, what="delta_weight()",
              hint="the branch is linear: which single matrix does it multiply x by? Scaling included")
        _same(name, got["merged"], W0 + delta, what=f"merged weight ({dtype})",
              hint="after merging, the frozen weight holds the whole change", **tol)
        _same(name, got["after"], theirs(spec["x"].float()), what=f"output after merge ({dtype})",
              hint="once merged, the branch must not be added a second time", **tol)
        _same(name, got["restored"], W0, what=f"weight after unmerge ({dtype})",
              hint="unmerge must give back the original frozen weight", **tol)
    return passed(name, "delta_weight equals PEFT's; merged output equals PEFT's; unmerge restores W0 (fp32, fp16)")


# ---------------------------------------------------------------- Exercise 4: the injection
def _peft_reference(model_id, targets):
    """PEFT's LoRA (r=4, alpha=8) on a fresh stand-in model, and {module name: PEFT's LoRA layer}."""
    peft = _peft()
    with warnings.catch_warnings():  # PEFT calls a transformers API that was renamed (a FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model = load_model(model_id, "quick", device="cpu")
        model = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    return model, {n: m for n, m in model.base_model.model.named_modules() if hasattr(m, "lora_A")}


def _inject_cases(seed: int = 0) -> dict:
    """The stand-in models and targets, and for every layer PEFT wraps an A and a B to put in after the injection."""
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
    """The student's inject_lora on fresh stand-ins: names returned, parameters, logits (before/after A, B are set)."""
    name, data = "inject_lora", {"cases": []}
    for case in inputs["cases"]:
        model = load_model(case["model_id"], "quick", device="cpu")
        names = attempt(name, fn, model, case["targets"], r=4, alpha=8, hint=_INJECT_HINT)
        with torch.no_grad():
            logits = _data(model.eval()(input_ids=inputs["ids"]).logits)
        params = [(n, p.numel(), bool(p.requires_grad)) for n, p in model.named_parameters()]
        trained = None
        if sorted(names or []) == sorted(case["factors"]):
            for layer, (A, B) in case["factors"].items():
                _put(name, model.get_submodule(layer), {"A": A, "B": B}, ("A", "B"), _INJECT_HINT)
            with torch.no_grad():
                trained = _data(model(input_ids=inputs["ids"]).logits)
        data["cases"].append({"names": [str(n) for n in names] if isinstance(names, (list, tuple)) else None,
                              "params": params, "logits": logits, "trained": trained})
    try:
        fn(load_model("HuggingFaceTB/SmolLM2-135M", "quick", device="cpu"), ["query_key_value"], r=4, alpha=8)
        data["wrong_name"] = None
    except Exception as err:  # the student's code: what it raised, as data
        data["wrong_name"] = type(err).__name__
    return data


@_split_check(_inject_cases, _probe_inject, build=_ref.build_inject_lora)
def inject_lora(inputs, data) -> None:
    """Check ``fn(model, target_modules, r, alpha, dropout=0.0)``: same trainable count as PEFT on a Llama-style
    and a GPT-NeoX stand-in, nothing else trainable, logits unchanged, a wrong name is a ValueError. As
    ``judge(inputs, data)``: ``data`` is what ``_probe_inject`` returned for ``inputs``, compared with PEFT."""
    name, hint, lines = "inject_lora", _INJECT_HINT, []
    for case, got in zip(inputs["cases"], data["cases"]):
        model_id, targets = case["model_id"], case["targets"]
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
        _same(name, got["logits"], reference(input_ids=inputs["ids"]).logits,     # PEFT's B starts at 0
              what="logits right after injection", hint=hint)
        for layer, (A, B) in case["factors"].items():   # with A and B trained: the wrapped layers must compute LoRA
            wrapped[layer].lora_A["default"].weight.copy_(A)
            wrapped[layer].lora_B["default"].weight.copy_(B)
        _same(name, got["trained"], reference(input_ids=inputs["ids"]).logits,
              what="logits with trained A and B (PEFT's with the same A and B)", hint=hint, atol=1e-4, rtol=1e-4)
        lines.append(f"{model_id.split('/')[-1]} {len(got['names'])} layers, {got_trainable:,} trainable")
    if data["wrong_name"] is None:
        failed(name, "a target name that matches nothing ('query_key_value' on a Llama model) was accepted silently "
                     "- that is how 'trainable params: 0' happens", "let find_targets check the names before you change anything")
    if data["wrong_name"] != "ValueError":
        failed(name, f"a target name that matches nothing raised {data['wrong_name']}, not ValueError", hint)
    return passed(name, "; ".join(lines) + " - all equal to PEFT, with trained A and B too; a wrong name is a ValueError")


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
    """The student's DoRA layer: magnitude and output as built, then outputs and gradients with the check's values."""
    name, hint, data = "dora_forward", _DORA_HINT, []
    for spec in inputs["layers"]:
        ours = _build(name, cls, spec, hint=hint, put=()).eval()
        _params(name, ours, spec, ("magnitude", "A", "B"))      # the notebook's names, before the student's forward
        initial = _data(ours.magnitude)
        with torch.no_grad():
            start = _data(attempt(name, ours, spec["x"], hint=hint))
        _put(name, ours, spec, ("magnitude", "A", "B"))
        data.append(dict(_run(name, ours, spec, hint, params=("A", "B", "magnitude")), initial=initial, start=start))
    return {"layers": data}


@_split_check(_dora_cases, _probe_dora, what="class")
def dora_forward(inputs, data) -> None:
    """Check a DoRA layer ``cls(base, r, alpha)``: magnitude initialised to the row norms of W0, output equal to
    the base at step 0, and outputs plus gradients of A, B, magnitude equal to PEFT's ``use_dora=True`` layer. As
    ``judge(inputs, data)``: ``data`` is what ``_probe_dora`` returned for ``inputs``, compared with PEFT."""
    name, hint, worst = "dora_forward", _DORA_HINT, 0.0
    for spec, got in zip(inputs["layers"], data["layers"]):
        base = _base(spec)
        _same(name, got["initial"], base.weight.norm(dim=1), what="initial magnitude",
              hint="at step 0 the layer must equal the base: what length does each row of W0 have?")
        _same(name, got["start"], base(spec["x"]), what="output at step 0 (B = 0)", hint=hint)
        worst = max(worst, _judge_run(name, got, spec, "output with trained A, B, magnitude", hint, use_dora=True,
                                      grad_hint=hint + " (did you detach the norm?)", atol=1e-5))
    return passed(name, f"magnitude starts at ||W0||; outputs and gradients of A, B, magnitude equal PEFT's DoRA "
                        f"(max difference {worst:.1e})")
