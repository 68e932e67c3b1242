"""Synthetic signing-like motion for tests and for developing without the corpus.

Random key poses held and moved between with eased transitions give motion
with the structure KF2P learns from real data (holds, smooth transitions,
labelled segments), so the training loop can be checked in seconds.
"""

from __future__ import annotations

import numpy as np

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import FEATURE_DIM
from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START


def random_pose(rng: np.random.Generator, scale: float = 0.4) -> np.ndarray:
    return rotations.axis_angle_to_rot6d(rng.normal(0.0, scale, (FEATURE_DIM // 6, 3))).reshape(-1).astype(np.float32)


def synthetic_clip(rng: np.random.Generator, n_frames: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Features (T, 246) and BIO labels (T,): signs every 12-24 frames, cubic transitions between key poses."""
    frames = [0]
    while frames[-1] < n_frames - 1:
        frames.append(min(n_frames - 1, frames[-1] + int(rng.integers(6, 13))))
    base = random_pose(rng)
    anchors = AnchorSet(Anchor(f, rotations.orthonormalize_rot6d(
        (base + random_pose(rng, 0.25) - random_pose(rng, 0.0)).reshape(-1, 6)).reshape(-1)) for f in frames)
    features = interpolate_between_anchors(n_frames, anchors, "cubic")
    labels = np.full(n_frames, NON_SIGN, dtype=np.int8)
    for a, b in zip(frames[1::2], frames[2::2], strict=False):
        labels[a:b] = IN_SIGN
        labels[a] = SIGN_START
    return features, labels
