"""A glTF/GLB/VRM humanoid avatar posed from our motion: retargeted skeleton, skinned on the CPU, face morphs.

The same interface as the mannequin (``posed(features, key)`` gives a :class:`PosedMesh`), plus a texture atlas
and UVs for the textured viewport visual and named morph weights for the face. Skinning is one sparse
(vertices x skin slots) product of 3x4 matrices, as for the mannequin; normals are skinned with the same
matrices (recomputing them from the faces would show the UV seams of a textured mesh).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse

from signeditor.core.avatar_retarget import AvatarRetargeter
from signeditor.core.motion import Motion
from signeditor.io.avatar_gltf import AvatarAsset, load_humanoid_avatar
from signeditor.io.errors import FileFormatError
from signeditor.render.avatars.face_rig import FaceRig, eye_gaze
from signeditor.render.avatars.mannequin import PosedMesh, PosedMeshCache


@lru_cache(maxsize=4)
def _cached_avatar(path: str, mtime: float) -> tuple[AvatarAsset, AvatarRetargeter]:
    return load_humanoid_avatar(path)


class GltfAvatar:
    """One avatar file, ready to pose. Raises FileFormatError for files it cannot drive."""

    has_face = True  # posed() takes the face channel

    def __init__(self, path: str | Path, cache_size: int = 160) -> None:
        path = Path(path)
        try:
            asset, self.retargeter = _cached_avatar(str(path), path.stat().st_mtime)
        except OSError as exc:
            raise FileFormatError(path, f"cannot read the avatar ({exc.strerror or exc})") from exc
        self.path = path
        self.name = path.stem
        self.asset = asset
        self.notes: list[str] = list(asset.notes)
        self.faces = asset.faces
        self.uv = asset.uv
        self.texture = asset.texture
        n_vertices = len(asset.vertices)
        self._rest = np.ascontiguousarray(asset.vertices, np.float32)
        self._rest_normals = np.ascontiguousarray(asset.normals, np.float32)
        self._weights = scipy.sparse.csr_matrix(
            (asset.vertex_weights.reshape(-1),
             (np.repeat(np.arange(n_vertices), asset.vertex_slots.shape[1]), asset.vertex_slots.reshape(-1))),
            shape=(n_vertices, len(asset.slot_nodes)))
        self._weights.sum_duplicates()
        self.morph_names = list(asset.morph_names)
        # VALID marks its one material double-sided, but its meshes are closed: culling back faces changes <1% of
        # the pixels and draws 1.6x faster under llvmpipe.
        valid = any(n.startswith("h_expressions.") for n in self.morph_names)
        self.cull_back_faces = valid or not asset.double_sided
        self.face_rig = FaceRig(self.morph_names, asset.extensions, asset.mesh_morphs, asset.node_meshes)
        self.notes += self.face_rig.notes
        self._cache = PosedMeshCache(cache_size)

    def joint_positions(self, pose_features: np.ndarray) -> dict[str, np.ndarray]:
        """World positions of the avatar joints that stand for ours (one frame: (3,) each)."""
        return {k: v[0] for k, v in self.retargeter.joint_positions(np.asarray(pose_features)[None]).items()}

    def morphed_rest(self, morph_weights: dict[int, float] | None) -> np.ndarray:
        """Rest vertices with the morph targets applied (weights by morph id; zeros skipped)."""
        if not morph_weights:
            return self._rest
        vertices = self._rest.copy()
        for morph, weight in morph_weights.items():
            if weight:
                ids, deltas = self.asset.morph_deltas[morph]
                np.add.at(vertices, ids, np.float32(weight) * deltas)
        return vertices

    def posed(self, pose_features: np.ndarray, key: object = None, face: np.ndarray | None = None,
              morph_weights: dict[int, float] | None = None) -> PosedMesh:
        """The mesh for one pose and face (core.face parameters, or raw ``morph_weights`` by morph id).

        ``key`` (e.g. ``(motion_version, frame)``) enables caching; it must cover the face too.
        """
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        world = self.retargeter.world_transforms(np.asarray(pose_features)[None], eye_gaze(face))[0]
        skin = world[self.asset.slot_nodes] @ self.asset.slot_inverse_bind
        blended = np.asarray(self._weights @ skin[:, :3, :].reshape(len(skin), 12).astype(np.float32),
                             dtype=np.float32).reshape(-1, 3, 4)
        rest = self.morphed_rest(morph_weights if morph_weights is not None else self.face_rig.weights(face))
        vertices = blended[:, :, 3] + np.einsum("vab,vb->va", blended[:, :, :3], rest)
        normals = np.einsum("vab,vb->va", blended[:, :, :3], self._rest_normals)
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        return self._cache.put(key, PosedMesh(vertices.astype(np.float32), self.faces, normals.astype(np.float32)))

    def write_gltf(self, motion: Motion, face: np.ndarray | None, path: str | Path) -> None:
        """This avatar animated by ``motion`` (face morphs as shape keys) as a glTF/GLB file.

        A method, so the export table in io (which may not import render) can write it for the avatar it is given.
        """
        from signeditor.render.avatars.avatar_export import write_avatar_gltf

        write_avatar_gltf(self, motion, face, path)

    def clear_cache(self) -> None:
        self._cache.clear()
