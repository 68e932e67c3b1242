"""Gloss-guided segmentation of a recording: the frame probabilities the alignment reads, and the alignment.

A recording in the editor has a full skeleton, so both segmenters can read
it: FAST (the whole skeleton, hand shapes included) and fast_tracks (wrist
and head tracks, trained on natural continuous signing). ``both`` mixes
their probabilities, FAST weighing FAST_SHARE: chosen on the corpus'
validation groups (FAST shares 0, 0.25, 0.5, 0.75, 1 compared; see
models/fast_tracks/MODEL_CARD.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from signeditor.core.gloss_alignment import DurationPrior, align_glosses
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment

if TYPE_CHECKING:
    from signeditor.ml.fast_tracks.api import TrackSegmenter

SOURCES: tuple[str, ...] = ("fast", "tracks", "both")
#: The editor's and the CLI's default source of frame probabilities for gloss-guided alignment.
DEFAULT_SOURCE = "both"
#: FAST's weight in ``both`` (fast_tracks has the rest).
FAST_SHARE = 0.75


class FrameProbabilities(Protocol):
    """Anything giving (T, 3) non-sign / in-sign / sign-start probabilities for a motion (FAST, fast_tracks)."""

    def tag_probabilities(self, motion: Motion) -> np.ndarray: ...


class GlossAligner:
    """Lays a gloss list on a motion: probabilities from ``fast`` and/or ``tracks``, then exactly N signs."""

    def __init__(self, fast: FrameProbabilities | None, tracks: TrackSegmenter | None,
                 source: str = DEFAULT_SOURCE, prior: DurationPrior | None = None) -> None:
        if source not in SOURCES:
            raise ValueError(f"unknown probability source {source!r} (expected one of {SOURCES})")
        if (source != "tracks" and fast is None) or (source != "fast" and tracks is None):
            raise ValueError(f"probability source {source!r} needs {'FAST' if fast is None else 'fast_tracks'}")
        self.fast, self.tracks, self.source = fast, tracks, source
        # The duration prior fitted with fast_tracks on natural signing (the default one without it).
        self.prior = prior or (tracks.prior if tracks is not None else None)

    def probabilities(self, motion: Motion) -> np.ndarray:
        if self.source == "fast":
            return self.fast.tag_probabilities(motion)
        if self.source == "tracks":
            return self.tracks.tag_probabilities(motion)
        fast, tracks = self.fast.tag_probabilities(motion), self.tracks.tag_probabilities(motion)
        return FAST_SHARE * fast + (1.0 - FAST_SHARE) * tracks

    def align(self, motion: Motion, glosses: list[str]) -> list[Segment]:
        """Exactly ``len(glosses)`` signs named by them; GlossAlignmentError for an empty or too long list."""
        return align_glosses(self.probabilities(motion), glosses, motion.fps, self.prior)


def load_gloss_aligner(source: str = DEFAULT_SOURCE, fast_weights: str | None = None,
                       tracks_weights: str | None = None) -> GlossAligner:
    """The shipped segmenters (FAST only when the source needs it: it loads torch)."""
    from signeditor.ml.fast_tracks.api import load_track_segmenter

    tracks = load_track_segmenter(tracks_weights) if source != "fast" else None
    fast = None
    if source != "tracks":
        from signeditor.ml.fast.api import load_segmenter

        fast = load_segmenter(fast_weights)
    return GlossAligner(fast, tracks, source)
