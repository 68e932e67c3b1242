"""2D tracks of both wrists and the head, and the per-frame features the track segmenter (fast_tracks) reads.

Natural continuous signing with sign timing exists here only as 2D image
tracks of the two hands and the nose (RWTH-BOSTON-104). A segmenter that
reads just those tracks can learn from it, and can run on any recording in
the editor too, by projecting the skeleton's wrists and head onto the
frontal plane. Tracks are normalised per clip (centred on the head, scaled by
the typical hand-to-head distance) so pixels and metres, near and far
cameras, look alike.

Canonical frame: x towards the signer's right, y up, one row per frame,
points in the order left wrist, right wrist, head.
"""

from __future__ import annotations

import numpy as np

from signeditor.core import rotations
from signeditor.core.hand_features import arm_chain
from signeditor.core.motion import STREAM_SLICES, Motion
from signeditor.core.skeleton import BODY_JOINTS, signing_skeleton

LEFT, RIGHT, HEAD = 0, 1, 2
#: Frame rate the track features are computed at (BOSTON-104's); other clips are resampled to it.
TRACKS_FPS = 30.0
#: Per hand: position (2), velocity (2), speed, acceleration magnitude; then the distance between the hands.
TRACK_FEATURE_DIM = 2 * 6 + 1
_SMOOTH = np.array([0.25, 0.5, 0.25])


def tracks_from_motion(motion: Motion) -> np.ndarray:
    """(T, 3, 2) wrists and head of ``motion`` seen from the front, in the canonical frame (metres).

    The skeleton's x points to the signer's left, so it is negated; y is already up. Only the arm chains and
    the neck are posed (the spine never moves), which is what makes this cheap on long recordings.
    """
    features = np.asarray(motion.features, dtype=np.float32)
    skeleton = signing_skeleton()
    neck = STREAM_SLICES["body"].start + 6 * BODY_JOINTS.index("Neck")
    neck_rotation = rotations.rot6d_to_matrix(features[:, neck : neck + 6])
    head = skeleton.rest_positions()[skeleton.index("Neck")] + neck_rotation @ skeleton.offsets[skeleton.index("Head")]
    points = np.stack([arm_chain(features, "L")[1], arm_chain(features, "R")[1], head], axis=1)[..., :2]
    return np.stack([-points[..., 0], points[..., 1]], axis=-1)


def resample_tracks(tracks: np.ndarray, fps: float, target_fps: float = TRACKS_FPS) -> np.ndarray:
    """Tracks at ``target_fps`` by linear interpolation (the clip keeps its duration)."""
    tracks = np.asarray(tracks, dtype=np.float64)
    if abs(fps - target_fps) < 1e-6 or len(tracks) < 2:
        return tracks.copy()
    n_out = max(1, round(len(tracks) * target_fps / fps))
    t_out = np.clip(np.arange(n_out) * fps / target_fps, 0, len(tracks) - 1)
    flat = tracks.reshape(len(tracks), -1)
    src = np.arange(len(tracks))
    out = np.stack([np.interp(t_out, src, column) for column in flat.T], axis=1)
    return out.reshape(n_out, *tracks.shape[1:])


def normalise_tracks(tracks: np.ndarray) -> np.ndarray:
    """(T, 2, 2) wrists relative to the clip's median head position, in units of the median hand-to-head
    distance; a clip whose hands never leave the head (degenerate) keeps unit scale."""
    tracks = np.asarray(tracks, dtype=np.float64)
    head = np.median(tracks[:, HEAD], axis=0)
    hands = tracks[:, :HEAD] - head
    scale = float(np.median(np.linalg.norm(hands, axis=-1))) if len(tracks) else 0.0
    return hands / (scale if scale > 1e-9 else 1.0)


def _smoothed(x: np.ndarray) -> np.ndarray:
    if len(x) < 3:
        return x
    padded = np.concatenate([x[:1], x, x[-1:]])
    return _SMOOTH[0] * padded[:-2] + _SMOOTH[1] * padded[1:-1] + _SMOOTH[2] * padded[2:]


def track_features(tracks: np.ndarray, fps: float) -> np.ndarray:
    """(T', TRACK_FEATURE_DIM) float32 features of (T, 3, 2) tracks, at TRACKS_FPS (T' frames).

    Velocities are central differences of lightly smoothed positions (image
    trackers jitter and repeat frames), per second, so frame rate does not
    change their scale.
    """
    hands = normalise_tracks(resample_tracks(tracks, fps))
    n = len(hands)
    out = np.zeros((n, TRACK_FEATURE_DIM), dtype=np.float32)
    if n == 0:
        return out
    smooth = _smoothed(hands)
    velocity = np.gradient(smooth, axis=0) * TRACKS_FPS if n > 1 else np.zeros_like(smooth)
    accel = np.gradient(velocity, axis=0) * TRACKS_FPS if n > 1 else np.zeros_like(smooth)
    for k in (LEFT, RIGHT):
        columns = slice(6 * k, 6 * k + 6)
        out[:, columns] = np.column_stack([
            hands[:, k], velocity[:, k], np.linalg.norm(velocity[:, k], axis=-1),
            0.1 * np.linalg.norm(accel[:, k], axis=-1),
        ])
    out[:, 12] = np.linalg.norm(hands[:, LEFT] - hands[:, RIGHT], axis=-1)
    return out


def frames_at_rate(values: np.ndarray, n_frames: int, fps: float, values_fps: float = TRACKS_FPS) -> np.ndarray:
    """Per-frame ``values`` computed at ``values_fps`` read back at a clip's own ``n_frames`` at ``fps``."""
    if len(values) == n_frames:
        return values
    src = np.clip(np.round(np.arange(n_frames) * values_fps / fps).astype(int), 0, max(len(values) - 1, 0))
    return values[src]
