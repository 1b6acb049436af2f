"""What a kit script says when it runs before the kit is installed: the one place of that message.

The scripts run this file by its path (``runpy``), because nothing of the kit can be imported until
``scripts/students/install.sh`` (``pip install -e .``) has run; so it uses the standard library only."""
from __future__ import annotations

import sys
from pathlib import Path


def exit_without_kit(err: ModuleNotFoundError, script: str):
    """Exit with how to install the kit if ``err`` is the kit's own ``tools`` missing; re-raise any other."""
    if err.name != "tools":
        raise err
    name = "/".join(Path(script).resolve().parts[-3:])   # scripts/<audience>/<script>.py
    sys.exit(f"{name} needs the kit installed: run `bash scripts/students/install.sh` (or `pip install -e .`) in its "
             "folder")
