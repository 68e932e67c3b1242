"""Per-frame sign labels for corpus clips: from gloss timings, or from hand activity for isolated signs."""

from __future__ import annotations

import itertools

import numpy as np

from signeditor.core.segments import UNKNOWN_LABEL, Segment, labels_from_segments
from signeditor.io.pose_reader import SIDE_HAND, SIDE_WORD

#: A hand counts as signing when detected and its wrist is above this height (skeleton frame, metres; the
#: shoulders are at +0.08 and a hanging wrist near -0.45), i.e. roughly above the waist.
ACTIVE_WRIST_HEIGHT = -0.25
#: Gaps in activity up to this many frames (at 25 fps) are bridged: a hand briefly lost is still signing.
BRIDGE_FRAMES = 5


def unknown_labels(n_frames: int) -> np.ndarray:
    return np.full(n_frames, UNKNOWN_LABEL, dtype=np.int8)


def labels_for(segments: list[Segment], n_frames: int) -> np.ndarray:
    return np.asarray(labels_from_segments(segments, n_frames), dtype=np.int8)


def gloss_segments(
    glosses: list[str], starts_ms: list[float], ends_ms: list[float], span_ms: tuple[float, float], n_frames: int
) -> list[Segment]:
    """Gloss times (ms) mapped linearly onto the clip's frames.

    The DGS sentence files are the gloss spans cut out and re-joined, so
    absolute times do not hold; scaling the sentence span onto the file's
    length keeps order and count exact and boundaries approximate.
    """
    start, end = span_ms
    length = max(end - start, 1e-9)
    segments: list[Segment] = []
    for gloss, s, e in zip(glosses, starts_ms, ends_ms, strict=True):
        first = int(np.clip(round((s - start) / length * n_frames), 0, n_frames - 1))
        last = int(np.clip(round((e - start) / length * n_frames), first + 1, n_frames))
        segments.append(Segment(first, last, gloss))
    return segments


def hand_activity(names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Per frame: some hand detected and raised above the waist."""
    index = {n: i for i, n in enumerate(names)}
    active = np.zeros(positions.shape[0], dtype=bool)
    for side, hand in SIDE_HAND.items():
        wrist = index.get(f"{hand}.WRIST", index.get(f"POSE_LANDMARKS.{SIDE_WORD[side]}_WRIST"))
        if wrist is None:
            continue
        active |= observed[:, wrist] & (positions[:, wrist, 1] > ACTIVE_WRIST_HEIGHT)
    return active


def activity_segment(active: np.ndarray, gloss: str = "") -> Segment | None:
    """One sign from the first to the last active frame (isolated clips hold exactly one sign)."""
    frames = np.flatnonzero(active)
    if frames.size == 0:
        return None
    return Segment(int(frames[0]), int(frames[-1]) + 1, gloss)


def bridge_gaps(active: np.ndarray, max_gap: int = BRIDGE_FRAMES) -> np.ndarray:
    """Close inactive runs shorter than ``max_gap`` that lie between active frames."""
    out = active.copy()
    frames = np.flatnonzero(active)
    for a, b in itertools.pairwise(frames):
        if 1 < b - a <= max_gap + 1:
            out[a:b] = True
    return out
