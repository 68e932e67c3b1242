"""Resumable training states shared by KF2P and FAST: every rank's random generators, written by rank 0.

A resumed run continues exactly as the interrupted one would have, so each
rank's numpy and torch generator states are gathered to rank 0 and stored.
Files load with ``torch.load(weights_only=True)``; numpy generator states are
JSON text, never pickled.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError
from signeditor.ml.distributed import DistributedContext


def gather_random_states(ctx: DistributedContext, rng: np.random.Generator) -> list[dict]:
    """Every rank's generator states, in rank order (a collective: all ranks call it)."""
    mine = {"numpy": json.dumps(rng.bit_generator.state), "torch": torch.get_rng_state()}
    if ctx.device.type == "cuda":
        mine["cuda"] = torch.cuda.get_rng_state(ctx.device)
    return ctx.all_gather_objects(mine)


def restore_random_state(states: list[dict], ctx: DistributedContext, rng: np.random.Generator) -> None:
    mine = states[ctx.rank]
    rng.bit_generator.state = json.loads(mine["numpy"])
    torch.set_rng_state(mine["torch"].cpu())
    if "cuda" in mine and ctx.device.type == "cuda":
        torch.cuda.set_rng_state(mine["cuda"].cpu(), ctx.device)


def save_state(path: Path, kind: str, world: int, payload: dict) -> None:
    buffer = io.BytesIO()
    torch.save({"format": kind, "world_size": world, **payload}, buffer)
    write_bytes_atomically(path, buffer.getvalue())


def load_state(path: Path, kind: str, world: int) -> dict:
    """The payload saved at ``path``; FileFormatError when it is not a ``kind`` state or the world size differs."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # every way a file can be unreadable: say which file
        raise FileFormatError(path, f"not a {kind} ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != kind:
        raise FileFormatError(path, f"not a {kind}")
    if payload["world_size"] != world:
        raise FileFormatError(path, f"written by {payload['world_size']} processes, resumed with {world}: "
                                    "resume with the same number of processes")
    return payload
