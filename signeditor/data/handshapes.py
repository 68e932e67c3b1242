"""Derive the handshape library from the corpus's fingerspelling clips (``signeditor data handshapes``).

Each fingerspelling clip holds one letter. Its handshape is held in the middle of
the letter, so we pool the hand's finger rotations over the central half of the
in-sign frames (observed ones only) and keep the medoid: a real, fitted frame, so
always a valid pose, and robust to the IK's occasional bad frames (a mean of
rotations would blur between them). The signing hand is whichever hand the camera
saw during the letter (some alphabets are signed with the left hand in these
videos; those are mirrored into the right hand's frame). Two-handed alphabets
(e.g. Czech, Croatian, Turkish) keep the raised non-dominant hand too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.handshapes import Handshape, HandshapeLibrary, library_arrays
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
from signeditor.data.corpus import ClipRecord
from signeditor.io.atomic import atomic_writer

#: A hand counts as seen in a frame when at least half of its 21 keypoints were detected.
_SEEN_FRACTION = 0.5
#: The non-dominant hand takes part in the letter when its wrist is this far from hips (0) to shoulders (1).
_RAISED_HEIGHT = 0.2


@dataclass
class _LetterFrames:
    dominant: list[np.ndarray] = field(default_factory=list)
    other: list[np.ndarray] = field(default_factory=list)
    clips: int = 0
    two_handed_clips: int = 0


def medoid(samples: np.ndarray) -> np.ndarray:
    """The sample with the smallest summed distance to all others (samples: (N, D))."""
    samples = np.asarray(samples, dtype=np.float64)
    squared = (samples**2).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * samples @ samples.T, 0.0))
    return samples[int(np.argmin(distances.sum(1)))]


def middle_frames(labels: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Indices of the central half of the observed in-sign frames (all observed frames if none are labelled)."""
    observed = ~np.asarray(filled, dtype=bool)
    candidates = np.flatnonzero(observed & (np.asarray(labels) > 0))
    if len(candidates) == 0:
        candidates = np.flatnonzero(observed)
    quarter = len(candidates) // 4
    return candidates[quarter: len(candidates) - quarter] if len(candidates) >= 4 else candidates


def _hand_points(names: list[str], side: str) -> np.ndarray:
    return np.array([i for i, n in enumerate(names) if n.startswith(f"{side}_HAND_LANDMARKS.")], dtype=int)


def _relative_height(keypoints: np.ndarray, names: list[str], point: int) -> float:
    """Mean height of a keypoint between the hips (0) and the shoulders (1)."""
    def mean_y(*wanted: str) -> np.ndarray:
        return np.mean([keypoints[:, names.index(w), 1] for w in wanted], axis=0)

    hips = mean_y("POSE_LANDMARKS.LEFT_HIP", "POSE_LANDMARKS.RIGHT_HIP")
    shoulders = mean_y("POSE_LANDMARKS.LEFT_SHOULDER", "POSE_LANDMARKS.RIGHT_SHOULDER")
    return float(np.mean((keypoints[:, point, 1] - hips) / np.maximum(shoulders - hips, 1e-6)))


def clip_hand_frames(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(dominant frames (N, 90) in the right hand's frame, other-hand frames (M, 90) in the left's, or None).

    None when neither hand was seen during the letter.
    """
    frames = middle_frames(arrays["labels"], arrays["filled"])
    names = [str(n) for n in arrays["keypoint_names"]]
    observed = arrays["keypoint_observed"][frames]
    keypoints = arrays["keypoints"][frames]
    features = arrays["features"][frames]
    seen = {side: observed[:, _hand_points(names, side)].mean(1) >= _SEEN_FRACTION for side in ("RIGHT", "LEFT")}
    if not (seen["RIGHT"].any() or seen["LEFT"].any()):
        return None
    height = {side: _relative_height(keypoints[seen[side]], names, _hand_points(names, side)[0])
              if seen[side].any() else -np.inf for side in ("RIGHT", "LEFT")}
    dominant = max(("RIGHT", "LEFT"), key=lambda side: (seen[side].mean(), height[side]))
    other = "LEFT" if dominant == "RIGHT" else "RIGHT"

    def hand(side: str) -> np.ndarray:
        return features[seen[side]][:, STREAM_SLICES["right_hand" if side == "RIGHT" else "left_hand"]]

    # Stored as if the dominant hand were the right one: a left-dominant clip is mirrored as a whole.
    dominant_frames = hand(dominant) if dominant == "RIGHT" else hand_pose_mirrored(hand(dominant))
    other_frames = None
    if seen[other].mean() >= _SEEN_FRACTION and height[other] >= _RAISED_HEIGHT:
        other_frames = hand(other) if other == "LEFT" else hand_pose_mirrored(hand(other))
    return dominant_frames, other_frames


def build_handshape_library(records: Iterable[ClipRecord]) -> HandshapeLibrary:
    """One handshape per (signed language, letter) from the fingerspelling clips among ``records``."""
    letters: dict[tuple[str, str], _LetterFrames] = defaultdict(_LetterFrames)
    for record in records:
        if record.kind != "fingerspelling":
            continue
        letter = (record.glosses[0] if record.glosses else record.text).strip()
        if not letter:
            continue
        frames = clip_hand_frames(record.load())
        if frames is None:
            continue
        pooled = letters[(record.signed_language, letter)]
        pooled.clips += 1
        pooled.dominant.append(frames[0])
        if frames[1] is not None:
            pooled.two_handed_clips += 1
            pooled.other.append(frames[1])
    handshapes = []
    for (language, letter), pooled in letters.items():
        two_handed = pooled.two_handed_clips * 2 > pooled.clips
        handshapes.append(Handshape(
            language, letter, medoid(np.concatenate(pooled.dominant)).astype(np.float32),
            medoid(np.concatenate(pooled.other)).astype(np.float32) if two_handed else None, pooled.clips,
        ))
    return HandshapeLibrary(handshapes)


def write_handshape_library(library: HandshapeLibrary, path: str | Path) -> Path:
    """Write the library ``.npz`` atomically (compressed: a few hundred KB for ~600 letters)."""
    path = Path(path)
    with atomic_writer(path) as handle:
        np.savez_compressed(handle, **library_arrays(library))
    return path
