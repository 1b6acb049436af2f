"""Files a cut-off copy (a Drive sync or copy that stopped early) or a wrong download can damage, checked before a
library reads them: each ``*_problem`` says what is wrong in words (None: the file looks whole), so the error is one
line naming the file, the problem and the fix - not ``SafetensorError: incomplete metadata`` from deep in a library.
Also the fix for a file the kit ships in data/ (``restore_fix``) and which notebook's output folder holds a path
(``notebook_folder``).
"""
from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import NamedTuple

from .env import REPO_ROOT, output_dir

__all__ = ["adapter_problem", "notebook_folder"]   # what notebooks call (06's find_adapters); the rest: helpers, tests

CUT_OFF = "as a copy or sync that stopped early leaves it"


class DamagedFileError(ValueError):
    """A file that exists but cannot be read; the message is one line: the file, what is wrong, the fix."""

    def __init__(self, path, problem: str, fix: str):
        self.path, self.problem, self.fix = Path(path), problem, fix
        super().__init__(f"Cannot read {path}: {problem}. {fix}")


# The command that rebuilds a file or folder the kit ships in data/, by its name; everything else: make_data.py
REBUILD = {"tokenizer.json": "python scripts/maintainers/build_tokenizer.py",
           "micro-llama": "python scripts/maintainers/pretrain_micro.py",     # the trained stand-ins (data/models.toml)
           "micro-judge": "python scripts/maintainers/train_scorers.py --only judge",
           "micro-reward": "python scripts/maintainers/train_scorers.py --only reward"}


def restore_fix(path) -> str:
    """The fix for a missing or damaged file the kit ships in data/: restore it from git, or rebuild it (with the
    command ``REBUILD`` gives for its folder, as data/micro-llama/model.safetensors, or for its name)."""
    path = Path(path)
    name = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
    rebuild = REBUILD.get(path.parent.name) or REBUILD.get(path.name, "python scripts/maintainers/make_data.py")
    restore = f"It ships with the course kit: restore it with `git checkout -- {name}` (or download the kit again)"
    if (REPO_ROOT / rebuild.split()[1]).is_file():    # the student repository has no maintainer scripts
        return f"{restore}, or rebuild it with `{rebuild}`."
    return f"{restore}."


class NotebookFolder(NamedTuple):
    number: str   # "04"
    name: str     # "04_dpo"


def notebook_folder(path, root=None) -> NotebookFolder | None:
    """Which notebook's output folder holds ``path``: the first folder under ``root`` (default ``output_dir()``) when
    it is named like one, ``NN_name`` (``output_dir()/04_dpo/run/checkpoint-20`` -> ``("04", "04_dpo")``); None for
    a path elsewhere."""
    root = Path(root) if root is not None else output_dir()
    try:
        first = Path(path).resolve().relative_to(root.resolve()).parts[0]
    except (ValueError, IndexError):   # not under root, or root itself
        return None
    return NotebookFolder(first[:2], first) if first[:2].isdigit() and first[2:3] == "_" else None


def _text(raw: bytes, holds: str) -> tuple[str | None, str | None]:
    """``(text, None)``, or ``(None, problem)`` when ``raw`` is empty or not UTF-8 (``holds``: what it should hold)."""
    if not raw.strip():
        return None, f"empty ({len(raw):,} bytes), {CUT_OFF}"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as err:
        return None, (f"not text: byte {err.start:,} of {len(raw):,} is not UTF-8 (the file holds other bytes "
                      f"than {holds})")


def json_problem(path, *, kind: type | None = dict, keys=()) -> str | None:
    """What is wrong with a JSON file, or None: empty, not UTF-8, not valid JSON (cut off or other bytes), not a
    ``kind`` (a JSON object by default), or without one of ``keys``."""
    text, problem = _text(Path(path).read_bytes(), "JSON")
    if problem:
        return problem
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        # the parser ran out of text, or stopped in a last token with no bracket closed after it: the end is missing
        tail = text[err.pos:]
        ends = len(tail.strip()) <= 1 or err.msg.startswith("Unterminated string") or not any(c in tail for c in "]}")
        return (f"not valid JSON ({err.msg}: character {err.pos:,} of {len(text):,})"
                + (f" - its end is missing, {CUT_OFF}" if ends else ""))
    if kind is not None and not isinstance(data, kind):
        return f"valid JSON but a {type(data).__name__}, not the {'object' if kind is dict else kind.__name__} expected"
    missing = [k for k in keys if k not in data]
    if missing:
        return f"valid JSON without {', '.join(repr(k) for k in missing)}: not the file this should be"
    return None


