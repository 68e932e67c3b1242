"""Sparse keyframes (anchors): the poses a user or FAST pins in time.

An anchor owns its pose, so dragging it in time carries the pose along and
the dense motion is always something regenerated *from* anchors. Anchor sets
are immutable: each edit returns a new set, which makes undo trivial and lets
a worker thread regenerate from a snapshot while the user keeps editing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from signeditor.core.motion import FEATURE_DIM, STREAM_SLICES, STREAMS

ALL_STREAMS: frozenset[str] = frozenset(STREAMS)
_ids = itertools.count(1)


def new_anchor_id() -> int:
    return next(_ids)


@dataclass(frozen=True)
class Anchor:
    """A pose pinned at a frame for some streams (all by default; e.g. only the right hand)."""

    frame: int
    pose: np.ndarray = field(compare=False, repr=False)
    streams: frozenset[str] = ALL_STREAMS
    label: str = ""
    id: int = field(default_factory=new_anchor_id)

    def __post_init__(self) -> None:
        pose = np.asarray(self.pose, dtype=np.float32).reshape(-1)
        if pose.shape != (FEATURE_DIM,):
            raise ValueError(f"anchor pose must have {FEATURE_DIM} values, got {pose.shape}")
        unknown = set(self.streams) - ALL_STREAMS
        if unknown or not self.streams:
            raise ValueError(f"anchor streams must be a non-empty subset of {STREAMS}, got {sorted(self.streams)}")
        object.__setattr__(self, "pose", pose)
        object.__setattr__(self, "frame", int(self.frame))
        object.__setattr__(self, "streams", frozenset(self.streams))

    def moved_to(self, frame: int) -> Anchor:
        return replace(self, frame=int(frame))

    def with_pose(self, pose: np.ndarray) -> Anchor:
        return replace(self, pose=np.asarray(pose, dtype=np.float32).copy())


class AnchorSet:
    """Anchors sorted by frame; every edit returns a new set."""

    def __init__(self, anchors: Iterable[Anchor] = ()) -> None:
        self._anchors: tuple[Anchor, ...] = tuple(sorted(anchors, key=lambda a: (a.frame, a.id)))

    def __iter__(self) -> Iterator[Anchor]:
        return iter(self._anchors)

    def __len__(self) -> int:
        return len(self._anchors)

    def __getitem__(self, index: int) -> Anchor:
        return self._anchors[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnchorSet):
            return NotImplemented
        return len(self) == len(other) and all(
            a == b and np.array_equal(a.pose, b.pose) for a, b in zip(self, other, strict=True)
        )

    def __repr__(self) -> str:
        return f"AnchorSet(frames={self.frames})"

    @property
    def frames(self) -> list[int]:
        return [a.frame for a in self._anchors]

    def by_id(self, anchor_id: int) -> Anchor:
        for anchor in self._anchors:
            if anchor.id == anchor_id:
                return anchor
        raise KeyError(f"no anchor with id {anchor_id}")

    def added(self, *anchors: Anchor) -> AnchorSet:
        return AnchorSet((*self._anchors, *anchors))

    def removed(self, *anchor_ids: int) -> AnchorSet:
        drop = set(anchor_ids)
        return AnchorSet(a for a in self._anchors if a.id not in drop)

    def replaced(self, *anchors: Anchor) -> AnchorSet:
        """Swap anchors that share an id with the given ones (a move or a pose edit)."""
        new = {a.id: a for a in anchors}
        return AnchorSet(new.get(a.id, a) for a in self._anchors)

    def clamped(self, n_frames: int) -> AnchorSet:
        return AnchorSet(a.moved_to(min(max(a.frame, 0), n_frames - 1)) for a in self._anchors)

    def keyframes(self, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Dense keyframe values (T, 246) and mask (T, 246) for the generator.

        Where anchors overlap on a frame and stream, the later-created one
        wins, matching what the user last did.
        """
        values = np.zeros((n_frames, FEATURE_DIM), dtype=np.float32)
        mask = np.zeros((n_frames, FEATURE_DIM), dtype=np.float32)
        for anchor in sorted(self._anchors, key=lambda a: a.id):
            if not 0 <= anchor.frame < n_frames:
                continue
            for stream in anchor.streams:
                cols = STREAM_SLICES[stream]
                values[anchor.frame, cols] = anchor.pose[cols]
                mask[anchor.frame, cols] = 1.0
        return values, mask

    def neighbours(self, frame: int, stream: str | None = None) -> tuple[int | None, int | None]:
        """Frames of the nearest anchors strictly before and after ``frame`` (for windowed regeneration)."""
        frames = sorted({a.frame for a in self._anchors if stream is None or stream in a.streams})
        before = [f for f in frames if f < frame]
        after = [f for f in frames if f > frame]
        return (before[-1] if before else None, after[0] if after else None)
