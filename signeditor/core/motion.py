"""Dense signing motion: per-frame local joint rotations in 6D form per stream.

The stream layout is SignSparK's (body 60, each hand 90, face = jaw 6 plus
optional expression), so their records convert without loss and the models
see the same features.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from signeditor.core import rotations
from signeditor.core.face import FACE_DIM
from signeditor.core.skeleton import BODY_JOINTS, HAND_JOINT_SUFFIXES, mirror_name

#: Stream name -> number of joints whose 6D rotations it holds.
STREAM_JOINTS: dict[str, int] = {"body": len(BODY_JOINTS), "left_hand": 15, "right_hand": 15, "jaw": 1}
STREAMS: tuple[str, ...] = tuple(STREAM_JOINTS)
STREAM_DIMS: dict[str, int] = {k: 6 * v for k, v in STREAM_JOINTS.items()}
#: Feature dimension of the concatenated rotation streams (60 + 90 + 90 + 6).
FEATURE_DIM: int = sum(STREAM_DIMS.values())
STREAM_SLICES: dict[str, slice] = {}
_start = 0
for _name in STREAMS:
    STREAM_SLICES[_name] = slice(_start, _start + STREAM_DIMS[_name])
    _start += STREAM_DIMS[_name]

IDENTITY_6D = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], dtype=np.float32)


class MotionError(ValueError):
    """A motion array has the wrong shape or non-finite values."""


def identity_features(n_frames: int) -> np.ndarray:
    return np.tile(IDENTITY_6D, (n_frames, FEATURE_DIM // 6)).astype(np.float32)


@dataclass
class Motion:
    """A clip of signing: ``features`` (T, 246) rotations plus optional face expression.

    ``filled`` marks frames whose pose was not observed but filled from
    neighbours (missing detections), so the UI and training can tell them apart.
    ``face`` is the optional face channel (T, FACE_DIM): named weights in [0, 1], see :mod:`signeditor.core.face`.
    ``stream_filled`` (T, len(STREAMS)), when known (keypoint imports), says which streams of a filled frame
    were not observed: a lost hand leaves the tracked arm observed. None: ``filled`` applies to every stream.
    """

    fps: float
    features: np.ndarray
    expression: np.ndarray | None = None
    filled: np.ndarray | None = field(default=None)
    face: np.ndarray | None = None
    stream_filled: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        if self.features.ndim != 2 or self.features.shape[1] != FEATURE_DIM:
            raise MotionError(f"motion features must be (frames, {FEATURE_DIM}), got {self.features.shape}")
        if not np.all(np.isfinite(self.features)):
            raise MotionError("motion features contain NaN or infinite values")
        if not (np.isfinite(self.fps) and 1.0 <= self.fps <= 1000.0):
            raise MotionError(f"fps must be between 1 and 1000, got {self.fps}")
        if self.expression is not None:
            self.expression = np.asarray(self.expression, dtype=np.float32)
            if self.expression.shape[0] != self.n_frames:
                raise MotionError("expression has a different frame count than the rotations")
        if self.filled is None:
            self.filled = np.zeros(self.n_frames, dtype=bool)
        if self.face is not None:
            self.face = np.asarray(self.face, dtype=np.float32)
            if self.face.shape != (self.n_frames, FACE_DIM):
                raise MotionError(f"face channel must be ({self.n_frames}, {FACE_DIM}), got {self.face.shape}")
            if not np.all(np.isfinite(self.face)):
                raise MotionError("face channel contains NaN or infinite values")
        if self.stream_filled is not None:
            self.stream_filled = np.asarray(self.stream_filled, dtype=bool)
            if self.stream_filled.shape != (self.n_frames, len(STREAMS)):
                raise MotionError(f"stream_filled must be ({self.n_frames}, {len(STREAMS)}), "
                                  f"got {self.stream_filled.shape}")

    def filled_by_stream(self) -> np.ndarray:
        """(T, len(STREAMS)) bool: per stream, frames not observed (``filled`` for every stream when unknown)."""
        if self.stream_filled is not None:
            return self.stream_filled.copy()
        return np.repeat(np.asarray(self.filled, dtype=bool)[:, None], len(STREAMS), axis=1)

    @classmethod
    def rest(cls, n_frames: int, fps: float = 25.0) -> Motion:
        return cls(fps, identity_features(n_frames))

    @classmethod
    def from_streams(cls, fps: float, streams: dict[str, np.ndarray], **kwargs: object) -> Motion:
        n = len(next(iter(streams.values())))
        features = identity_features(n)
        for name, values in streams.items():
            features[:, STREAM_SLICES[name]] = np.asarray(values).reshape(n, -1)
        return cls(fps, features, **kwargs)  # type: ignore[arg-type]

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def stream(self, name: str) -> np.ndarray:
        """View of one stream, (T, dims)."""
        return self.features[:, STREAM_SLICES[name]]

    def matrices(self) -> np.ndarray:
        """Local rotation matrices of all rotating joints, (T, 41, 3, 3)."""
        return rotations.rot6d_to_matrix(self.features.reshape(self.n_frames, -1, 6))

    def copy(self) -> Motion:
        return replace(
            self,
            features=self.features.copy(),
            expression=None if self.expression is None else self.expression.copy(),
            filled=None if self.filled is None else self.filled.copy(),
            face=None if self.face is None else self.face.copy(),
            stream_filled=None if self.stream_filled is None else self.stream_filled.copy(),
        )

    def slice(self, start: int, stop: int) -> Motion:
        return Motion(
            self.fps,
            self.features[start:stop].copy(),
            None if self.expression is None else self.expression[start:stop].copy(),
            None if self.filled is None else self.filled[start:stop].copy(),
            None if self.face is None else self.face[start:stop].copy(),
            None if self.stream_filled is None else self.stream_filled[start:stop].copy(),
        )

    def resampled(self, fps: float) -> Motion:
        """Resample in time by interpolating rotations (linear in 6D, re-orthonormalised)."""
        if abs(fps - self.fps) < 1e-6:
            return self.copy()
        n_out = max(1, round(self.duration_s * fps))
        t_out = np.arange(n_out) / fps * self.fps
        features = interpolate_features(self.features, t_out)
        expression = None
        if self.expression is not None:
            src = np.arange(self.n_frames)
            expression = np.stack([np.interp(t_out, src, c) for c in self.expression.T], axis=1)
        nearest = np.clip(np.round(t_out).astype(int), 0, self.n_frames - 1)
        face = None
        if self.face is not None:
            src = np.arange(self.n_frames)
            face = np.stack([np.interp(t_out, src, c) for c in self.face.T], axis=1)
        per_stream = None if self.stream_filled is None else self.stream_filled[nearest]
        return Motion(fps, features, expression, self.filled[nearest], face, per_stream)


def interpolate_features(features: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Sample 6D features at fractional frame ``times`` (clamped to the clip)."""
    n = features.shape[0]
    times = np.clip(np.asarray(times, dtype=np.float64), 0, n - 1)
    lo = np.floor(times).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (times - lo)[:, None]
    blended = features[lo] * (1 - w) + features[hi] * w
    return rotations.orthonormalize_rot6d(blended.reshape(len(times), -1, 6)).reshape(len(times), -1).astype(np.float32)


