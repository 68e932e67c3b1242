"""The SMPL-X loading path, tested with a small synthetic model file in the real layout."""

from pathlib import Path

import numpy as np
import pytest

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS, signing_skeleton
from signeditor.io.errors import FileFormatError
from signeditor.render.avatars.smplx import SmplxAvatar

#: SMPL-X joint names in model order (55), mapped to our skeleton where we have the joint.
_BODY = ["Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle", "Spine3",
         "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
         "R_Elbow", "L_Wrist", "R_Wrist", "Jaw", "L_Eye", "R_Eye"]
_HAND = ["Index1", "Index2", "Index3", "Middle1", "Middle2", "Middle3", "Pinky1", "Pinky2", "Pinky3",
         "Ring1", "Ring2", "Ring3", "Thumb1", "Thumb2", "Thumb3"]
SMPLX_NAMES = _BODY + [f"L_{h}" for h in _HAND] + [f"R_{h}" for h in _HAND]
_BODY_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15]


def smplx_parents() -> list[int]:
    parents = list(_BODY_PARENTS)
    for wrist, base in ((20, 25), (21, 40)):
        for finger in range(5):
            first = base + 3 * finger
            parents += [wrist, first, first + 1]
    return parents


def write_synthetic_model(path: Path) -> None:
    """One vertex per joint at our skeleton's rest positions, plus a few extra skinned vertices."""
    rest = signing_skeleton().rest_positions()
    joints = np.array([rest[JOINT_INDEX[n]] if n in JOINT_INDEX else rest[JOINT_INDEX["Head"]] + [0, 0.05, 0.08]
                       for n in SMPLX_NAMES])
    extra = joints + np.array([0.0, 0.0, 0.02])  # a vertex just in front of each joint, bound to it
    v_template = np.concatenate([joints, extra])
    n_v = len(v_template)
    regressor = np.zeros((55, n_v))
    regressor[np.arange(55), np.arange(55)] = 1.0
    weights = np.zeros((n_v, 55))
    weights[np.arange(55), np.arange(55)] = 1.0
    weights[55 + np.arange(55), np.arange(55)] = 1.0
    parents = smplx_parents()
    kintree = np.array([[p if p >= 0 else 4294967295 for p in parents], list(range(55))], dtype=np.int64)
    rng = np.random.default_rng(0)
    np.savez(path, v_template=v_template, f=np.array([[0, 1, 2], [55, 56, 57]], dtype=np.int64),
             shapedirs=rng.normal(scale=1e-3, size=(n_v, 3, 310)), J_regressor=regressor, weights=weights,
             kintree_table=kintree, posedirs=np.zeros((n_v, 3, 486)))


def test_synthetic_smplx_matches_our_kinematics(tmp_path: Path) -> None:
    path = tmp_path / "SMPLX_NEUTRAL.npz"
    write_synthetic_model(path)
    avatar = SmplxAvatar(tmp_path)  # a folder works as the user would pick it
    rng = np.random.default_rng(3)
    features = rotations.axis_angle_to_rot6d(rng.normal(scale=0.5, size=(1, 41, 3))).reshape(1, FEATURE_DIM)
    joints, vertices = avatar.joints_and_vertices(features[0])
    ours = forward_kinematics(Motion(25.0, features).features)[0]
    for name in ROTATING_JOINTS:
        np.testing.assert_allclose(joints[SMPLX_NAMES.index(name)], ours[JOINT_INDEX[name]], atol=1e-5)
    # The extra vertex in front of the right wrist moves rigidly with the wrist.
    w = SMPLX_NAMES.index("R_Wrist")
    np.testing.assert_allclose(np.linalg.norm(vertices[55 + w] - vertices[w]), 0.02, atol=1e-6)
    mesh = avatar.posed(features[0], expression=np.ones(10))
    assert mesh.vertices.shape == (110, 3) and mesh.faces.shape == (2, 3)


def test_bad_model_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        SmplxAvatar(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, v_template=np.zeros((3, 3)))
    with pytest.raises(FileFormatError, match="missing"):
        SmplxAvatar(bad)
    evil = tmp_path / "evil.npz"
    np.savez(evil, v_template=np.array([object()]), f=0, shapedirs=0, J_regressor=0, weights=0, kintree_table=0,
             posedirs=0)
    with pytest.raises(FileFormatError, match="safely"):
        SmplxAvatar(evil)
