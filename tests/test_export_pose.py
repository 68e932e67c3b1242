from pathlib import Path

import numpy as np
from pose_format import Pose

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.skeleton import JOINT_INDEX
from signeditor.io.pose_export import PIXELS_PER_METRE, write_pose


def test_pose_export_read_back_by_pose_format(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    motion = Motion(30.0, rotations.axis_angle_to_rot6d(
        rng.normal(scale=0.4, size=(15, 41, 3))).reshape(15, FEATURE_DIM))
    path = tmp_path / "take.pose"
    write_pose(motion, path)
    pose = Pose.read(path.read_bytes())
    assert pose.body.fps == 30.0 and pose.body.data.shape == (15, 1, 543, 3)
    names = [c.name for c in pose.header.components]
    assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    wrist = pose.header._get_point_index("RIGHT_HAND_LANDMARKS", "WRIST")
    tip = pose.header._get_point_index("RIGHT_HAND_LANDMARKS", "INDEX_FINGER_TIP")
    data = np.asarray(pose.body.data[:, 0])
    fk = forward_kinematics(motion.features)
    # Distances in pixels equal metres times the scale: the keypoints are the skeleton's joints.
    ours = np.linalg.norm(fk[:, JOINT_INDEX["R_IndexTip"]] - fk[:, JOINT_INDEX["R_Wrist"]], axis=1)
    theirs = np.linalg.norm(data[:, tip] - data[:, wrist], axis=1) / PIXELS_PER_METRE
    np.testing.assert_allclose(theirs, ours, rtol=1e-4)
    # Up is up: the head is above the wrists at rest-like poses (image y grows downwards).
    nose = pose.header._get_point_index("POSE_LANDMARKS", "NOSE")
    knee = pose.header._get_point_index("POSE_LANDMARKS", "LEFT_KNEE")
    assert pose.body.confidence[0, 0, nose] == 1 and pose.body.confidence[0, 0, knee] == 0


#: MediaPipe's names for the skeleton's joints (pose landmarks: the hand's knuckle points as MediaPipe places them).
_BODY_POINT_JOINT = {"SHOULDER": "Shoulder", "ELBOW": "Elbow", "WRIST": "Wrist", "PINKY": "Pinky1",
                     "INDEX": "Index1", "THUMB": "Thumb2"}
_HAND_POINT_JOINT = {"WRIST": "Wrist", "THUMB_CMC": "Thumb1", "THUMB_MCP": "Thumb2", "THUMB_IP": "Thumb3",
                     "THUMB_TIP": "ThumbTip"} | {
    f"{name}_{level}": f"{finger}{joint}"
    for finger, name in (("Index", "INDEX_FINGER"), ("Middle", "MIDDLE_FINGER"), ("Ring", "RING_FINGER"),
                         ("Pinky", "PINKY"))
    for level, joint in (("MCP", "1"), ("PIP", "2"), ("DIP", "3"), ("TIP", "Tip"))}
_UNPLACED_BODY = {f"{side}_{part}" for side in ("LEFT", "RIGHT") for part in ("KNEE", "ANKLE", "HEEL", "FOOT_INDEX")}


def test_every_exported_point_is_its_joint_in_pixels_on_every_frame_and_the_rest_are_masked(tmp_path: Path) -> None:
    """A random 9-frame motion at 50 fps written as ``.pose`` and read back with pose_format: the frame rate and
    count; every body and hand point on both sides, every frame, is its skeleton joint from forward kinematics
    mapped to pixels (x = 500 + 800 X, y = 450 - 800 Y, z = -800 Z: y down, towards the camera negative), the hips
    9 cm either side of the pelvis; legs and feet, and face-mesh points the skeleton cannot place, have confidence
    0 and are masked; every placed face point rides rigidly on the head, the lower lip (14) and chin (152) on the
    jaw (their offset in that joint's frame is the same on every frame)."""
    rng = np.random.default_rng(11)
    motion = Motion(50.0, rotations.axis_angle_to_rot6d(rng.normal(scale=0.5, size=(9, 41, 3))).reshape(9, -1))
    write_pose(motion, tmp_path / "take.pose")
    pose = Pose.read((tmp_path / "take.pose").read_bytes())
    assert pose.body.fps == 50.0 and pose.body.data.shape == (9, 1, 543, 3)
    header = pose.header
    data = np.ma.getdata(pose.body.data[:, 0]).astype(np.float64)
    mask = np.ma.getmaskarray(pose.body.data[:, 0])
    confidence = np.asarray(pose.body.confidence[:, 0])
    fk, world = forward_kinematics(motion.features, with_rotations=True)

    def pixels(points: np.ndarray) -> np.ndarray:
        return np.stack([500 + 800 * points[..., 0], 450 - 800 * points[..., 1], -800 * points[..., 2]], axis=-1)

    expected: dict[int, np.ndarray] = {}
    for side, word in (("L", "LEFT"), ("R", "RIGHT")):
        for point, joint in _BODY_POINT_JOINT.items():
            index = header._get_point_index("POSE_LANDMARKS", f"{word}_{point}")
            expected[index] = fk[:, JOINT_INDEX[f"{side}_{joint}"]]
        hip = fk[:, JOINT_INDEX["Pelvis"]] + [0.09 if side == "L" else -0.09, 0.0, 0.0]
        expected[header._get_point_index("POSE_LANDMARKS", f"{word}_HIP")] = hip
        for point, joint in _HAND_POINT_JOINT.items():
            expected[header._get_point_index(f"{word}_HAND_LANDMARKS", point)] = fk[:, JOINT_INDEX[f"{side}_{joint}"]]
    assert len(expected) == 2 * (len(_BODY_POINT_JOINT) + 1 + 21)
    for index, points in expected.items():
        np.testing.assert_allclose(data[:, index], pixels(points), atol=2e-3, err_msg=str(index))
        assert (confidence[:, index] == 1).all()
    unplaced = [header._get_point_index("POSE_LANDMARKS", name) for name in _UNPLACED_BODY]
    face = [header._get_point_index("FACE_LANDMARKS", str(i)) for i in range(468)]
    placed_face = [i for i in face if confidence[0, i] == 1]
    assert len(placed_face) >= 10
    for index in unplaced + [i for i in face if i not in placed_face]:
        assert (confidence[:, index] == 0).all() and mask[:, index].all(), index
        assert not data[:, index].any(), index  # zeros, as MediaPipe writes a missed point
    head, jaw = JOINT_INDEX["Head"], JOINT_INDEX["Jaw"]
    on_jaw = {header._get_point_index("FACE_LANDMARKS", name) for name in ("14", "152")}
    for index in placed_face:
        metres = (data[:, index] - [500, 450, 0]) * [1 / 800, -1 / 800, -1 / 800]
        joint = jaw if index in on_jaw else head
        local = np.einsum("tji,tj->ti", world[:, joint], metres - fk[:, joint])
        np.testing.assert_allclose(local, np.broadcast_to(local[0], local.shape), atol=1e-5, err_msg=str(index))


def test_a_neutral_face_has_its_nose_tip_foremost_and_its_mouth_closed(tmp_path: Path) -> None:
    """At rest (head and jaw unturned) the exported face is a face: the nose tip (1) is in front of every other
    placed point (lips, chin, eyes), the lower lip (14) lies within 2.5 cm of the upper lip (13) and below it, the
    chin (152) below the lower lip."""
    write_pose(Motion.rest(1), tmp_path / "rest.pose")
    pose = Pose.read((tmp_path / "rest.pose").read_bytes())
    data = np.ma.getdata(pose.body.data[0, 0]).astype(np.float64)
    confidence = np.asarray(pose.body.confidence[0, 0])

    def point(name: str) -> np.ndarray:
        return data[pose.header._get_point_index("FACE_LANDMARKS", name)]

    placed = [str(i) for i in range(468) if confidence[pose.header._get_point_index("FACE_LANDMARKS", str(i))]]
    assert {"1", "13", "14", "152"} <= set(placed)
    nose_depth = point("1")[2]  # towards the camera is negative z
    assert all(point(name)[2] > nose_depth for name in placed if name != "1")
    upper, lower, chin = point("13"), point("14"), point("152")
    assert np.linalg.norm(lower - upper) < 0.025 * PIXELS_PER_METRE
    assert upper[1] < lower[1] < chin[1]  # image y grows downwards
