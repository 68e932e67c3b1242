"""What guards and masks do, not only that they run.

The IK body guard must move a hand that entered the chest forward and out of it (not back through the body);
the face fit on detected frames must not depend on what the undetected frames hold (the neutral level comes
from detected frames only, and coinciding points on lost frames must not turn into NaN); every LEFT_/RIGHT_
point pair of an exported ``.pose`` file must lie on the signer's side at rest (the signer faces the camera,
so the signer's left is the image's right).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_face import _track

from signeditor.core import rotations
from signeditor.core.body_volume import INSIDE_TOLERANCE, body_penetration
from signeditor.core.face import FACE_INDEX, fit_face_parameters
from signeditor.core.ik import SIDE_HAND_POINT_INDICES, keep_hands_outside_body, rest_pose_features
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import Motion
from signeditor.core.skeleton import ROTATING_JOINTS


# --- the IK guard that keeps hands out of the body -------------------------------------------------------------
def _arm_pose(side: str, shoulder_axis_angles: list[tuple[float, float, float]], elbow: float) -> np.ndarray:
    """Rest, with the shoulder turned by the given axis-angles (applied last first) and the elbow bent."""
    features = rest_pose_features().copy()
    shoulder, hinge = ROTATING_JOINTS.index(f"{side}_Shoulder"), ROTATING_JOINTS.index(f"{side}_Elbow")
    turn = np.eye(3)
    for axis_angle in shoulder_axis_angles:
        turn = turn @ rotations.axis_angle_to_matrix(np.array(axis_angle))
    for column, matrix in ((shoulder, turn), (hinge, rotations.axis_angle_to_matrix(np.array([0.0, elbow, 0.0])))):
        local = rotations.rot6d_to_matrix(features[6 * column:6 * column + 6].astype(np.float64))
        features[6 * column:6 * column + 6] = rotations.matrix_to_rot6d(matrix @ local)
    return features


#: Hands in front of the chest with fingers 2-4 cm inside it (found by searching shoulder and elbow angles).
CHEST_TOUCHES = [
    ("L", [(1.5, 0, 0), (0, 0, -1.0), (0, -0.5, 0)], -1.8),
    ("L", [(0.5, 0, 0), (0, 0, 0.0), (0, -0.5, 0)], -1.8),
    ("L", [(1.0, 0, 0), (0, 0, -1.0), (0, 0.0, 0)], -1.8),
    ("R", [(0.5, 0, 0), (0, 0, 0.0), (0, 0.5, 0)], 1.8),
    ("R", [(1.0, 0, 0), (0, 0, 0.5), (0, 0.5, 0)], 1.8),
    ("R", [(1.0, 0, 0), (0, 0, 1.0), (0, 0.0, 0)], 1.8),
]


def _hand(features: np.ndarray, side: str) -> np.ndarray:
    return forward_kinematics(features)[:, list(SIDE_HAND_POINT_INDICES[side])]


@pytest.mark.parametrize(("side", "turns", "elbow"), CHEST_TOUCHES)
def test_the_body_guard_moves_a_hand_forward_and_out_of_the_chest(side: str, turns: list, elbow: float):
    touching = _arm_pose(side, turns, elbow)
    features = np.stack([rest_pose_features(), touching, touching]).astype(np.float32)
    before = features.copy()
    hand_before = _hand(before, side)
    assert body_penetration(hand_before[1]).max() > 0.015, "the case puts the hand inside the chest"

    assert keep_hands_outside_body(features) == 2
    hand_after = _hand(features, side)
    assert body_penetration(hand_after[1:]).max() <= INSIDE_TOLERANCE, "the hand is out of the body"
    shift = hand_after[1].mean(axis=0) - hand_before[1].mean(axis=0)
    assert shift[2] > 0.01, f"the hand moved {shift[2]:+.3f} m in depth: it must come forward, not go back"
    assert np.all(hand_after[1, :, 2] >= hand_before[1, :, 2] - 1e-3), "no hand point goes backwards"
    # Only the shoulder's rotation changes, and only on the frames that needed it.
    column = ROTATING_JOINTS.index(f"{side}_Shoulder")
    others = np.r_[0:6 * column, 6 * column + 6:features.shape[1]]
    assert np.array_equal(features[:, others], before[:, others])
    assert np.array_equal(features[0], before[0])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(turns=st.lists(st.tuples(st.sampled_from("LR"), st.tuples(*[st.floats(-1.6, 1.6)] * 3),
                                st.floats(-2.2, 2.2)), min_size=1, max_size=6))
def test_the_body_guard_turns_only_the_shoulders_of_hands_inside_the_body_and_brings_them_out_forward(
        turns: list[tuple[str, tuple[float, float, float], float]]) -> None:
    """Random arm poses (a shoulder turn and an elbow bend per frame, on either side; many put a hand into the
    chest or belly): a frame whose hands are both clear of the body is left bit for bit; on the others only a
    shoulder's rotation changes, and only on the side whose hand is inside; each such hand ends out of the body
    (within the tolerance) and no point of it goes backwards; the count returned is the frames changed."""
    features = np.stack([_arm_pose(side, [axis_angle], elbow) for side, axis_angle, elbow in turns]).astype(
        np.float32)
    before = features.copy()
    hands_before = {side: _hand(before, side) for side in "LR"}
    inside = {side: body_penetration(hands_before[side]).max(axis=1) > 0.5 * INSIDE_TOLERANCE for side in "LR"}
    changed = keep_hands_outside_body(features)
    frames_changed = np.flatnonzero((features != before).any(axis=1))
    assert changed == len(frames_changed)
    np.testing.assert_array_equal(frames_changed, np.flatnonzero(inside["L"] | inside["R"]))
    for side in "LR":
        column = slice(6 * ROTATING_JOINTS.index(f"{side}_Shoulder"), 6 * ROTATING_JOINTS.index(f"{side}_Shoulder") + 6)
        assert np.array_equal(features[~inside[side], column], before[~inside[side], column])
        hand = _hand(features, side)[inside[side]]
        assert body_penetration(hand).max(initial=0.0) <= INSIDE_TOLERANCE
        assert (hand[..., 2] >= hands_before[side][inside[side]][..., 2] - 1e-3).all()
    shoulders = np.r_[[6 * ROTATING_JOINTS.index(f"{s}_Shoulder") + k for s in "LR" for k in range(6)]]
    rest_columns = np.setdiff1d(np.arange(features.shape[1]), shoulders)
    np.testing.assert_array_equal(features[:, rest_columns], before[:, rest_columns])


# --- the face fit's mask of detected frames --------------------------------------------------------------------
N_FACE_FRAMES = 60
DETECTED = np.r_[np.ones(30, bool), np.zeros(30, bool)]  # the face is lost from frame 30 on


def _with_gap(fill: str) -> dict[str, np.ndarray]:
    """``_track``'s face (brows raised on 10-19, mouth open on 30-39...) with frames 30-59 lost and holding:"""
    points = _track(N_FACE_FRAMES)
    rng = np.random.default_rng(1)
    for key, values in points.items():
        if fill == "raised brows held":  # what a tracker that holds its last good frame shows
            values[30:] = points[key][15]
        elif fill == "one point":  # every landmark at the same place (a blank detection)
            values[30:] = 0.25
        elif fill == "zeros":
            values[30:] = 0.0
        elif fill == "noise":
            values[30:] = rng.normal(0.0, 0.05, values[30:].shape)
        elif fill == "nan":
            values[30:] = np.nan
    return points


