"""The CPU-skinned mannequin agrees with our forward kinematics and follows the pose."""

from __future__ import annotations

import numpy as np
import pytest

from signeditor.core import rotations
from signeditor.core.avatar_rig import avatar_rig
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import identity_features
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS
from signeditor.render.avatars.mannequin import Avatar, mannequin_pose, vertex_normals


@pytest.fixture(scope="module")
def avatar() -> Avatar:
    return Avatar()


def random_pose(seed: int, scale: float = 0.5) -> np.ndarray:
    axis_angle = np.random.default_rng(seed).normal(scale=scale, size=(len(ROTATING_JOINTS), 3))
    return rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mannequin_joints_match_forward_kinematics(avatar, seed):
    """The skinned rig's joints are our FK's joints (one symmetrised skeleton for the mesh and every file)."""
    pose = random_pose(seed)
    ours = forward_kinematics(pose[None])[0]
    theirs = avatar.joint_positions(pose)
    for name in JOINT_INDEX:
        if name in theirs:
            assert np.linalg.norm(theirs[name] - ours[JOINT_INDEX[name]]) < 1e-6, name
    # Left and right are mirror images at rest (mannequin-x's own offsets are ~2 cm asymmetric).
    rest_joints = avatar.joint_positions(identity_features(1)[0])
    np.testing.assert_allclose(rest_joints["L_Elbow"] * [-1, 1, 1], rest_joints["R_Elbow"], atol=1e-9)
    # The wrist moves as much in both models when the pose changes (same joints driven, same order).
    rest = identity_features(1)[0]
    move_ours = ours[JOINT_INDEX["R_Wrist"]] - forward_kinematics(rest[None])[0][JOINT_INDEX["R_Wrist"]]
    move_theirs = theirs["R_Wrist"] - avatar.joint_positions(rest)["R_Wrist"]
    assert np.linalg.norm(move_ours) > 0.05
    assert np.linalg.norm(move_ours - move_theirs) < 0.03


def test_pose_mapping_puts_body_and_hands_in_smplx_rows():
    pose = identity_features(1)[0].copy()
    r_elbow = ROTATING_JOINTS.index("R_Elbow")
    l_index = ROTATING_JOINTS.index("L_Index1")
    r_thumb = ROTATING_JOINTS.index("R_Thumb3")
    for j, aa in ((r_elbow, [0, 0, 1.0]), (l_index, [0, 0, 0.5]), (r_thumb, [0.3, 0, 0])):
        pose[6 * j : 6 * j + 6] = rotations.axis_angle_to_rot6d(np.array(aa, dtype=float))
    converted = mannequin_pose(pose)
    assert np.nonzero(np.abs(converted["body_pose"]).sum(1))[0].tolist() == [18]  # SMPL-X joint 19 = R_Elbow
    assert np.nonzero(np.abs(converted["hand_pose"]).sum(1))[0].tolist() == [0, 29]  # L_Index1, R_Thumb3
    np.testing.assert_allclose(converted["body_pose"][18], [0, 0, 1.0], atol=1e-5)


def test_posed_mesh_changes_with_pose_and_caches(avatar):
    rest = identity_features(1)[0]
    pose = random_pose(3)
    a = avatar.posed(rest, key=("test", 0))
    b = avatar.posed(pose, key=("test", 1))
    assert a.vertices.shape == b.vertices.shape and a.vertices.shape[1] == 3
    moved = np.linalg.norm(a.vertices - b.vertices, axis=1)
    assert moved.max() > 0.1 and np.median(moved) < moved.max()
    np.testing.assert_allclose(np.linalg.norm(b.normals, axis=1), 1.0, atol=1e-4)
    assert avatar.posed(pose, key=("test", 1)) is b, "same key, same cached mesh"
    assert a.faces.max() < len(a.vertices)


@pytest.mark.parametrize("seed", [4, 5])
def test_fast_skinning_equals_mannequin_x(avatar, seed):
    """At rest our mesh is mannequin-x's mesh; posed, it is plain per-influence skinning on the rig's joints.

    Guards the private mannequin-x skinning data the Avatar reads: a changed layout would show up here.
    """
    rest = identity_features(1)[0]
    reference_rest = np.asarray(avatar.model.vertices(mannequin_pose(rest)), dtype=np.float64)
    np.testing.assert_allclose(avatar.posed(rest).vertices, reference_rest, atol=2e-5)
    pose = random_pose(seed, scale=0.8)
    mesh = avatar.posed(pose)
    model = avatar.model
    rig = avatar_rig()
    transforms = rig.world_transforms(pose[None])[0]
    vertices = np.asarray(model._identity["skin_vertices"], dtype=np.float64)
    expected = np.zeros_like(vertices)
    for k in range(model._skin_joint_indices.shape[1]):
        joint = np.asarray(model._skin_joint_indices[:, k])
        rotation, translation = transforms[joint, :3, :3], transforms[joint, :3, 3]
        moved = np.einsum("vab,vb->va", rotation, vertices - rig.rest_positions[joint]) + translation
        expected += np.asarray(model._skin_weights[:, k])[:, None] * moved
    np.testing.assert_allclose(mesh.vertices, expected, atol=2e-5)
    np.testing.assert_allclose(mesh.normals, vertex_normals(mesh.vertices, mesh.faces), atol=1e-4)


@pytest.mark.parametrize("name", ["Hispanic_F_2_Busi", "Asian_M_2_Busi"])
def test_avatars_keep_their_own_shoulders_and_neck_at_rest(name: str) -> None:
    """Avatars are not hunched (issue #23): at our rest pose the avatar's clavicles, neck and head keep the posture
    the avatar was modelled in (our clavicles rise 26°, an avatar's are level: copying our directions raised the
    jacket's shoulders and tipped the head back), and a nod of ours nods the avatar's head by the same angle."""
    from signeditor.render.avatars.catalog import load_avatar

    retargeter = load_avatar(f"shipped:{name}").retargeter
    nodes = retargeter.bones.nodes
    rest = retargeter.rest_world
    pose = identity_features(1)
    posed = retargeter.world_transforms(pose)[0]
    for joint in ("L_Collar", "R_Collar", "Neck", "Head"):
        np.testing.assert_allclose(posed[nodes[joint], :3, :3], rest[nodes[joint], :3, :3], atol=1e-6,
                                   err_msg=f"{joint} turned away from the avatar's own posture")
    for side in "LR":  # the shoulder joints stay where the avatar has them (no bulge of the jacket)
        np.testing.assert_allclose(posed[nodes[f"{side}_Shoulder"], :3, 3], rest[nodes[f"{side}_Shoulder"], :3, 3],
                                   atol=1e-6)
    nod = np.radians(10.0)
    head = ROTATING_JOINTS.index("Head")
    pose[0, 6 * head: 6 * head + 6] = rotations.axis_angle_to_rot6d(np.array([[nod, 0.0, 0.0]]))[0]
    turned = retargeter.world_transforms(pose)[0][nodes["Head"], :3, :3] @ np.linalg.inv(rest[nodes["Head"], :3, :3])
    np.testing.assert_allclose(rotations.matrix_to_axis_angle(turned[None])[0], [nod, 0.0, 0.0], atol=1e-6)
