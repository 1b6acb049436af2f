"""Self-check cases for 01_lora-from-scratch (see tests/test_checks.py).

The solutions are the notebook's own definitions (tests/nbcode.py runs them); the wrong answers are plausible
student mistakes, written as small variations of those definitions.
"""
import math

import torch
import torch.nn.functional as F

import nbcode as _nbcode  # tests/ is on sys.path under pytest (as for test_dpo's `from nbcode import ...`)

NOTEBOOK = "01_lora-from-scratch.ipynb"
PREAMBLE = ("import math\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
            "from transformers.pytorch_utils import Conv1D\nimport helpers\n")
NB = _nbcode.definitions(NOTEBOOK, "lora_scaling", "LoRALinear", "find_targets", "replace_module", "inject_lora",
                         "DoRALinear", preamble=PREAMBLE)
LoRALinear, DoRALinear = NB["LoRALinear"], NB["DoRALinear"]


def no_args():
    return ()


# --- Exercise 1: the scaling -----------------------------------------------------------------------------------
def scaling_ignores_rslora(alpha, r, rslora=False):
    return alpha / r


def scaling_inverted(alpha, r, rslora=False):
    return r / math.sqrt(alpha) if rslora else r / alpha


# --- Exercise 2: the forward pass --------------------------------------------------------------------------------
class NoScaling(LoRALinear):
    def forward(self, x):
        h = self.base(x)
        return h + F.linear(F.linear(self.dropout(x.to(self.A.dtype)), self.A), self.B).to(h.dtype)


class DropoutOnEverything(LoRALinear):
    def forward(self, x):
        x = self.dropout(x)
        h = self.base(x)
        return h + (F.linear(F.linear(x.to(self.A.dtype), self.A), self.B) * self.scaling).to(h.dtype)


class NoDtypeCast(LoRALinear):
    def forward(self, x):
        return self.base(x) + F.linear(F.linear(self.dropout(x), self.A), self.B) * self.scaling


class ReturnsFp32(LoRALinear):
    def forward(self, x):
        z = x.to(self.A.dtype)
        return self.base(x).to(z.dtype) + F.linear(F.linear(self.dropout(z), self.A), self.B) * self.scaling


class AOnlyUpdate(LoRALinear):       # forgets B: an update that is not connected to B's gradient correctly
    def forward(self, x):
        h = self.base(x)
        update = F.linear(self.dropout(x.to(self.A.dtype)), self.B.detach() @ self.A)
        return h + (update * self.scaling).to(h.dtype)


# --- Exercise 3: merging -----------------------------------------------------------------------------------------
class MergeWithoutScaling(LoRALinear):
    def delta_weight(self):
        return self.B @ self.A


class UnmergeForgets(LoRALinear):
    @torch.no_grad()
    def unmerge(self):
        self.merged = False


class MergeKeepsBranch(LoRALinear):   # merges, but the forward pass still adds the branch: counted twice
    def forward(self, x):
        h = self.base(x)
        return h + (F.linear(F.linear(self.dropout(x.to(self.A.dtype)), self.A), self.B) * self.scaling).to(h.dtype)


# --- Exercise 4: the injection -----------------------------------------------------------------------------------
def inject_without_freezing(model, target_modules, r, alpha, dropout=0.0, rslora=False, layer_cls=LoRALinear):
    names = NB["find_targets"](model, target_modules)
    for name in names:
        NB["replace_module"](model, name, layer_cls(model.get_submodule(name), r, alpha, dropout, rslora))
    for p in model.parameters():
        p.requires_grad_(True)
    return names


def inject_first_only(model, target_modules, r, alpha, dropout=0.0, rslora=False, layer_cls=LoRALinear):
    names = NB["find_targets"](model, target_modules)[:1]
    model.requires_grad_(False)
    for name in names:
        NB["replace_module"](model, name, layer_cls(model.get_submodule(name), r, alpha, dropout, rslora))
    return names


def inject_silently(model, target_modules, r, alpha, dropout=0.0, rslora=False, layer_cls=LoRALinear):
    """Matches by substring and never complains: the 'trainable params: 0' bug."""
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)
             and any(n.endswith(t) for t in target_modules)]
    model.requires_grad_(False)
    for name in names:
        NB["replace_module"](model, name, layer_cls(model.get_submodule(name), r, alpha, dropout, rslora))
    return names


# --- Exercise 5: DoRA --------------------------------------------------------------------------------------------
class DoRANormNotDetached(DoRALinear):
    def forward(self, x):
        h = self.base(x)
        z = x.to(self.A.dtype)
        W0 = self.base.weight.to(z.dtype)
        scale = self.magnitude / (W0 + self.delta_weight()).norm(dim=1)   # gradient flows through the norm
        update = F.linear(F.linear(self.dropout(z), self.A), self.B) * self.scaling
        return h + ((scale - 1) * F.linear(z, W0) + scale * update).to(h.dtype)


class DoRAMagnitudeOnes(DoRALinear):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        self.magnitude = torch.nn.Parameter(torch.ones_like(self.magnitude))


class DoRAIgnoresMagnitude(DoRALinear):
    def forward(self, x):
        return LoRALinear.forward(self, x)


class DoRAMagnitudeMisnamed(DoRALinear):   # __init__ calls the length m (the paper's letter), forward says magnitude
    def __init__(self, base, r, alpha, dropout=0.0):
        LoRALinear.__init__(self, base, r, alpha, dropout)
        self.m = torch.nn.Parameter(self.base.weight.detach().float().norm(dim=1))


# name -> (function returning the extra arguments, solution, [wrong answers beyond the stub])
CASES = {
    "lora_scaling": (no_args, NB["lora_scaling"], [scaling_ignores_rslora, scaling_inverted]),
    "lora_forward": (no_args, LoRALinear, [NoScaling, DropoutOnEverything, NoDtypeCast, ReturnsFp32, AOnlyUpdate]),
    "lora_merge": (no_args, LoRALinear, [MergeWithoutScaling, UnmergeForgets, MergeKeepsBranch]),
    "inject_lora": (no_args, NB["inject_lora"], [inject_without_freezing, inject_first_only, inject_silently]),
    "dora_forward": (no_args, DoRALinear, [DoRANormNotDetached, DoRAMagnitudeOnes, DoRAIgnoresMagnitude,
                                         DoRAMagnitudeMisnamed]),
}
