"""KF2P's resumable training state: weights, EMA, optimiser, progress and every rank's random generators.

Rank 0 writes it; every rank's generator states are gathered first, so a
resumed run (same world size) continues exactly as the interrupted one would
have. Loaded with ``torch.load(weights_only=True)``; generator states of
numpy are stored as JSON text, never pickled.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError
from signeditor.ml.distributed import DistributedContext
from signeditor.ml.kf2p.model import KF2PNet

if TYPE_CHECKING:
    from signeditor.ml.kf2p.trainer import BatchSource

STATE_FORMAT = "signeditor-kf2p-training-state"


def _rank_random_state(source: BatchSource, device: torch.device) -> dict:
    state = {"batch_rng": json.dumps(source.rng.bit_generator.state), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


@dataclass
class TrainingState:
    step: int
    net: dict
    ema: dict
    optimiser: dict
    #: One dict per rank: its batch generator (JSON) and torch generator states.
    ranks: list[dict]
    #: The generators all ranks share (crop lengths, flow noise); None with one process.
    crop_rng: str | None
    noise: torch.Tensor | None
    best: tuple[float, int]
    last_scored: int
    history: list[dict]
    running: float
    base_error: float | None

    @classmethod
    def capture(cls, step: int, net: KF2PNet, ema: KF2PNet, opt: torch.optim.Optimizer, source: BatchSource,
                ctx: DistributedContext, best: tuple[float, int], last_scored: int, history: list[dict],
                running: float, base_error: float | None) -> TrainingState:
        """Called on every rank (the generator states are gathered); only rank 0's copy is written."""
        ranks = ctx.all_gather_objects(_rank_random_state(source, ctx.device))
        return cls(step, net.state_dict(), ema.state_dict(), opt.state_dict(), ranks,
                   None if source.crop_rng is None else json.dumps(source.crop_rng.bit_generator.state),
                   None if source.noise is None else source.noise.get_state(),
                   best, last_scored, list(history), running, base_error)

    def restore(self, net: KF2PNet, ema: KF2PNet, opt: torch.optim.Optimizer, source: BatchSource,
                rank: int) -> None:
        net.load_state_dict(self.net)
        ema.load_state_dict(self.ema)
        opt.load_state_dict(self.optimiser)
        mine = self.ranks[rank]
        source.rng.bit_generator.state = json.loads(mine["batch_rng"])
        torch.set_rng_state(mine["torch"])
        if "cuda" in mine and source.ctx.device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda"], source.ctx.device)
        if source.crop_rng is not None and self.crop_rng is not None:
            source.crop_rng.bit_generator.state = json.loads(self.crop_rng)
        if source.noise is not None and self.noise is not None:
            source.noise.set_state(self.noise)


def save_training_state(state: TrainingState, path: Path) -> None:
    payload = {"format": STATE_FORMAT, "world_size": len(state.ranks), **state.__dict__,
               "best": list(state.best), "history": json.dumps(state.history)}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_bytes_atomically(path, buffer.getvalue())


def load_training_state(path: Path, world: int, device: torch.device) -> TrainingState:
    """The state at ``path``; FileFormatError when it is not one, or was written by another number of ranks."""
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # every way a file can be unreadable: say which file
        raise FileFormatError(path, f"not a KF2P training state ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != STATE_FORMAT:
        raise FileFormatError(path, "not a KF2P training state")
    if payload["world_size"] != world:
        raise FileFormatError(path, f"written by {payload['world_size']} processes, resumed with {world}: "
                                    "resume with the same number of processes")
    payload["best"] = tuple(payload["best"])
    payload["history"] = json.loads(payload["history"])
    for key in ("format", "world_size"):
        payload.pop(key)
    for rank_state in payload["ranks"]:
        rank_state["torch"] = rank_state["torch"].cpu()
        if "cuda" in rank_state:
            rank_state["cuda"] = rank_state["cuda"].cpu()
    if payload["noise"] is not None:
        payload["noise"] = payload["noise"].cpu()
    return TrainingState(**payload)
