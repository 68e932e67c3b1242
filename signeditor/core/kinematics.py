"""Forward kinematics of the signing skeleton, vectorised over frames."""

from __future__ import annotations

import numpy as np

from signeditor.core import rotations
from signeditor.core.skeleton import JOINT_INDEX, JOINT_NAMES, ROTATING_JOINTS, Skeleton, signing_skeleton

_ROTATING_POSITION = np.array([JOINT_NAMES.index(n) for n in ROTATING_JOINTS])


def local_matrices(features: np.ndarray, n_joints: int = len(JOINT_NAMES)) -> np.ndarray:
    """Local rotation of every skeleton joint, identity for fixed joints and tips: (T, J, 3, 3)."""
    features = np.asarray(features)
    n = features.shape[0]
    local = np.broadcast_to(np.eye(3), (n, n_joints, 3, 3)).copy()
    local[:, _ROTATING_POSITION] = rotations.rot6d_to_matrix(features.reshape(n, -1, 6))
    return local


def shoulder_width(positions: np.ndarray) -> float:
    """Distance between the shoulders in one frame's (J, 3) positions: the unit of position metrics."""
    return float(np.linalg.norm(positions[JOINT_INDEX["L_Shoulder"]] - positions[JOINT_INDEX["R_Shoulder"]]))


def forward_kinematics(
    features: np.ndarray, skeleton: Skeleton | None = None, *, with_rotations: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Joint positions (T, J, 3) in metres; optionally world rotations (T, J, 3, 3) too."""
    skeleton = skeleton or signing_skeleton()
    local = local_matrices(features, len(skeleton.names))
    n = local.shape[0]
    world_rot = np.empty_like(local)
    positions = np.empty((n, len(skeleton.names), 3))
    for j, parent in enumerate(skeleton.parents):
        if parent < 0:
            world_rot[:, j] = local[:, j]
            positions[:, j] = skeleton.offsets[j]
        else:
            world_rot[:, j] = world_rot[:, parent] @ local[:, j]
            positions[:, j] = positions[:, parent] + world_rot[:, parent] @ skeleton.offsets[j]
    if with_rotations:
        return positions, world_rot
    return positions


def joint_positions(features: np.ndarray, names: tuple[str, ...], skeleton: Skeleton | None = None) -> np.ndarray:
    """Positions (T, len(names), 3) of a few joints: :func:`forward_kinematics` walked along their chains only.

    The same numbers as ``forward_kinematics(features)[:, [JOINT_INDEX[n] for n in names]]`` for a fraction of the
    work when few joints are asked for (KF2P's end tension reads the shoulders and wrists of two anchor poses).
    """
    skeleton = skeleton or signing_skeleton()
    chain: set[int] = set()
    for name in names:
        j = skeleton.names.index(name)
        while j >= 0 and j not in chain:
            chain.add(j)
            j = skeleton.parents[j]
    local = local_matrices(features, len(skeleton.names))
    n = local.shape[0]
    world_rot: dict[int, np.ndarray] = {}
    positions: dict[int, np.ndarray] = {}
    for j in sorted(chain):  # parents come before children in the skeleton's order
        parent = skeleton.parents[j]
        if parent < 0:
            world_rot[j] = local[:, j]
            positions[j] = np.broadcast_to(skeleton.offsets[j], (n, 3)).astype(np.float64)
        else:
            world_rot[j] = world_rot[parent] @ local[:, j]
            positions[j] = positions[parent] + world_rot[parent] @ skeleton.offsets[j]
    return np.stack([positions[skeleton.names.index(name)] for name in names], axis=1)
