"""fast_tracks: find signs from the 2D tracks of both wrists and the head (numpy only, no torch).

It runs on what a hand tracker gives (BOSTON-104's hand and nose tracks)
and on any recording in the editor (the skeleton's wrists and head projected
to the front view), so it can learn from and be judged on natural signing
that has no full skeleton.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from signeditor.core.gloss_alignment import DurationPrior, align_glosses
from signeditor.core.hand_tracks import TRACKS_FPS, frames_at_rate, track_features, tracks_from_motion
from signeditor.core.motion import Motion
from signeditor.core.segmentation_decoding import DecodingSettings, decode_segments
from signeditor.core.segments import Segment
from signeditor.ml.fast_tracks.network import TracksWeights, forward, load_weights
from signeditor.paths import MODELS_DIR

DEFAULT_TRACKS_WEIGHTS = MODELS_DIR / "fast_tracks" / "fast_tracks.npz"


class TrackSegmenter:
    """The network, its decoding settings (tuned on validation sentences) and its sign-duration prior."""

    def __init__(self, weights: TracksWeights) -> None:
        self.weights = weights
        known = {f.name for f in fields(DecodingSettings)}
        self.decoding = DecodingSettings(**{k: v for k, v in weights.extra.get("decoding", {}).items() if k in known})
        known = {f.name for f in fields(DurationPrior)}
        self.prior = DurationPrior(**{k: v for k, v in weights.extra.get("prior", {}).items() if k in known})

    def probabilities_of_tracks(self, tracks: np.ndarray, fps: float) -> np.ndarray:
        """(T, 3) non-sign / in-sign / sign-start probabilities for (T, 3, 2) tracks at ``fps``."""
        if len(tracks) == 0:
            return np.zeros((0, 3), np.float32)
        probs = forward(self.weights, track_features(tracks, fps))
        return frames_at_rate(probs, len(tracks), fps, TRACKS_FPS)

    def tag_probabilities(self, motion: Motion) -> np.ndarray:
        return self.probabilities_of_tracks(tracks_from_motion(motion), motion.fps)

    def tag_probabilities_batch(self, motions: list[Motion]) -> list[np.ndarray]:
        return [self.tag_probabilities(m) for m in motions]

    def decode(self, probabilities: np.ndarray) -> list[Segment]:
        """Signs from frame probabilities with the decoding settings tuned on validation sentences."""
        return decode_segments(probabilities, self.decoding)

    def segment(self, motion: Motion) -> list[Segment]:
        return self.decode(self.tag_probabilities(motion))

    def segment_batch(self, motions: list[Motion]) -> list[list[Segment]]:
        return [self.segment(m) for m in motions]

    def align(self, probabilities: np.ndarray, glosses: list[str], fps: float) -> list[Segment]:
        """Exactly ``len(glosses)`` signs named by them (see core.gloss_alignment)."""
        return align_glosses(probabilities, glosses, fps, self.prior)

    def describe(self) -> dict:
        return {"decoding": asdict(self.decoding), "prior": asdict(self.prior)}


def load_track_segmenter(path: str | Path | None = None) -> TrackSegmenter:
    """The segmenter at ``path`` (default: the shipped ``models/fast_tracks/fast_tracks.npz``)."""
    return TrackSegmenter(load_weights(Path(path) if path is not None else DEFAULT_TRACKS_WEIGHTS))
