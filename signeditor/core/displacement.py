"""Pose edits on recorded motion as displacements: per-joint rotation offsets that fade out at the neighbours.

When a user changes an anchor's pose on captured motion, redoing the motion
between anchors would throw away everything the capture had there (timing,
small movements, tremor-free holds). Motion warping keeps it: the change is
an offset ``D = R_new R_old^T`` per joint, applied as ``D(t) R(t)`` with
``D(t)`` slerped from the anchor's offset to the identity at its neighbouring
anchors along a smoothstep (zero slope at every key, so the edit eases in and
out). Frames whose both neighbouring keys are unedited are not touched at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from signeditor.core import rotations

#: Offsets below this angle (radians) are no edit: float round trips must not displace a recording.
IDENTITY_TOLERANCE = 1e-5


@dataclass(frozen=True)
class DisplacementKey:
    """The offset of every joint of one stream at one anchor frame; ``edited`` marks non-identity joints."""

    frame: int
    offsets: np.ndarray  # (J, 3, 3) float64
    edited: np.ndarray  # (J,) bool

    @classmethod
    def identity(cls, frame: int, n_joints: int) -> DisplacementKey:
        return cls(frame, np.broadcast_to(np.eye(3), (n_joints, 3, 3)).copy(), np.zeros(n_joints, dtype=bool))

    @classmethod
    def between(cls, frame: int, new_pose: np.ndarray, old_pose: np.ndarray) -> DisplacementKey:
        """The offset that turns ``old_pose`` into ``new_pose`` (both 6D, one stream)."""
        return displacement_keys([frame], np.reshape(new_pose, (1, -1)), np.reshape(old_pose, (1, -1)))[0]


def displacement_keys(frames: Sequence[int], new_poses: np.ndarray, old_poses: np.ndarray) -> list[DisplacementKey]:
    """Keys for many anchors at once (K, 6J) each; an anchor whose pose is bit for bit the old one is no edit."""
    new_poses, old_poses = np.asarray(new_poses), np.asarray(old_poses)
    n_keys, n_joints = new_poses.shape[0], new_poses.shape[1] // 6
    offsets = np.broadcast_to(np.eye(3), (n_keys, n_joints, 3, 3)).copy()
    edited = np.zeros((n_keys, n_joints), dtype=bool)
    changed = np.flatnonzero(np.any(new_poses != old_poses, axis=1))  # the usual case is no edit: no conversions
    if len(changed):
        new = rotations.rot6d_to_matrix(new_poses[changed].astype(np.float64).reshape(-1, n_joints, 6))
        old = rotations.rot6d_to_matrix(old_poses[changed].astype(np.float64).reshape(-1, n_joints, 6))
        relative = new @ np.swapaxes(old, -1, -2)
        moved = np.linalg.norm(rotations.matrix_to_axis_angle(relative), axis=-1) > IDENTITY_TOLERANCE
        offsets[changed] = np.where(moved[..., None, None], relative, np.eye(3))
        edited[changed] = moved
    return [DisplacementKey(int(f), offsets[k], edited[k]) for k, f in enumerate(frames)]


def smoothstep(u: np.ndarray) -> np.ndarray:
    """3u² - 2u³: 0 at 0, 1 at 1, flat at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def apply_displacements(features: np.ndarray, keys: Sequence[DisplacementKey]) -> np.ndarray:
    """One stream's 6D features (T, 6J) with the keys' offsets faded between them; a new array.

    Between two keys the offset is the slerp of theirs along a smoothstep; the
    clip's ends act as unedited keys just outside it, so an edit on the first
    or last anchor fades out towards the clip's ends rather than holding.
    Frames and joints where both surrounding keys are unedited keep their exact values.
    """
    features = np.asarray(features)
    out = features.copy()
    n_frames = features.shape[0]
    n_joints = features.shape[1] // 6
    ordered = sorted(keys, key=lambda k: k.frame)
    if n_frames == 0 or not any(k.edited.any() for k in ordered):
        return out
    keys_all = [DisplacementKey.identity(-1, n_joints), *ordered, DisplacementKey.identity(n_frames, n_joints)]
    key_frames = np.array([k.frame for k in keys_all], dtype=np.float64)
    offsets = np.stack([k.offsets for k in keys_all])  # (K, J, 3, 3)
    edited = np.stack([k.edited for k in keys_all])  # (K, J)
    t = np.arange(n_frames, dtype=np.float64)
    left = np.clip(np.searchsorted(key_frames, t, side="right") - 1, 0, len(keys_all) - 2)
    right = left + 1
    span = np.maximum(key_frames[right] - key_frames[left], 1e-9)
    weight = smoothstep((t - key_frames[left]) / span)
    # A key's own frame has weight 0 (or 1) exactly: an unedited key leaves its frame untouched, bit for bit.
    touched = (edited[left] & (weight < 1.0)[:, None]) | (edited[right] & (weight > 0.0)[:, None])  # (T, J)
    rows, joints = np.nonzero(touched)
    if len(rows) == 0:
        return out
    offset = rotations.slerp_matrices(offsets[left[rows], joints], offsets[right[rows], joints], weight[rows])
    grid = out.reshape(n_frames, n_joints, 6)
    current = rotations.rot6d_to_matrix(grid[rows, joints].astype(np.float64))
    grid[rows, joints] = rotations.matrix_to_rot6d(offset @ current).astype(out.dtype)
    return out
