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
