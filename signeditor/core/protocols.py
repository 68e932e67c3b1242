"""The seams between layers, typed: what the editor, drafts, evaluation and benchmarks need of a model.

The learned models live in ``ml`` (torch), the fallbacks in ``core``/``ml`` and the test fakes in ``tests``; the
code that uses them only needs these calls, so it depends on the protocol instead of ``object``.
"""

from __future__ import annotations

from typing import Protocol

from signeditor.core.anchors import AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment


class MotionGenerator(Protocol):
    """Fills motion between anchors (KF2P, or interpolation): only frames in ``frame_range`` change."""

    def regenerate_between_anchors(self, motion: Motion, anchors: AnchorSet, *,
                                   frame_range: tuple[int, int] | None = None, steps: int | None = None,
                                   seed: int = 0, text: str = "", signed_language: str = "",
                                   guidance: float = 1.0) -> Motion: ...


class Segmenter(Protocol):
    """Finds the signs of a motion (FAST)."""

    def segment(self, motion: Motion) -> list[Segment]: ...


class BatchSegmenter(Segmenter, Protocol):
    """A segmenter that also takes many motions at once (evaluation)."""

    def segment_batch(self, motions: list[Motion]) -> list[list[Segment]]: ...
