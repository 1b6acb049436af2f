"""The two channels of the grader's sandbox, framed the same way: 8 bytes of length, then the payload.

Inputs go TO the student's process pickled (trusted data into an untrusted process); what comes BACK is read with
``torch.load(weights_only=True)``, which builds tensors, numbers, strings, lists, tuples and dicts and nothing else:
no object of the student's making, no code, crosses into the grader's process.
"""
from __future__ import annotations

import io
import struct

MAX_REPLY = 256 * 2**20   # a reply larger than this is refused (a student's process cannot exhaust the grader's memory)


def send(stream, payload: bytes) -> None:
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def recv(stream, limit: int = MAX_REPLY) -> bytes:
    head = _read(stream, 8)
    (size,) = struct.unpack("<Q", head)
    if size > limit:
        raise ValueError(f"a reply of {size:,} bytes (limit {limit:,})")
    return _read(stream, size)


def _read(stream, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other process closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def as_data(obj, depth: int = 0):
    """What a student's function returned, as plain data (run in the student's process: only honest answers need it)."""
    import torch

    if depth > 20:
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, (str, bytes, bool, int, float, complex, type(None))):
        return obj
    if type(obj).__module__ == "numpy":
        import numpy as np

        return torch.from_numpy(np.array(obj)) if getattr(obj, "ndim", 0) else obj.item()
    if isinstance(obj, dict) or hasattr(obj, "items") and hasattr(obj, "keys"):
        return {k: as_data(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(as_data(v, depth + 1) for v in obj)
    if isinstance(obj, (list, set, frozenset, range)) or type(obj).__name__ in ("generator", "map", "filter", "zip"):
        return [as_data(v, depth + 1) for v in obj]
    return obj


def dump_data(obj) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def load_data(payload: bytes):
    """Data only: tensors, numbers, strings, lists, tuples, dicts (``weights_only``); anything else raises."""
    import torch

    return torch.load(io.BytesIO(payload), weights_only=True)