# Mirroring: swap left and right joints and reflect x. For a rotation matrix,
# reflecting the x axis is M R M with M = diag(-1, 1, 1).
_MIRROR = np.diag([-1.0, 1.0, 1.0])


def _mirror_permutation() -> np.ndarray:
    from signeditor.core.skeleton import ROTATING_JOINTS

    index = {n: i for i, n in enumerate(ROTATING_JOINTS)}
    return np.array([index[mirror_name(n)] for n in ROTATING_JOINTS])


def mirror_features(features: np.ndarray) -> np.ndarray:
    """Left-right mirror of a pose or a motion (..., 246): the signer's left becomes the right."""
    shape = features.shape
    mats = rotations.rot6d_to_matrix(features.reshape(*shape[:-1], -1, 6))
    mats = _MIRROR @ mats @ _MIRROR
    mats = mats[..., _mirror_permutation(), :, :]
    return rotations.matrix_to_rot6d(mats).reshape(shape).astype(np.float32)


def hand_pose_mirrored(hand_6d: np.ndarray) -> np.ndarray:
    """A hand's pose as the other hand would hold it (for "mirror hand" edits)."""
    mats = rotations.rot6d_to_matrix(np.asarray(hand_6d).reshape(-1, len(HAND_JOINT_SUFFIXES), 6))
    return rotations.matrix_to_rot6d(_MIRROR @ mats @ _MIRROR).reshape(np.shape(hand_6d)).astype(np.float32)
