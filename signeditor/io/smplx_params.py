"""SMPL-X parameter files (``.npz``): the interchange format of the SMPL-X ecosystem.

Keys are those ``smplx.SMPLX.forward`` takes (axis-angle): ``global_orient``,
``body_pose`` (T, 21, 3), ``left_hand_pose``/``right_hand_pose`` (T, 15, 3),
``jaw_pose``, ``leye_pose``, ``reye_pose``, ``expression``, ``betas``, ``transl``.
Hands are in the flat-hand convention: create the model with
``flat_hand_mean=True, use_pca=False`` (the file also says so in ``flat_hand_mean``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.motion import FEATURE_DIM, Motion, MotionError
from signeditor.io.atomic import atomic_writer
from signeditor.io.errors import FileFormatError
from signeditor.io.validation import finite_scalar, load_npz, numeric_array, validate_motion

#: Our ten body joints are SMPL-X body joints 12..21, i.e. rows 11..20 of ``body_pose`` (which omits the pelvis).
BODY_POSE_ROWS = slice(11, 21)
N_EXPRESSION = 10


def smplx_axis_angle(features: np.ndarray) -> dict[str, np.ndarray]:
    """Our 6D features (..., 246) as SMPL-X axis-angle arrays: ``body_pose`` (..., 21, 3), hands (..., 15, 3), jaw.

    The one place that knows where our joints sit in SMPL-X's layout; files,
    the mannequin and the glTF rig all go through it.
    """
    features = np.asarray(features, dtype=np.float64)
    aa = rotations.rot6d_to_axis_angle(features.reshape(*features.shape[:-1], -1, 6)).astype(np.float32)
    body = np.zeros((*aa.shape[:-2], 21, 3), np.float32)
    body[..., BODY_POSE_ROWS, :] = aa[..., 0:10, :]
    return {"body_pose": body, "left_hand_pose": aa[..., 10:25, :], "right_hand_pose": aa[..., 25:40, :],
            "jaw_pose": aa[..., 40, :]}


def mannequin_pose(pose_features: np.ndarray) -> dict[str, np.ndarray]:
    """Convert features (..., 246) (one frame or a batch) to mannequin-x's pose dictionary (axis-angle, float32).

    The jaw has no mannequin joint, so it is dropped (the wooden avatar has no face rig).
    """
    pose_features = np.asarray(pose_features)
    if pose_features.shape[-1:] != (FEATURE_DIM,):
        raise ValueError(f"a pose has {FEATURE_DIM} values, got {pose_features.shape}")
    smplx = smplx_axis_angle(pose_features)
    batch = pose_features.shape[:-1]
    return {
        "body_pose": smplx["body_pose"],
        "head_pose": np.zeros((*batch, 3, 3), dtype=np.float32),
        "hand_pose": np.concatenate([smplx["left_hand_pose"], smplx["right_hand_pose"]], axis=-2),
        "pelvis_rotation": np.zeros((*batch, 3), dtype=np.float32),
        "global_rotation": np.zeros((*batch, 3), dtype=np.float32),
        "global_translation": np.zeros((*batch, 3), dtype=np.float32),
    }


def motion_to_smplx_params(motion: Motion) -> dict[str, np.ndarray]:
    n = motion.n_frames
    expression = np.zeros((n, N_EXPRESSION), np.float32)
    if motion.expression is not None:
        k = min(N_EXPRESSION, motion.expression.shape[1])
        expression[:, :k] = motion.expression[:, :k]
    zeros3 = np.zeros((n, 3), np.float32)
    return {
        "global_orient": zeros3, **smplx_axis_angle(motion.features),
        "leye_pose": zeros3, "reye_pose": zeros3, "expression": expression,
        "betas": np.zeros((n, 10), np.float32), "transl": zeros3,
        "mocap_framerate": np.array(motion.fps, np.float32), "flat_hand_mean": np.array(True),
    }


def write_smplx_npz(motion: Motion, path: str | Path) -> None:
    with atomic_writer(path) as handle:
        np.savez(handle, **motion_to_smplx_params(motion))


def _pose_array(arrays: dict[str, np.ndarray], key: str, joints: int, n: int, path: Path) -> np.ndarray:
    if key not in arrays:
        return np.zeros((n, joints, 3))
    value = numeric_array(arrays[key], key, path)
    if value.size != n * joints * 3:
        raise FileFormatError(path, f"'{key}' has shape {value.shape}, expected ({n}, {joints}, 3) axis-angle")
    value = value.reshape(n, joints, 3)
    if not np.all(np.isfinite(value)):
        raise FileFormatError(path, f"'{key}' contains NaN or infinite values")
    return value


def read_smplx_npz(path: str | Path, fps: float | None = None) -> Motion:
    """Read SMPL-X (or SMPL-H/AMASS-style ``poses``) parameters as a signing motion."""
    path = Path(path)
    arrays = load_npz(path, path, ".npz of SMPL-X parameters")
    if "body_pose" not in arrays and "poses" in arrays:
        poses = numeric_array(arrays["poses"], "poses", path)
        if poses.ndim != 2 or poses.shape[1] < 66:
            raise FileFormatError(path, f"'poses' has shape {poses.shape}, expected (frames, >=66)")
        arrays["body_pose"] = poses[:, 3:66]
        if poses.shape[1] >= 165:  # SMPL-X full pose: root, body 21, jaw, eyes, hands 2x15
            arrays["jaw_pose"] = poses[:, 66:69]
            arrays["left_hand_pose"] = poses[:, 75:120]
            arrays["right_hand_pose"] = poses[:, 120:165]
        elif poses.shape[1] >= 156:  # SMPL-H: root, body 21, hands 2x15
            arrays["left_hand_pose"] = poses[:, 66:111]
            arrays["right_hand_pose"] = poses[:, 111:156]
    if "body_pose" not in arrays:
        raise FileFormatError(path, "no 'body_pose' (or 'poses') array: not SMPL-X parameters")
    body_raw = np.asarray(arrays["body_pose"])
    n = body_raw.shape[0] if body_raw.ndim >= 1 else 0
    if n == 0:
        raise FileFormatError(path, "the file holds zero frames")
    body = _pose_array(arrays, "body_pose", 21, n, path)
    left = _pose_array(arrays, "left_hand_pose", 15, n, path)
    right = _pose_array(arrays, "right_hand_pose", 15, n, path)
    jaw = _pose_array(arrays, "jaw_pose", 1, n, path)
    if "flat_hand_mean" in arrays and not finite_scalar(arrays["flat_hand_mean"], "flat_hand_mean", path):
        raise FileFormatError(path, "hands use the SMPL-X mean-hand convention; convert to flat_hand_mean first")
    aa = np.concatenate([body[:, BODY_POSE_ROWS], left, right, jaw], axis=1)
    features = rotations.axis_angle_to_rot6d(aa).reshape(n, -1)
    if fps is None:
        fps = finite_scalar(arrays.get("mocap_framerate", arrays.get("fps", 30.0)), "mocap_framerate", path)
    expression = None
    if "expression" in arrays and np.asarray(arrays["expression"]).shape[:1] == (n,):
        expression = numeric_array(arrays["expression"], "expression", path, np.float32).reshape(n, -1)
    try:
        return validate_motion(Motion(fps, features, expression), path)
    except MotionError as exc:
        raise FileFormatError(path, str(exc)) from exc


__all__ = ["motion_to_smplx_params", "read_smplx_npz", "write_smplx_npz"]
