"""Drift guard: a deprecation that the kit's OWN call triggers is an error in the test suite, so a renamed argument
or function is fixed while the old name still works - not after the library removes it.

``install(kit_root)`` hooks the point where Python shows a warning (``warnings._showwarnmsg``, which pytest's
warning capture and the notebook kernels both go through). For a ``DeprecationWarning`` or ``FutureWarning`` it
walks the stack from the code that warned outwards to the first frame of the kit (``helpers/``, ``tests/``,
``scripts/`` or a notebook cell):

- the kit called the deprecated thing itself (a constructor chain such as a TRL config's checks, or at most
  ``DEPTH`` functions of the one library it called) -> raised as an error that names the kit's line;
- a library calls a deprecated API itself (PEFT reading ``model.is_gradient_checkpointing``, TRL inside
  ``trainer.train()``, torch at import) -> not the kit's to fix: a FutureWarning is shown as usual, a
  DeprecationWarning stays hidden as Python hides it by default.

conftest.py installs it in the pytest process, and in every notebook kernel nbval starts (an IPython startup
file); ``scripts/ci/rehearse.py`` runs through the same conftest. Pure standard library, no side effects on import.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

DEPTH = 2  # library functions allowed between the kit's call and the warning: the function + one wrapper level
_TRANSPARENT = ("__init__", "__post_init__", "__new__")  # a constructor chain is one call


def _is_kit(filename: str, roots: tuple[str, ...]) -> bool:
    if "ipykernel_" in filename or filename.startswith("<ipython-input"):
        return True   # a notebook cell
    return filename.startswith(roots) and not filename.endswith("strict_warnings.py")


def _package(frame) -> str:
    return str(frame.f_globals.get("__name__", "")).split(".")[0]


def kit_caller(frame, roots: tuple[str, ...], depth: int = DEPTH):
    """The kit frame that made the deprecated call, or None when the warning comes from deeper library code.

    The kit's call is to blame when, between it and the warning, there is only
    - a constructor chain (``__init__``/``__post_init__``, e.g. ``DPOConfig(...)`` -> TrainingArguments' checks), or
    - at most ``depth`` functions of ONE library: the function the kit called (and a wrapper/decorator of it).
    A library using another library's deprecated API (PEFT reading ``model.is_gradient_checkpointing``) is not."""
    between = []
    while frame is not None:
        code = frame.f_code
        if _is_kit(code.co_filename, roots):
            break
        if not code.co_filename.startswith("<frozen"):
            between.append(frame)
        frame = frame.f_back
    if frame is None:
        return None
    calls = [f for f in between if not (f.f_code.co_filename == "<string>" or f.f_code.co_name in _TRANSPARENT)]
    if not calls:
        return frame
    if len(calls) <= depth and len({_package(f) for f in between}) == 1:
        return frame
    return None


def install(kit_root) -> None:
    """Turn deprecations triggered by the kit's own calls into errors (idempotent)."""
    if getattr(warnings._showwarnmsg, "_kit_guard", False):
        return
    root = str(Path(kit_root).resolve())
    roots = tuple(f"{root}/{folder}/" for folder in ("helpers", "tests", "scripts"))
    original = warnings._showwarnmsg

    def show(msg):
        if issubclass(msg.category, (DeprecationWarning, FutureWarning)):
            caller = kit_caller(sys._getframe(1), roots)
            if caller is not None:
                err = msg.category(str(msg.message))
                err.add_note(f"The drift guard (tests/strict_warnings.py) makes this an error: the kit's own call at "
                             f"{caller.f_code.co_filename}:{caller.f_lineno} uses a deprecated API ({msg.filename}:"
                             f"{msg.lineno}). Switch to the new name now, while the old one still works.")
                raise err
            if issubclass(msg.category, DeprecationWarning):
                return   # a library's own business; hidden, as Python does by default
        original(msg)

    show._kit_guard = True
    warnings._showwarnmsg = show
    # let both categories reach the hook (Python's defaults hide DeprecationWarning outside __main__)
    warnings.filterwarnings("default", category=DeprecationWarning)
    warnings.filterwarnings("default", category=FutureWarning)


STARTUP = """# written by conftest.py: the drift guard inside each notebook kernel (see tests/strict_warnings.py)
import importlib.util as _u
_spec = _u.spec_from_file_location("_kit_strict_warnings", {path!r})
_mod = _u.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
_mod.install({root!r})
del _u, _spec, _mod
"""


def write_kernel_startup(ipython_dir, kit_root) -> Path:
    """An IPython profile whose startup file installs the guard; point IPYTHONDIR at ``ipython_dir``."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    path = startup / "00-kit-strict-warnings.py"
    path.write_text(STARTUP.format(path=str(Path(__file__).resolve()), root=str(Path(kit_root).resolve())),
                    encoding="utf-8")
    return path
