"""Every `helpers` name a notebook calls is public and listed; helpers/__init__ exports nothing else.

Walks every notebook's code cells (as Python syntax, so comments and strings do not count) and collects each
`helpers.<name>`, `helpers.<module>.<name>` and `from helpers.<module> import <name>` they use. Each must exist, be
public (no leading underscore), and be listed: `helpers.<name>` in `helpers.__all__`, `helpers.<module>.<name>` in
that module's `__all__`. Students' homework calls these names, so they are the kit's stable interface.
"""
import ast
import importlib
import re

import nbformat
import pytest

import helpers
from nbcode import NOTEBOOKS

MAGIC = re.compile(r"^\s*[%!].*$", re.M)  # IPython magics and shell lines are not Python: blanked before parsing


def _chain(node) -> list[str] | None:
    """['helpers', 'train', 'fit'] for the expression helpers.train.fit; None if it is not rooted at `helpers`."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) and node.id == "helpers" else None


def uses(source: str) -> set[tuple[str, ...]]:
    """Every ('helpers', module..., name) path a piece of notebook code reaches, longest chain only."""
    found = set()
    for node in ast.walk(ast.parse(MAGIC.sub("", source))):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
            chain = _chain(node)
            if chain:
                found.add(tuple(chain))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
            found |= {(*node.module.split("."), alias.name) for alias in node.names}
        for child in ast.iter_child_nodes(node):
            child.parent = node
    return found


def notebook_uses() -> dict[tuple[str, ...], set[str]]:
    """{('helpers', 'train', 'fit'): {'03', '04', '05'}, ...} over every notebook's code cells."""
    out: dict[tuple[str, ...], set[str]] = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for chain in uses(cell.source):
                    out.setdefault(chain, set()).add(path.name[:2])
    return out


def listed_path(chain: tuple[str, ...]) -> tuple[str, ...]:
    """The part of a chain that names the kit's interface: stop at the first non-module attribute (its own
    attributes, such as ``helpers.train.fit(...).global_step``, are not the kit's names)."""
    obj, keep = helpers, ["helpers"]
    for name in chain[1:]:
        keep.append(name)
        obj = getattr(obj, name)
        if type(obj).__name__ != "module":
            break
    return tuple(keep)


USES = notebook_uses()


def test_the_walk_finds_the_kits_names():
    """The collector itself: it sees attribute chains and from-imports, and skips comments and strings."""
    found = uses("import helpers\nx = helpers.train.fit(t).global_step  # helpers.nothing\ns = 'helpers.nope'\n"
                 "from helpers.prefs import fits, to_pairs\n%matplotlib inline\n")
    assert {listed_path(c) for c in found} == {("helpers", "train", "fit"), ("helpers", "prefs", "fits"),
                                               ("helpers", "prefs", "to_pairs")}
    assert len(USES) > 50 and ("helpers", "train", "ensure_sft_adapter") in {listed_path(c) for c in USES}


@pytest.mark.parametrize("chain", sorted({listed_path(c) for c in USES}), ids=".".join)
def test_every_name_a_notebook_calls_is_public_and_listed(chain):
    *modules, name = chain
    owner = importlib.import_module(".".join(modules))
    where = sorted(n for c, ns in USES.items() if listed_path(c) == chain for n in ns)
    assert not any(part.startswith("_") for part in chain), f"{'.'.join(chain)} (notebooks {where}) is private"
    assert name in getattr(owner, "__all__", ()), (
        f"{'.'.join(chain)} is called by notebooks {where} but not listed in {owner.__name__}.__all__")


def test_helpers_exports_only_what_notebooks_call():
    called = {c[1] for c in map(listed_path, USES)}
    assert sorted(set(helpers.__all__) - called) == [], "helpers.__all__ lists names no notebook calls"
    assert len(helpers.__all__) == len(set(helpers.__all__))
