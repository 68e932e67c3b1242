"""Importing other rigs: a Mixamo-named BVH made from a known motion, and the CC0 Mixamo glTF fixture."""

from pathlib import Path

import numpy as np
import pytest

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS
from signeditor.io.bvh import write_bvh
from signeditor.io.errors import FileFormatError
from signeditor.io.rig_import import read_bvh_rig, read_gltf_rig

MIXAMO = {"Shoulder": "Arm", "Elbow": "ForeArm", "Wrist": "Hand", "Collar": "Shoulder"}


def mixamo_name(ours: str) -> str:
    side, _, part = ours.partition("_")
    if side not in ("L", "R"):
        return f"mixamorig:{ours}"
    lr = "Left" if side == "L" else "Right"
    if part in MIXAMO:
        return f"mixamorig:{lr}{MIXAMO[part]}"
    return f"mixamorig:{lr}Hand{part}"


def test_mixamo_named_bvh_retargets_to_the_same_pose(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    aa = rng.normal(scale=0.35, size=(10, len(ROTATING_JOINTS), 3))
    aa[:, :4] = 0.0  # neck, collars and head are not observable from arm and hand joints
    motion = Motion(25.0, rotations.axis_angle_to_rot6d(aa).reshape(10, FEATURE_DIM))
    path = tmp_path / "mixamo.bvh"
    write_bvh(motion, path)
    text = path.read_text()
    for name in sorted(JOINT_INDEX, key=len, reverse=True):
        text = text.replace(f"JOINT {name}\n", f"JOINT {mixamo_name(name)}\n")
    path.write_text(text)
    assert "mixamorig:RightForeArm" in text
    back = read_bvh_rig(path)
    assert back.n_frames == 10
    ours, theirs = forward_kinematics(motion.features), forward_kinematics(back.features)
    for joint in ("R_Elbow", "R_Wrist", "L_Wrist", "R_IndexTip", "L_ThumbTip"):
        np.testing.assert_allclose(theirs[:, JOINT_INDEX[joint]], ours[:, JOINT_INDEX[joint]], atol=0.03)


@pytest.mark.shared_data
def test_cc0_mixamo_gltf_hello(shared_signdata: Path) -> None:
    motion = read_gltf_rig(shared_signdata / "fixtures" / "studiogalt_asl_hello_mixamo_cc0.gltf")
    assert motion.fps == 25.0 and motion.n_frames == 56  # 2.2 s
    positions = forward_kinematics(motion.features)
    wrist = positions[:, JOINT_INDEX["R_Wrist"], 1]
    # HELLO starts at the forehead: the right hand rises well above the shoulder.
    assert wrist.max() > positions[0, JOINT_INDEX["R_Shoulder"], 1] + 0.15


def test_gltf_without_animation_or_rig_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.gltf"
    path.write_text('{"asset": {"version": "2.0"}, "nodes": [{"name": "a"}]}')
    with pytest.raises(FileFormatError, match="no animation"):
        read_gltf_rig(path)
    path.write_text("{ not json")
    with pytest.raises(FileFormatError, match=r"empty\.gltf"):
        read_gltf_rig(path)


