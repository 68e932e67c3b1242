"""The mannequin's joint hierarchy placed on the signing skeleton: one skeleton for mesh, FK and every file.

mannequin-x's own rest offsets are slightly asymmetric (elbows ~2 cm apart left/right), while forward
kinematics, BVH, ``.pose`` and every metric use the symmetrised :func:`~signeditor.core.skeleton.signing_skeleton`.
Posing the mannequin with its own offsets made the viewport mesh and the glTF rig disagree with everything else,
so the mesh is skinned here on *our* skeleton: joints the signing skeleton has take its rest positions and its FK
transforms; the mannequin's extra joints (legs, ``L_Hand``/``R_Hand``) keep their symmetrised rest offsets and
follow their parent with no rotation of their own (the pose never rotates them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX, mirror_name, signing_skeleton

_FLIP_X = np.array([-1.0, 1.0, 1.0])


@dataclass(frozen=True)
class AvatarRig:
    """The mannequin's joints (its order and parents) with rest positions on the signing skeleton (metres)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest_positions: np.ndarray  # (J, 3) world positions at rest

    def local_offsets(self) -> np.ndarray:
        """(J, 3) each joint's rest translation from its parent (glTF node translations)."""
        parents = np.asarray(self.parents)
        offsets = self.rest_positions.copy()
        has_parent = parents >= 0
        offsets[has_parent] -= self.rest_positions[parents[has_parent]]
        return offsets

    def world_transforms(self, features: np.ndarray) -> np.ndarray:
        """(T, J, 4, 4) world transforms of every rig joint for features (T, 246), from our forward kinematics."""
        features = np.asarray(features)
        positions, rotations = forward_kinematics(features, with_rotations=True)
        n = features.shape[0]
        transforms = np.zeros((n, len(self.names), 4, 4))
        transforms[:, :, 3, 3] = 1.0
        offsets = self.local_offsets()
        for j, (name, parent) in enumerate(zip(self.names, self.parents, strict=True)):
            if name in JOINT_INDEX:
                transforms[:, j, :3, :3] = rotations[:, JOINT_INDEX[name]]
                transforms[:, j, :3, 3] = positions[:, JOINT_INDEX[name]]
            elif parent < 0:
                transforms[:, j, :3, :3] = np.eye(3)
                transforms[:, j, :3, 3] = self.rest_positions[j]
            else:
                parent_rotation = transforms[:, parent, :3, :3]
                transforms[:, j, :3, :3] = parent_rotation
                transforms[:, j, :3, 3] = transforms[:, parent, :3, 3] + parent_rotation @ offsets[j]
        return transforms


@lru_cache(maxsize=1)
def avatar_rig() -> AvatarRig:
    """The wooden mannequin's rig on the signing skeleton (cached)."""
    from mannequin import Mannequin

    model = Mannequin("wooden", flat_hand_mean=True)
    rest = {k: v for k, v in model.rest_pose().items() if k != "shape"}
    own = np.asarray(model.joint_transforms(rest), dtype=np.float64)[:, :3, 3]
    names = tuple(model.joint_names)
    parents = tuple(int(p) for p in model.parents)
    index = {n: i for i, n in enumerate(names)}
    skeleton_rest = signing_skeleton().rest_positions()
    positions = np.empty_like(own)
    for j, name in enumerate(names):
        if name in JOINT_INDEX:
            positions[j] = skeleton_rest[JOINT_INDEX[name]]
            continue
        # Not in the signing skeleton: the mannequin's own offset from its parent, averaged with its mirror twin.
        twin = index[mirror_name(name)]
        offset = own[j] - (own[parents[j]] if parents[j] >= 0 else 0.0)
        twin_offset = own[twin] - (own[parents[twin]] if parents[twin] >= 0 else 0.0)
        offset = 0.5 * (offset + _FLIP_X * twin_offset) if twin != j else offset * np.array([0.0, 1.0, 1.0])
        positions[j] = offset + (positions[parents[j]] if parents[j] >= 0 else 0.0)
    return AvatarRig(names, parents, positions)