GAP_FILLS = ["as recorded", "raised brows held", "one point", "zeros", "noise", "nan"]


@pytest.mark.parametrize("fill", GAP_FILLS)
def test_the_face_fit_on_detected_frames_ignores_what_lost_frames_hold(fill: str):
    face = fit_face_parameters(_with_gap(fill), DETECTED)
    reference = fit_face_parameters(_with_gap("as recorded"), DETECTED)
    assert np.all(np.isfinite(face)), f"{fill}: NaN or inf in the fit"
    assert np.array_equal(face[:30], reference[:30]), f"{fill}: detected frames changed with the lost ones"
    assert not face[30:].any(), "lost frames get the neutral face"
    # Brows raised 0.13 inter-ocular distances on frames 10-19 against a neutral level on the other 20 detected
    # frames: beyond full scale, so the raise is 1 in the middle of the run and 0 away from it.
    brows = face[:, FACE_INDEX["brow_raise_l"]]
    assert brows[12:18].min() == 1.0 and brows[:8].max() == 0.0 and brows[22:30].max() == 0.0


def test_the_face_fit_of_a_clip_with_a_blank_detection_has_no_nan():
    points = _track(N_FACE_FRAMES)
    for values in points.values():
        values[40:45] = values[40]  # stand-in for anything; then one frame where every point coincides
        values[42] = 0.5
    observed = np.ones(N_FACE_FRAMES, bool)
    observed[42] = False
    face = fit_face_parameters(points, observed)
    assert np.all(np.isfinite(face)) and not face[42].any()
    assert face[:, FACE_INDEX["mouth_open"]][32:38].min() > 0.5


