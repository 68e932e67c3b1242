"""The skinned mannequin driven by a Motion frame (numpy only, no Qt, no GL).

The viewport, screenshots and exporters all need the same posed mesh, so the
mannequin-x pose dictionary is built here once, from the SMPL-X layout in
:mod:`signeditor.io.smplx_params`. Skinning ~24k vertices costs ~20 ms on one core, so posed meshes
are cached per frame and the cache is cleared when the motion changes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from signeditor.core.motion import FEATURE_DIM
from signeditor.io.smplx_params import smplx_axis_angle


@dataclass(frozen=True)
class PosedMesh:
    """One posed avatar: vertices (V,3) float32, faces (F,3) uint32, unit vertex normals (V,3) float32."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray


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


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals; the viewport's lighting needs them recomputed for every pose."""
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    corners = faces.reshape(-1)
    repeated = np.repeat(face_normals, 3, axis=0)
    normals = np.stack(
        [np.bincount(corners, weights=repeated[:, k], minlength=len(vertices)) for k in range(3)], axis=1
    )
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)


class Avatar:
    """The wooden mannequin (flat-hand convention, like our skeleton), posed on the CPU with a per-frame cache."""

    def __init__(self, cache_size: int = 160) -> None:
        from mannequin import Mannequin

        self._model = Mannequin("wooden", flat_hand_mean=True)
        self.faces: np.ndarray = np.asarray(self._model.faces, dtype=np.uint32)
        self._cache: OrderedDict[object, PosedMesh] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self) -> object:
        return self._model

    def joint_positions(self, pose_features: np.ndarray) -> dict[str, np.ndarray]:
        """World positions of the mannequin's joints by name (to check agreement with our kinematics)."""
        transforms = np.asarray(self._model.joint_transforms(mannequin_pose(pose_features)))
        return {name: transforms[i, :3, 3].copy() for i, name in enumerate(self._model.joint_names)}

    def posed(self, pose_features: np.ndarray, key: object = None) -> PosedMesh:
        """The mesh for one pose; ``key`` (e.g. ``(motion_version, frame)``) enables caching."""
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        vertices = np.asarray(self._model.vertices(mannequin_pose(pose_features)), dtype=np.float32)
        mesh = PosedMesh(vertices, self.faces, vertex_normals(vertices, self.faces))
        if key is not None:
            self._cache[key] = mesh
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return mesh

    def clear_cache(self) -> None:
        self._cache.clear()