def read_json(path, fix: str, *, kind: type | None = dict, keys=()):
    """The parsed JSON in ``path``; a one-line ``DamagedFileError`` (file, problem, ``fix``) if it cannot be read."""
    if problem := json_problem(path, kind=kind, keys=keys):
        raise DamagedFileError(path, problem, fix)
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path, fix: str) -> list[dict]:
    """One JSON object per line (blank lines skipped); a one-line ``DamagedFileError`` naming the file and the first
    bad line if the file is empty, cut off, not UTF-8 text, or holds anything but JSON objects."""
    path = Path(path)
    text, problem = _text(path.read_bytes(), "JSON lines")
    if problem:
        raise DamagedFileError(path, problem, fix)
    rows, lines = [], text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            last = number == len(lines) and not text.endswith("\n")
            raise DamagedFileError(path, f"line {number:,} is not valid JSON ({err.msg}: character {err.pos:,})"
                                   + (f" - the file is cut off in the middle of it, {CUT_OFF}" if last else ""),
                                   fix) from None
        if not isinstance(row, dict):
            raise DamagedFileError(path, f"line {number:,} is a JSON {type(row).__name__}, not the object "
                                   "(one pair per line) expected", fix)
        rows.append(row)
    return rows


def _safetensors_problem(path: Path, size: int) -> str | None:
    """Reads the 8-byte header length and the JSON header only: a whole file is exactly 8 + header + the largest
    tensor end the header lists (what safetensors checks as "file not fully covered")."""
    if size < 8:
        return f"cut off: {size:,} bytes, not even the 8-byte header length ({CUT_OFF})"
    with path.open("rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        if header_len > 100_000_000:
            return "not a safetensors file: its first bytes are not a header length (other bytes altogether)"
        if 8 + header_len > size:
            return f"cut off inside its header: {size:,} bytes, the header alone needs {8 + header_len:,} ({CUT_OFF})"
        raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
        ends = [int(t["data_offsets"][1]) for name, t in header.items() if name != "__metadata__"]
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, IndexError, TypeError, ValueError):
        return "not a safetensors file: its header is not the JSON table of tensors it should be"
    want = 8 + header_len + max(ends, default=0)
    if size < want:
        return f"cut off: {size:,} of {want:,} bytes ({size / want:.0%}), {CUT_OFF}"
    if size > want:
        return f"{size - want:,} bytes longer than its header says ({want:,}): not what was saved"
    return None


def _torch_file_problem(path: Path, size: int) -> str | None:
    """``torch.save`` writes a zip archive whose directory comes last, so a cut-off copy loses it first: read it."""
    try:
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return f"not a complete PyTorch file ({size:,} bytes without the archive directory torch.save writes last)"
    return None


def file_problem(path) -> str | None:
    """What is wrong with a JSON, ``.safetensors`` or ``torch.save`` file (``.pt``, ``.pth``, ``.bin``), by its
    name, or None; other kinds are not checked."""
    path = Path(path)
    if path.suffix == ".json":
        return json_problem(path, kind=None)
    if path.suffix not in (".safetensors", ".pt", ".pth", ".bin"):
        return None
    size = path.stat().st_size
    if size == 0:
        return f"empty (0 bytes), {CUT_OFF}"
    return (_safetensors_problem if path.suffix == ".safetensors" else _torch_file_problem)(path, size)


def adapter_problem(folder) -> tuple[Path, str] | None:
    """``(file, what is wrong)`` for the first damaged file of a saved PEFT adapter, or None when both look whole
    (a missing file is not damaged: callers handle that)."""
    folder = Path(folder)
    config = folder / "adapter_config.json"
    if config.is_file() and (problem := json_problem(config)):
        return config, problem
    for weights in (folder / "adapter_model.safetensors", folder / "adapter_model.bin"):
        if weights.is_file() and (problem := file_problem(weights)):
            return weights, problem
    return None
