"""Classical in-betweening of anchors: slerp and Catmull-Rom on quaternions.

This is what animation tools do by default, so it is both the baseline the
learned generator must beat and the fallback the editor uses when the model
cannot be loaded. Each stream is interpolated on its own, between the anchors
that pin that stream, so a right-hand-only anchor leaves the body free.
"""

from __future__ import annotations

import numpy as np

from signeditor.core import rotations
from signeditor.core.anchors import AnchorSet
from signeditor.core.motion import FEATURE_DIM, STREAM_SLICES, STREAMS, identity_features

METHODS: tuple[str, ...] = ("slerp", "cubic")


def _stream_keys(anchors: AnchorSet, stream: str, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted anchor frames of one stream and their 6D values (the later-created anchor wins on a tie)."""
    cols = STREAM_SLICES[stream]
    by_frame: dict[int, np.ndarray] = {}
    for anchor in sorted(anchors, key=lambda a: a.id):
        if stream in anchor.streams and 0 <= anchor.frame < n_frames:
            by_frame[anchor.frame] = anchor.pose[cols]
    frames = np.array(sorted(by_frame), dtype=np.int64)
    values = np.stack([by_frame[int(f)] for f in frames]) if len(frames) else np.zeros((0, cols.stop - cols.start))
    return frames, values.astype(np.float32)


def _align_hemispheres(quats: np.ndarray) -> np.ndarray:
    """Flip key quaternions so consecutive keys lie in the same hemisphere (shortest arcs).

    Key k is flipped when its dot with key k-1 *as already flipped* is negative, a running sign: each key's sign is
    the previous key's times the sign of their dot, restarting at +1 where the dot is exactly 0 (never flipped).
    Computed for all keys at once as a cumulative product within each run between restarts.
    """
    if len(quats) < 2:
        return quats.copy()
    dots = np.sum(quats[1:] * quats[:-1], axis=-1)  # (K-1, J)
    step = np.where(dots < 0, -1.0, 1.0)
    restart = np.concatenate([np.ones((1, *dots.shape[1:]), dtype=bool), dots == 0])  # (K, J)
    step = np.concatenate([np.ones((1, *dots.shape[1:])), np.where(restart[1:], 1.0, step)])
    running = np.cumprod(step, axis=0)
    # Dividing by the running product at the latest restart (+-1, so multiplying) starts each run at +1.
    last_restart = np.maximum.accumulate(np.where(restart, np.arange(len(quats))[:, None], 0), axis=0)
    sign = running * np.take_along_axis(running, last_restart, axis=0)
    return quats * sign[..., None].astype(quats.dtype)


def _slerp(q0: np.ndarray, q1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation, batched; falls back to normalised lerp for nearly equal keys."""
    dot = np.clip(np.sum(q0 * q1, axis=-1, keepdims=True), -1.0, 1.0)
    theta = np.arccos(dot)
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    a = np.where(near, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    b = np.where(near, w, np.sin(w * theta) / safe)
    out = a * q0 + b * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def _catmull_rom(quats: np.ndarray, times: np.ndarray, seg: np.ndarray, t: np.ndarray,
                 end_tension: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Non-uniform Catmull-Rom (cardinal) spline through key quaternions, renormalised.

    Tangents use the key times, so unevenly spaced anchors do not overshoot;
    end tangents are one-sided, which is what DCC tools do for open curves.
    ``end_tension`` is the Kochanek-Bartels tension of the first and the last key,
    whose one-sided tangents are scaled by ``1 - tension``: 0 is plain Catmull-Rom
    (the animation-tool default); negative values leave the first key and reach
    the last one faster, as a signer's hands do coming out of and going back to rest.
    """
    k = len(times)
    tangents = np.zeros_like(quats)
    if k > 2:
        tangents[1:-1] = (quats[2:] - quats[:-2]) / (times[2:] - times[:-2])[:, None, None]
    tangents[0] = (quats[1] - quats[0]) / (times[1] - times[0])
    tangents[-1] = (quats[-1] - quats[-2]) / (times[-1] - times[-2])
    tangents[0] *= 1.0 - end_tension[0]
    tangents[-1] *= 1.0 - end_tension[1]
    dt = (times[seg + 1] - times[seg]).astype(np.float64)
    u = ((t - times[seg]) / dt)[:, None, None]
    h00 = 2 * u**3 - 3 * u**2 + 1
    h10 = u**3 - 2 * u**2 + u
    h01 = -2 * u**3 + 3 * u**2
    h11 = u**3 - u**2
    dt = dt[:, None, None]
    out = h00 * quats[seg] + h10 * dt * tangents[seg] + h01 * quats[seg + 1] + h11 * dt * tangents[seg + 1]
    return np.stack(rotations.unit_quaternion_components(out, 1e-8), axis=-1)


def _interpolate_stream(frames: np.ndarray, values: np.ndarray, n_frames: int, method: str,
                        end_tension: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    n_joints = values.shape[1] // 6
    quats = rotations.matrix_to_quaternion(rotations.rot6d_to_matrix(values.reshape(-1, n_joints, 6)))
    quats = _align_hemispheres(quats)
    t = np.arange(n_frames, dtype=np.float64)
    if len(frames) == 1:
        out_q = np.broadcast_to(quats[0], (n_frames, n_joints, 4))
    else:
        tc = np.clip(t, frames[0], frames[-1])
        seg = np.clip(np.searchsorted(frames, tc, side="right") - 1, 0, len(frames) - 2)
        if method == "slerp":
            w = ((tc - frames[seg]) / (frames[seg + 1] - frames[seg]))[:, None, None]
            out_q = _slerp(quats[seg], quats[seg + 1], w)
        else:
            out_q = _catmull_rom(quats, frames.astype(np.float64), seg, tc, end_tension)
    out = rotations.quaternion_to_rot6d(out_q).reshape(n_frames, -1)
    # Anchored frames carry the user's pose bit for bit, not its round trip through quaternions.
    out[frames] = values
    return out.astype(np.float32)


def interpolate_between_anchors(
    n_frames: int, anchors: AnchorSet, method: str = "slerp", fps: float = 25.0
) -> np.ndarray:
    """Dense features (T, 246) through the anchors, per stream; identity rest where a stream has no anchor.

    Before a stream's first and after its last anchor the pose is held.
    ``fps`` is accepted for API symmetry with the learned generator; key
    spacing is in frames, so the curve does not depend on it.
    """
    if method not in METHODS:
        raise ValueError(f"unknown interpolation method {method!r}; choose one of {METHODS}")
    del fps
    features = identity_features(n_frames)
    if n_frames <= 0:
        return np.zeros((0, FEATURE_DIM), dtype=np.float32)
    for stream in STREAMS:
        frames, values = _stream_keys(anchors, stream, n_frames)
        if len(frames):
            features[:, STREAM_SLICES[stream]] = _interpolate_stream(frames, values, n_frames, method)
    return features


def interpolate_keyframes(values: np.ndarray, mask: np.ndarray, method: str = "slerp",
                          end_tension: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The same interpolation from dense keyframe arrays (T, 246) with a 0/1 mask, as training builds them.

    A stream counts as anchored on a frame when its first column is masked,
    which is how :meth:`AnchorSet.keyframes` and the training sampler fill masks.
    """
    n_frames = values.shape[0]
    features = identity_features(n_frames)
    # Streams keyed on the same frames (the usual case: anchors pin every stream) are one batch: every joint is
    # interpolated on its own, so batching changes no number, only the count of numpy calls.
    by_frames: dict[bytes, tuple[np.ndarray, list[int]]] = {}
    for stream in STREAMS:
        cols = STREAM_SLICES[stream]
        frames = np.flatnonzero(mask[:, cols.start] > 0.5)
        if len(frames):
            by_frames.setdefault(frames.tobytes(), (frames, []))[1].extend(range(cols.start, cols.stop))
    for frames, columns in by_frames.values():
        keys = values[np.ix_(frames, columns)].astype(np.float32)
        features[:, columns] = _interpolate_stream(frames, keys, n_frames, method, end_tension)
    return features
