"""The skinned mannequin driven by a Motion frame (numpy only, no Qt, no GL).

The viewport, screenshots and exporters all need the same posed mesh, so the
mannequin-x pose dictionary is built here once, from the SMPL-X layout in
:mod:`signeditor.io.smplx_params`. Playback skins every frame on the CPU, so the skinning is ours rather
than mannequin-x's generic per-influence einsum (~18 ms for ~24k vertices): linear blend skinning is linear
in the joint matrices, so one sparse (vertices x joints) weight matrix blends all joints' 3x4 skinning
matrices at once (~1 ms), and normals come from a precomputed vertex-face incidence matrix (~3 ms instead
of ~5). Posed meshes are also cached per frame; the cache is cleared when the motion changes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from signeditor.core.avatar_rig import avatar_rig
from signeditor.io.smplx_params import mannequin_pose

__all__ = ["Avatar", "FixedTopologyNormals", "LinearBlendSkin", "PosedMesh", "PosedMeshCache", "mannequin_pose",
           "vertex_normals"]


@dataclass(frozen=True)
class PosedMesh:
    """One posed avatar: vertices (V,3) float32, faces (F,3) uint32, unit vertex normals (V,3) float32."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray


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


class PosedMeshCache:
    """Posed meshes by key (e.g. ``(document, motion_version, frame)``), the least recently used dropped first."""

    def __init__(self, size: int = 160) -> None:
        self._meshes: OrderedDict[object, PosedMesh] = OrderedDict()
        self._size = size

    def get(self, key: object) -> PosedMesh | None:
        if key is None or key not in self._meshes:
            return None
        self._meshes.move_to_end(key)
        return self._meshes[key]

    def put(self, key: object, mesh: PosedMesh) -> PosedMesh:
        if key is not None:
            self._meshes[key] = mesh
            while len(self._meshes) > self._size:
                self._meshes.popitem(last=False)
        return mesh

    def clear(self) -> None:
        self._meshes.clear()


class FixedTopologyNormals:
    """Area-weighted vertex normals for one face list, many vertex sets (the same result as vertex_normals).

    The vertex-face incidence is a sparse (V, F) matrix built once, so each pose costs one cross product and
    one sparse product instead of three bincounts over every face corner.
    """

    def __init__(self, faces: np.ndarray, n_vertices: int) -> None:
        self.faces = np.asarray(faces, dtype=np.int64)
        n_faces = len(self.faces)
        self._incidence = scipy.sparse.csr_matrix(
            (np.ones(3 * n_faces, np.float32), (self.faces.reshape(-1), np.repeat(np.arange(n_faces), 3))),
            shape=(n_vertices, n_faces),
        )

    def __call__(self, vertices: np.ndarray) -> np.ndarray:
        vertices = np.asarray(vertices, dtype=np.float32)
        first = vertices[self.faces[:, 0]]
        e1 = vertices[self.faces[:, 1]] - first
        e2 = vertices[self.faces[:, 2]] - first
        face_normals = np.empty_like(e1)
        face_normals[:, 0] = e1[:, 1] * e2[:, 2] - e1[:, 2] * e2[:, 1]
        face_normals[:, 1] = e1[:, 2] * e2[:, 0] - e1[:, 0] * e2[:, 2]
        face_normals[:, 2] = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        normals = np.asarray(self._incidence @ face_normals, dtype=np.float32)
        normals /= np.maximum(np.sqrt(np.einsum("vi,vi->v", normals, normals))[:, None], 1e-12)
        return normals


class LinearBlendSkin:
    """Linear blend skinning of fixed rest vertices: v' = sum_k w_k (R_k (v - b_k) + t_k).

    Rewritten as v' = (sum_k w_k M_k) [v; 1] with M_j = [R_j | t_j - R_j b_j], the per-vertex blend of all
    joints is one sparse (V, J) x (J, 12) product; float32 throughout (sub-micrometre error at avatar scale).
    """

    def __init__(self, rest_vertices: np.ndarray, bind_positions: np.ndarray, joint_indices: np.ndarray,
                 weights: np.ndarray) -> None:
        self.rest_vertices = np.ascontiguousarray(rest_vertices, dtype=np.float32)
        self.bind_positions = np.asarray(bind_positions, dtype=np.float32)
        n_vertices, influences = np.shape(joint_indices)
        self._weights = scipy.sparse.csr_matrix(
            (np.asarray(weights, np.float32).reshape(-1),
             (np.repeat(np.arange(n_vertices), influences), np.asarray(joint_indices).reshape(-1))),
            shape=(n_vertices, len(self.bind_positions)),
        )
        self._weights.sum_duplicates()

    def __call__(self, joint_transforms: np.ndarray) -> np.ndarray:
        """Posed vertices (V, 3) float32 from world joint transforms (J, 4, 4)."""
        rotation = np.asarray(joint_transforms[:, :3, :3], dtype=np.float32)
        translation = np.asarray(joint_transforms[:, :3, 3], dtype=np.float32)
        offset = translation - np.einsum("jab,jb->ja", rotation, self.bind_positions)
        matrices = np.concatenate([rotation, offset[:, :, None]], axis=2).reshape(len(rotation), 12)
        blended = np.asarray(self._weights @ matrices, dtype=np.float32).reshape(-1, 3, 4)
        rest = self.rest_vertices
        vertices = blended[:, :, 3].copy()
        vertices += blended[:, :, 0] * rest[:, 0:1]
        vertices += blended[:, :, 1] * rest[:, 1:2]
        vertices += blended[:, :, 2] * rest[:, 2:3]
        return vertices


class Avatar:
    """The wooden mannequin (flat-hand convention, like our skeleton), posed on the CPU with a per-frame cache."""

    def __init__(self, cache_size: int = 160) -> None:
        from mannequin import Mannequin

        self._model = Mannequin("wooden", flat_hand_mean=True)
        self.faces: np.ndarray = np.asarray(self._model.faces, dtype=np.uint32)
        # mannequin-x's own skinning data (private attributes, like the glTF export's; the avatar test checks
        # that our skinning still equals Mannequin.vertices at rest, so a changed layout fails loudly). The mesh
        # is bound to the rig on the signing skeleton, so it follows our FK joints exactly (see core.avatar_rig).
        self._rig = avatar_rig()
        identity = self._model._identity
        self._skin = LinearBlendSkin(identity["skin_vertices"], self._rig.rest_positions,
                                     self._model._skin_joint_indices, self._model._skin_weights)
        self._normals = FixedTopologyNormals(self.faces, len(self._skin.rest_vertices))
        self._cache = PosedMeshCache(cache_size)

    @property
    def model(self) -> object:
        return self._model

    def joint_positions(self, pose_features: np.ndarray) -> dict[str, np.ndarray]:
        """World positions of the skinned rig's joints by name (they are our forward kinematics' joints)."""
        transforms = self._rig.world_transforms(np.asarray(pose_features)[None])[0]
        return {name: transforms[i, :3, 3].copy() for i, name in enumerate(self._rig.names)}

    def posed(self, pose_features: np.ndarray, key: object = None) -> PosedMesh:
        """The mesh for one pose; ``key`` (e.g. ``(motion_version, frame)``) enables caching."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        vertices = self._skin(self._rig.world_transforms(np.asarray(pose_features)[None])[0])
        return self._cache.put(key, PosedMesh(vertices, self.faces, self._normals(vertices)))

    def clear_cache(self) -> None:
        self._cache.clear()
