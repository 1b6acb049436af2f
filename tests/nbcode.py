"""Run a notebook's *definitions* outside the notebook, so unit tests test the code the lesson teaches.

The LoRA layer, the DPO loss, ... are defined once, in the notebook that teaches them. A unit test gets them
with ``definitions("01_lora-from-scratch.ipynb", "LoRALinear", "inject_lora")``: every code cell that defines
one of those names at top level (``def``/``class``/assignment) is executed, in order, in one namespace -
with the reference solutions, since the committed notebook keeps them between the SOLUTION markers. Which names a
cell defines, and what of it runs, is tools/notebook.py's (``defined_names``, ``definitions_only``).
"""
from __future__ import annotations

from tools.notebook import NOTEBOOKS, defined_names, definitions_only, read  # noqa: F401  (NOTEBOOKS: for tests)


def definitions(notebook: str, *names: str, preamble: str = "import torch\nimport helpers\n") -> dict:
    """A namespace holding ``names`` as the notebook defines them.

    From each cell that defines a requested name at top level, only its imports, def/class statements and
    assignments to requested names run - no training, no plotting, no self-check calls. Request every name
    the definitions need (a constant, a helper function) along with them.
    """
    nb = read(NOTEBOOKS / notebook)
    namespace: dict = {}
    exec(preamble, namespace)
    found: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        defined = defined_names(cell.source) & set(names)
        if defined:
            exec(compile(definitions_only(cell.source, set(names)), f"{notebook}:{cell.get('id', '?')}", "exec"),
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