# --- left and right in an exported .pose file ------------------------------------------------------------------
#: MediaPipe face-mesh indices of the subject's left and right: eye corners, lids, brows, mouth corners, cheeks.
FACE_MESH_PAIRS = [(263, 33), (362, 133), (386, 159), (385, 158), (387, 160), (374, 145), (373, 144), (380, 153),
                   (300, 70), (293, 63), (334, 105), (296, 66), (336, 107), (291, 61), (454, 234)]


def _read_pose(path: Path):
    from pose_format import Pose

    pose = Pose.read(path.read_bytes())
    return pose, np.asarray(pose.body.data[:, 0], np.float64), np.asarray(pose.body.confidence[:, 0])


@pytest.mark.parametrize("with_face", [False, True])
def test_every_left_point_of_an_exported_pose_is_on_the_signers_left_at_rest(tmp_path: Path, with_face: bool):
    from signeditor.core.face import FACE_DIM
    from signeditor.io.pose_export import write_pose

    motion = Motion.rest(3)
    if with_face:
        motion = Motion(motion.fps, motion.features, face=np.zeros((3, FACE_DIM), np.float32))
    write_pose(motion, tmp_path / "rest.pose")
    pose, pixels, confidence = _read_pose(tmp_path / "rest.pose")
    header = pose.header
    names = [p for p in header.components[0].points if p.startswith("LEFT_")]
    pairs = [("POSE_LANDMARKS", n, "POSE_LANDMARKS", "RIGHT_" + n[5:]) for n in names]
    pairs += [("POSE_LANDMARKS", "MOUTH_LEFT", "POSE_LANDMARKS", "MOUTH_RIGHT")]
    pairs += [("FACE_LANDMARKS", str(a), "FACE_LANDMARKS", str(b)) for a, b in FACE_MESH_PAIRS]
    pairs += [("LEFT_HAND_LANDMARKS", p, "RIGHT_HAND_LANDMARKS", p) for p in header.components[2].points]
    checked = []
    for left_component, left_name, right_component, right_name in pairs:
        left = header._get_point_index(left_component, left_name)
        right = header._get_point_index(right_component, right_name)
        if confidence[:, left].all() and confidence[:, right].all():
            # The image's x grows to the right; the signer faces the camera: the signer's left is the image's right.
            assert np.all(pixels[:, left, 0] > pixels[:, right, 0]), f"{left_name} vs {right_name}"
            checked.append(left_name)
    assert {"LEFT_EYE", "LEFT_EYE_INNER", "LEFT_EYE_OUTER", "LEFT_EAR", "LEFT_SHOULDER", "LEFT_WRIST", "MOUTH_LEFT",
            "263", "291", "WRIST"} <= set(checked)
