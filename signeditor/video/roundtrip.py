"""How well an imported video recovers the motion that was rendered into it (round-trip tests and the bench).

Rendering our own motion with our own exporter is the only ground truth to be
had here (no real signer's video can be used). The camera sees the signer
from one side only, so the recovered arm positions are compared after one
similarity alignment (rotation, uniform scale, translation) over the whole
clip, in shoulder widths.
"""

from __future__ import annotations

import numpy as np

from signeditor.core.kinematics import forward_kinematics, shoulder_width
from signeditor.core.motion import Motion
from signeditor.core.skeleton import JOINT_INDEX

ARM_JOINTS: tuple[str, ...] = ("L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist")


def similarity_aligned(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` (N, 3) mapped onto ``target`` by the least-squares rotation, scale and translation (Umeyama)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s / len(s))
    d = np.ones(3)
    d[-1] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag(d) @ vt
    scale = float((sigma * d).sum() / max((s**2).sum() / len(s), 1e-12))
    return scale * s @ rotation.T + mu_t


def arm_errors(reference: Motion, recovered: Motion) -> np.ndarray:
    """Per frame and joint: distance between elbows and wrists after alignment, in shoulder widths."""
    n = min(reference.n_frames, recovered.n_frames)
    joints = [JOINT_INDEX[j] for j in ARM_JOINTS]
    truth = forward_kinematics(reference.features[:n])
    found = forward_kinematics(recovered.features[:n])
    unit = shoulder_width(truth[0])
    aligned = similarity_aligned(found[:, joints].reshape(-1, 3), truth[:, joints].reshape(-1, 3))
    return np.linalg.norm(aligned - truth[:, joints].reshape(-1, 3), axis=-1).reshape(n, len(joints)) / unit


def arm_axis_scale(reference: Motion, recovered: Motion) -> np.ndarray:
    """Spread of the recovered elbows and wrists over the reference's, per axis (x across, y up, z depth), after
    the similarity alignment: 1 is right; a horizontal scale error shows as x differing from y."""
    n = min(reference.n_frames, recovered.n_frames)
    joints = [JOINT_INDEX[j] for j in ARM_JOINTS]
    truth = forward_kinematics(reference.features[:n])[:, joints].reshape(-1, 3)
    found = forward_kinematics(recovered.features[:n])[:, joints].reshape(-1, 3)
    aligned = similarity_aligned(found, truth)
    return aligned.std(axis=0) / np.maximum(truth.std(axis=0), 1e-9)


def mirrored_motion(motion: Motion) -> Motion:
    """The motion's mirror image (left and right exchanged): what a detector sees in a figure it takes from behind."""
    from signeditor.core.motion import mirror_features

    return Motion(motion.fps, mirror_features(motion.features))
