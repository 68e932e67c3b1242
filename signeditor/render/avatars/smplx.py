"""The real SMPL-X mesh, when the user points SignEditor to their own SMPL-X model file.

SMPL-X files are licensed to each user, so they are never shipped or
required. We evaluate the model ourselves in numpy from the ``.npz``
(``np.load(allow_pickle=False)``: the model file is data, never code), with
the same interface as the mannequin avatar, face included: the jaw rotation
and the expression coefficients drive the mesh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.io.errors import FileFormatError
from signeditor.render.avatars.mannequin import FixedTopologyNormals, PosedMesh

N_JOINTS = 55
N_BETAS = 10
N_EXPRESSION = 10
N_SHAPE_COMPONENTS = 300
#: Index of each of our 41 rotating joints in SMPL-X's 55-joint full pose.
_FULL_POSE_INDEX = np.concatenate([np.arange(12, 22), np.arange(25, 40), np.arange(40, 55), [22]])
_REQUIRED = ("v_template", "f", "shapedirs", "J_regressor", "weights", "kintree_table", "posedirs")


class SmplxAvatar:
    """SMPL-X linear blend skinning with pose correctives, betas and expression, flat-hand convention."""

    def __init__(self, model_path: str | Path, betas: np.ndarray | None = None) -> None:
        path = Path(model_path)
        if path.is_dir():
            path = path / "SMPLX_NEUTRAL.npz"
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [k for k in _REQUIRED if k not in npz.files]
                if missing:
                    raise FileFormatError(path, f"not an SMPL-X model file (missing {missing})")
                data = {k: np.asarray(npz[k]) for k in _REQUIRED}
        except FileNotFoundError as exc:
            raise FileFormatError(path, "SMPL-X model file not found") from exc
        except (OSError, ValueError, EOFError) as exc:
            raise FileFormatError(path, f"cannot read the SMPL-X model safely ({exc})") from exc
        v_template = data["v_template"].astype(np.float64)
        n_vertices = v_template.shape[0]
        if data["weights"].shape != (n_vertices, N_JOINTS) or data["J_regressor"].shape != (N_JOINTS, n_vertices):
            raise FileFormatError(path, "weights or J_regressor do not match the 55-joint SMPL-X layout")
        shapedirs = data["shapedirs"].astype(np.float64)
        betas = np.zeros(N_BETAS) if betas is None else np.asarray(betas, dtype=np.float64)
        self._v_shaped = v_template + shapedirs[:, :, :N_BETAS] @ betas
        n_expr = max(0, min(N_EXPRESSION, shapedirs.shape[2] - N_SHAPE_COMPONENTS))
        self._exprdirs = shapedirs[:, :, N_SHAPE_COMPONENTS:N_SHAPE_COMPONENTS + n_expr]
        self._posedirs = data["posedirs"].astype(np.float64).reshape(n_vertices * 3, -1)
        if self._posedirs.shape[1] != (N_JOINTS - 1) * 9:
            columns = self._posedirs.shape[1]
            raise FileFormatError(path, f"posedirs has {columns} columns, expected {(N_JOINTS - 1) * 9}")
        self._j_regressor = data["J_regressor"].astype(np.float64)
        self._weights = data["weights"].astype(np.float64)
        self._parents = data["kintree_table"][0].astype(np.int64)
        self._parents[0] = -1
        self.faces = data["f"].astype(np.uint32)
        if self.faces.size and (self.faces.ndim != 2 or self.faces.shape[1] != 3 or self.faces.max() >= n_vertices):
            raise FileFormatError(path, "faces (f) are not triangles over the model's vertices")
        self._normals = FixedTopologyNormals(self.faces, n_vertices)
        self.path = path

    def _full_pose(self, pose_features: np.ndarray) -> np.ndarray:
        mats = np.broadcast_to(np.eye(3), (N_JOINTS, 3, 3)).copy()
        mats[_FULL_POSE_INDEX] = rotations.rot6d_to_matrix(np.asarray(pose_features, np.float64).reshape(-1, 6))
        return mats

    def joints_and_vertices(self, pose_features: np.ndarray, expression: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        v_shaped = self._v_shaped
        if expression is not None and self._exprdirs.shape[2]:
            k = min(len(expression), self._exprdirs.shape[2])
            v_shaped = v_shaped + self._exprdirs[:, :, :k] @ np.asarray(expression[:k], np.float64)
        joints = self._j_regressor @ v_shaped
        mats = self._full_pose(pose_features)
        pose_feature = (mats[1:] - np.eye(3)).reshape(-1)
        v_posed = v_shaped + (self._posedirs @ pose_feature).reshape(-1, 3)
        world = np.zeros((N_JOINTS, 4, 4))
        for j in range(N_JOINTS):
            local = np.eye(4)
            local[:3, :3] = mats[j]
            parent = self._parents[j]
            local[:3, 3] = joints[j] - (joints[parent] if parent >= 0 else 0.0)
            world[j] = local if parent < 0 else world[parent] @ local
        posed_joints = world[:, :3, 3].copy()
        skinning = world.copy()
        skinning[:, :3, 3] -= np.einsum("jab,jb->ja", world[:, :3, :3], joints)
        blended = np.einsum("vj,jab->vab", self._weights, skinning)
        vertices = np.einsum("vab,vb->va", blended[:, :3, :3], v_posed) + blended[:, :3, 3]
        return posed_joints, vertices

    def posed(self, pose_features: np.ndarray, key: object = None, expression: np.ndarray | None = None
              ) -> PosedMesh:
        _, vertices = self.joints_and_vertices(pose_features, expression)
        vertices = vertices.astype(np.float32)
        return PosedMesh(vertices, self.faces, self._normals(vertices))


__all__ = ["SmplxAvatar"]
