"""IK recovers a known motion from keypoints written as a .pose file, and behaves on real MediaPipe data."""

from __future__ import annotations

import numpy as np
import pytest
from needs import missing

from signeditor.core import rotations
from signeditor.core.ik import (
    bone_direction_errors,
    fit_features,
    fit_motion,
    jaw_angle,
    reprojection_errors,
    rest_pose_features,
)
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS
from signeditor.io.pose_reader import read_pose_keypoints


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle of the rotation taking a to b, per matrix."""
    relative = np.swapaxes(a, -1, -2) @ b
    return np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(relative), axis=-1))


def test_fk_roundtrip_bone_directions_match(make_pose_file) -> None:
    path, truth = make_pose_file(n_frames=20, seed=3)
    motion = fit_motion(read_pose_keypoints(path))
    fitted_positions = forward_kinematics(motion.features)
    true_positions = forward_kinematics(truth)
    bones = [("L_Shoulder", "L_Elbow"), ("R_Elbow", "R_Wrist"), ("L_Wrist", "L_Middle1"), ("R_Wrist", "R_Pinky1")]
    bones += [(f"{s}_{f}{i}", f"{s}_{f}{i + 1}" if i < 3 else f"{s}_{f}Tip")
              for s in "LR" for f in ("Index", "Middle", "Pinky", "Ring", "Thumb") for i in (1, 2, 3)]
    for a, b in bones:
        fitted = fitted_positions[:, JOINT_INDEX[b]] - fitted_positions[:, JOINT_INDEX[a]]
        true = true_positions[:, JOINT_INDEX[b]] - true_positions[:, JOINT_INDEX[a]]
        cosine = np.sum(fitted * true, -1) / np.linalg.norm(fitted, axis=-1) / np.linalg.norm(true, axis=-1)
        angles = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
        # Real depth is kept; a bone lying almost in the image plane may take the other (near-zero) depth sign.
        assert np.percentile(angles, 90) < 0.5 and angles.max() < 6.0, (a, b)
    assert not motion.filled.any()


def test_fk_roundtrip_recovers_rotations(make_pose_file) -> None:
    """Swing-only fingers and the head come back exactly; wrists exactly in world space."""
    path, truth = make_pose_file(n_frames=12, seed=5)
    features = fit_motion(read_pose_keypoints(path)).features
    n = len(features)
    fitted_local = rotations.rot6d_to_matrix(features.reshape(n, -1, 6))
    true_local = rotations.rot6d_to_matrix(truth.reshape(n, -1, 6))
    exact = [j for j in ROTATING_JOINTS if j[2:-1] in ("Index", "Middle", "Pinky", "Ring", "Thumb")] + ["Head"]
    for joint in exact:
        i = ROTATING_JOINTS.index(joint)
        assert _angle_deg(true_local[:, i], fitted_local[:, i]).max() < 0.5, joint
    _, fitted_world = forward_kinematics(features, with_rotations=True)
    _, true_world = forward_kinematics(truth, with_rotations=True)
    for joint in ("L_Wrist", "R_Wrist"):
        assert _angle_deg(true_world[:, JOINT_INDEX[joint]], fitted_world[:, JOINT_INDEX[joint]]).max() < 0.5
    # The upper-arm twist comes from the elbow plane: close, not exact (the rest arm is not straight).
    for joint in ("L_Shoulder", "R_Shoulder"):
        i = ROTATING_JOINTS.index(joint)
        assert np.median(_angle_deg(true_local[:, i], fitted_local[:, i])) < 10.0, joint


def test_depth_zero_files_scale_z_by_width(make_pose_file) -> None:
    with_depth, _ = make_pose_file("depth.pose", seed=2)
    without_depth, _ = make_pose_file("nodepth.pose", seed=2, depth_is_zero=True)
    a = fit_features(read_pose_keypoints(with_depth))[0]
    b = fit_features(read_pose_keypoints(without_depth))[0]
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_normalised_z_under_a_header_that_claims_depth_is_scaled_too(make_pose_file, tmp_path) -> None:
    """MediaPipe's z is normalised like x (divided by the image width) even when a converter fills the header's
    depth: such a file fits exactly like the same motion written with pixel depth."""
    from conftest import DEPTH, reduced_holistic_points, write_pose

    with_depth, truth = make_pose_file("depth.pose", seed=2)
    normalised = write_pose(tmp_path / "normalised.pose", reduced_holistic_points(truth), depth_is_zero=True,
                            header_depth=DEPTH)
    a = fit_features(read_pose_keypoints(with_depth))[0]
    b = fit_features(read_pose_keypoints(normalised))[0]
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_missing_hand_frames_are_filled_and_flagged(make_pose_file) -> None:
    n = 16
    confidence = np.ones((n, 21))
    confidence[5:9] = 0.0
    path, _ = make_pose_file(n_frames=n, seed=1, confidence={"LEFT_HAND_LANDMARKS": confidence})
    motion = fit_motion(read_pose_keypoints(path))
    expected = np.zeros(n, dtype=bool)
    expected[5:9] = True
    np.testing.assert_array_equal(motion.filled, expected)
    # Filled hand rotations lie between the neighbours' (interpolated), not at the T-pose or garbage.
    index1 = ROTATING_JOINTS.index("L_Index1")
    mats = motion.matrices()[:, index1]
    gap = _angle_deg(mats[4], mats[8])
    assert _angle_deg(mats[4], mats[6]) <= gap + 1e-3 and _angle_deg(mats[6], mats[8]) <= gap + 1e-3
    # Frame f of the gap is (f - 4) / 5 of the way from the last seen frame (4) to the next (9): scipy's slerp.
    from scipy.spatial.transform import Rotation, Slerp

    for joint in ("L_Index1", "L_Thumb2", "L_Pinky3"):
        joint_mats = motion.matrices()[:, ROTATING_JOINTS.index(joint)]
        between = Slerp([4.0, 9.0], Rotation.from_matrix(joint_mats[[4, 9]]))(np.arange(5.0, 9.0)).as_matrix()
        assert _angle_deg(joint_mats[5:9], between).max() < 2.0, joint


def test_never_seen_hand_gets_rest_pose(make_pose_file) -> None:
    n = 10
    path, _ = make_pose_file(n_frames=n, confidence={"RIGHT_HAND_LANDMARKS": np.zeros((n, 21))})
    features = fit_motion(read_pose_keypoints(path)).features
    rest = rest_pose_features()
    for joint in ("R_Index1", "R_Thumb3"):
        i = ROTATING_JOINTS.index(joint)
        np.testing.assert_allclose(features[:, 6 * i:6 * i + 6], np.tile(rest[6 * i:6 * i + 6], (n, 1)), atol=1e-6)


def test_hands_leaving_the_frame_at_the_end_go_to_rest(make_pose_file) -> None:
    """An arm and hand lost for the last 30 frames (25 fps) ease from the last observed pose to the rest pose
    within REST_EASE_S (0.5 s) instead of freezing there; a gap in the middle is still interpolated."""
    n, lost = 60, 30
    arm = np.ones((n, 8))
    arm[n - lost:, [2, 4]] = 0.0  # POSE points: L, R shoulder; L, R elbow; L, R wrist; hips
    hand = np.ones((n, 21))
    hand[n - lost:] = 0.0
    path, _ = make_pose_file(n_frames=n, seed=2, confidence={"POSE_LANDMARKS": arm, "LEFT_HAND_LANDMARKS": hand})
    features = fit_motion(read_pose_keypoints(path)).features
    rest = rest_pose_features()
    for joint in ("L_Shoulder", "L_Elbow", "L_Index1"):
        i = ROTATING_JOINTS.index(joint)
        block = rotations.rot6d_to_matrix(features[:, 6 * i:6 * i + 6].astype(np.float64))
        rest_m = rotations.rot6d_to_matrix(rest[6 * i:6 * i + 6].astype(np.float64))
        to_rest = _angle_deg(block, np.broadcast_to(rest_m, block.shape))
        last = n - lost - 1  # the last observed frame; round(0.5 s * 25 fps) = 12 frames of easing follow it
        assert np.all(to_rest[last + 12:] < 1e-3), joint  # at rest from 0.5 s after the last observation
        steps = _angle_deg(block[n - lost - 1:-1], block[n - lost:])
        assert to_rest[n - lost - 1] > 5 or joint == "L_Index1"
        if joint != "L_Index1":  # the ease starts on the first lost frame and is still under way one frame early
            assert to_rest[last + 1] < 0.99 * to_rest[last] and to_rest[last + 11] > 1e-2, joint
        assert steps.max() < max(to_rest[n - lost - 1] / 4, 1e-3), joint  # eased, no jump to rest


def test_jaw_opens_with_the_mouth(make_pose_file, tmp_path) -> None:
    from conftest import reduced_holistic_points, write_pose

    from signeditor.core.ik import fit_features as fit

    features = np.tile(rest_pose_features(), (3, 1))
    components = reduced_holistic_points(features)
    names, face = components["FACE_LANDMARKS"]
    face = face.copy()
    lower = names.index("14")
    face[:, lower, 1] -= np.array([-0.005, 0.01, 0.03])  # closed, slightly open, wide open
    components["FACE_LANDMARKS"] = (names, face)
    keypoints = read_pose_keypoints(write_pose(tmp_path / "jaw.pose", components))
    angles = jaw_angle(keypoints)
    assert angles is not None and angles[0] == 0.0 and 0 < angles[1] < angles[2]
    jaw = fit(keypoints)[0][:, -6:]
    assert np.allclose(jaw[0], [1, 0, 0, 0, 1, 0], atol=1e-6) and not np.allclose(jaw[2], jaw[0], atol=1e-2)


@pytest.mark.shared_data
def test_real_mediapipe_fixture(shared_signdata) -> None:
    path = shared_signdata / "fixtures" / "mediapipe.pose"
    if not path.exists():
        missing(f"{path} not present")
    keypoints = read_pose_keypoints(path)
    motion = fit_motion(keypoints)
    assert motion.n_frames == keypoints.n_frames and np.isfinite(motion.features).all()
    errors = bone_direction_errors(keypoints, motion.features)
    assert errors.size > 1000 and np.median(errors) < 10.0
    # The fit aims from where the skeleton puts each joint at the observed next point: it reprojects onto them.
    reprojection = reprojection_errors(keypoints, forward_kinematics(motion.features))
    assert np.median(reprojection) <= 0.03 and np.percentile(reprojection, 95) <= 0.08
    # Frames flagged filled are exactly those where a hand seen elsewhere in the clip was lost.
    seen = keypoints.seen("LEFT_HAND_LANDMARKS.WRIST")
    assert motion.filled[~seen].all() or not seen.any()


def test_jaw_reads_closed_lips_as_closed_and_opens_in_proportion_to_the_lip_gap() -> None:
    """Lips 3 % of the eye-corner distance apart (touching, as landmarks place them) read as a closed jaw; beyond
    that the jaw opens in proportion to the gap: the step from 10 % to 20 % opens it as much as 20 % to 30 %."""
    from signeditor.io.pose_reader import PoseKeypoints

    gaps = np.array([0.0, 0.03, 0.10, 0.20, 0.30])
    eye_distance = 0.09
    n = len(gaps)
    names = ("FACE_LANDMARKS.13", "FACE_LANDMARKS.14", "FACE_LANDMARKS.33", "FACE_LANDMARKS.263")
    positions = np.zeros((n, 4, 3))
    positions[:, 0] = [0.0, -0.045, 0.1]
    positions[:, 1] = positions[:, 0] - np.outer(gaps * eye_distance, [0.0, 1.0, 0.0])
    positions[:, 2], positions[:, 3] = [-eye_distance / 2, 0.03, 0.09], [eye_distance / 2, 0.03, 0.09]
    angles = jaw_angle(PoseKeypoints(25.0, names, positions, np.ones((n, 4), bool)))
    assert angles is not None
    assert angles[0] == 0.0 and angles[1] == 0.0
    assert 0 < angles[2] < angles[3] < angles[4]
    assert angles[3] - angles[2] == pytest.approx(angles[4] - angles[3], rel=1e-6)


def test_without_a_face_mesh_the_head_follows_the_body_points_eyes_and_mouth(tmp_path) -> None:
    """Files with only the body's face points (BlazePose's eyes and mouth corners, no face mesh): a head tilted
    25 degrees towards the signer's left is fitted from them, to within a few degrees of the truth."""
    from conftest import BODY_POINTS, reduced_holistic_points, write_pose

    n, head = 4, ROTATING_JOINTS.index("Head")
    truth = np.tile(rest_pose_features(), (n, 1))
    tilt = rotations.axis_angle_to_matrix(np.array([0.0, 0.0, -np.radians(25.0)]))  # top of the head to +x
    truth[:, 6 * head:6 * head + 6] = rotations.matrix_to_rot6d(tilt)
    components = reduced_holistic_points(truth)
    del components["FACE_LANDMARKS"]
    positions, world = forward_kinematics(truth, with_rotations=True)
    offsets = {"RIGHT_EYE": (-0.045, 0.03, 0.09), "LEFT_EYE": (0.045, 0.03, 0.09),
               "MOUTH_RIGHT": (-0.025, -0.06, 0.09), "MOUTH_LEFT": (0.025, -0.06, 0.09)}
    face = (positions[:, JOINT_INDEX["Head"], None]
            + np.einsum("tij,pj->tpi", world[:, JOINT_INDEX["Head"]], np.array(list(offsets.values()))))
    components["POSE_LANDMARKS"] = (BODY_POINTS + tuple(offsets),
                                    np.concatenate([components["POSE_LANDMARKS"][1], face], axis=1))
    fitted = fit_motion(read_pose_keypoints(write_pose(tmp_path / "no_mesh.pose", components))).features
    fitted_head = forward_kinematics(fitted, with_rotations=True)[1][:, JOINT_INDEX["Head"]]
    assert _angle_deg(fitted_head, world[:, JOINT_INDEX["Head"]]).max() < 3.0
    assert (fitted_head @ np.array([0.0, 1.0, 0.0]))[:, 0].min() > np.sin(np.radians(20.0))


def test_the_fast_rotation_between_two_opposite_directions_is_still_a_rotation() -> None:
    """A bone observed pointing exactly against its rest direction (a detector glitch) has no unique shortest turn;
    the closed form's 1 / (1 + cos) would divide by zero, so it falls back: a proper rotation taking a onto -a."""
    from signeditor.core.ik import _rotation_between

    a = np.array([[0.0, -1.0, 0.0], [0.6, 0.0, 0.8]])
    rotation = _rotation_between(a, -a)
    assert np.isfinite(rotation).all()
    np.testing.assert_allclose(np.einsum("nij,nj->ni", rotation, a), -a, atol=1e-9)
    np.testing.assert_allclose(rotation @ np.swapaxes(rotation, -1, -2), np.broadcast_to(np.eye(3), (2, 3, 3)),
                               atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-9)
