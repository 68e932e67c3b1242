"""Data-parallel training across processes (``torchrun``): ranks, shards and the sums every rank must share.

With one process (no ``WORLD_SIZE`` in the environment, or 1) nothing here
changes a computation, so single-process training stays bit for bit what it
was. Under ``torchrun`` each process is one rank: gloo on CPU, NCCL on GPUs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")


@dataclass(frozen=True)
class DistributedContext:
    rank: int
    world: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that validates, logs and writes checkpoints."""
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of a list: every world-th item from its rank on (all items with one process)."""
        return list(items[self.rank :: self.world])

    def all_reduce_sum(self, values: np.ndarray) -> np.ndarray:
        """Element-wise sum over ranks (float64 on the wire), as a numpy array of the input's shape."""
        if not self.distributed:
            return values
        import torch.distributed as dist

        tensor = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self._wire_device())
        dist.all_reduce(tensor)
        return tensor.cpu().numpy().reshape(np.shape(values))

    def all_gather_objects(self, value: Any) -> list[Any]:
        """One picklable value from each rank, in rank order (only trusted values this program made)."""
        if not self.distributed:
            return [value]
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.world
        dist.all_gather_object(gathered, value)
        return gathered

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    def _wire_device(self) -> torch.device:
        # NCCL reduces only tensors on the GPU; gloo only on the CPU (float64 sums are not used on NCCL's hot path).
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def init_distributed() -> DistributedContext:
    """This process's rank, world size and device; joins the process group when launched by torchrun.

    Calling it again returns the same context (the CLI calls it to load its shard, then training calls it).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistributedContext(0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), device)


def finish_distributed() -> None:
    """Leave the process group together (every rank calls this; torchrun's processes must leave, or hang at exit).

    The barrier first: rank 0 may still be validating and writing the weights, and a rank that destroys its
    group and exits meanwhile aborts in gloo ("terminate called without an active exception").
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


class GlobalMaskedMean:
    """The masked mean over the global batch (all ranks' rows), scaled for DDP's gradient averaging.

    One process takes ``sum(values * weight) / sum(weight)`` over its batch.
    With the batch split over ranks, each rank's own masked mean would weigh
    its rows by its own count; instead the counts are summed over ranks, and
    the world size undoes DDP's averaging of the gradients, so the gradient
    is that of the global batch's masked mean. The returned value is this
    rank's share: its mean over the ranks is the global batch's masked mean.
    """

    def __init__(self, world: int) -> None:
        self.world = world

    def __call__(self, values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        count = weight.expand_as(values).sum().detach().clone()
        dist.all_reduce(count)
        return (values * weight).sum() * self.world / count.clamp_min(1.0)
