"""Run a notebook's *definitions* outside the notebook, so unit tests test the code the lesson teaches.

The LoRA layer, the DPO loss, ... are defined once, in the notebook that teaches them. A unit test gets them
with ``definitions("01_lora-from-scratch.ipynb", "LoRALinear", "inject_lora")``: every code cell that defines
one of those names at top level (``def``/``class``/assignment) is executed, in order, in one namespace -
with the reference solutions, since the committed notebook keeps them between the SOLUTION markers.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cell magics and the like
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom):  # a lesson function that moved to helpers, imported back by name
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _is_self_check(node) -> bool:
    """An assignment from a self-check, ``name = helpers.check.<check>(name, ...)``."""
    value = getattr(node, "value", None)
    return (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call)
            and ast.unparse(value.func).startswith("helpers.check."))


def _definitions_only(source: str, names: set[str]) -> ast.Module:
    """The cell's imports, function/class definitions, and assignments to requested names - nothing else
    (an exercise cell defines a function, then calls its self-check: the call is left out)."""
    keep = []
    for node in ast.parse(source).body:
        if _is_self_check(node):    # `f = helpers.check.f(f, ...)`: the check's call is left out like any other
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            keep.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                keep.append(node)
    return ast.Module(body=keep, type_ignores=[])


def definitions(notebook: str, *names: str, preamble: str = "import torch\nimport helpers\n") -> dict:
    """A namespace holding ``names`` as the notebook defines them.

    From each cell that defines a requested name at top level, only its imports, def/class statements and
    assignments to requested names run - no training, no plotting, no self-check calls. Request every name
    the definitions need (a constant, a helper function) along with them.
    """
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    namespace: dict = {}
    exec(preamble, namespace)
    found: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        defined = _defined_names(cell.source) & set(names)
        if defined:
            exec(compile(_definitions_only(cell.source, set(names)), f"{notebook}:{cell.get('id', '?')}", "exec"),
                 namespace)
            found |= defined
    missing = set(names) - found
    if missing:
        raise LookupError(f"{notebook} defines no {sorted(missing)} at the top level of a code cell")
    return namespace


def adapter_as_if_trained(model_id: str, *, seed: int, std: float):
    """The quick model with a LoRA adapter whose B is non-zero (as after some training), for tests comparing our
    losses with a library trainer's: with B = 0 every adapter would equal the base model and prove little."""
    import torch
    from peft import get_peft_model

    import helpers

    torch.manual_seed(seed)
    model = get_peft_model(helpers.load_model(model_id, "quick"), helpers.train.lora_config(model_id))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, std)
    return model
