"""KF2P's resumable training state: weights, EMA, optimiser, progress and every rank's random generators."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from signeditor.ml.distributed import DistributedContext
from signeditor.ml.kf2p.model import KF2PNet
from signeditor.ml.training_state import gather_random_states, load_state, restore_random_state, save_state

if TYPE_CHECKING:
    from signeditor.ml.kf2p.trainer import BatchSource

STATE_KIND = "signeditor KF2P training state"


@dataclass
class TrainingState:
    step: int
    net: dict
    ema: dict
    optimiser: dict
    #: One dict per rank: its batch generator and torch generator states.
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
        return cls(step, net.state_dict(), ema.state_dict(), opt.state_dict(), gather_random_states(ctx, source.rng),
                   None if source.crop_rng is None else json.dumps(source.crop_rng.bit_generator.state),
                   None if source.noise is None else source.noise.get_state(),
                   best, last_scored, list(history), running, base_error)

    def restore(self, net: KF2PNet, ema: KF2PNet, opt: torch.optim.Optimizer, source: BatchSource) -> None:
        net.load_state_dict(self.net)
        ema.load_state_dict(self.ema)
        opt.load_state_dict(self.optimiser)
        restore_random_state(self.ranks, source.ctx, source.rng)
        if source.crop_rng is not None and self.crop_rng is not None:
            source.crop_rng.bit_generator.state = json.loads(self.crop_rng)
        if source.noise is not None and self.noise is not None:
            source.noise.set_state(self.noise)


def save_training_state(state: TrainingState, path: Path) -> None:
    payload = {**asdict(state), "best": list(state.best), "history": json.dumps(state.history)}
    save_state(path, STATE_KIND, len(state.ranks), payload)


def load_training_state(path: Path, world: int) -> TrainingState:
    """The state at ``path``; FileFormatError when it is not one, or was written by another number of ranks."""
    payload = load_state(path, STATE_KIND, world)
    payload["best"] = tuple(payload["best"])
    payload["history"] = json.loads(payload["history"])
    del payload["format"], payload["world_size"]
    return TrainingState(**payload)
