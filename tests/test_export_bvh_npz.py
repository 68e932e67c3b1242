"""Exports read back with the libraries their users use: the ``bvh`` parser and numpy."""

from pathlib import Path

import numpy as np
import pytest
from bvh import Bvh
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.skeleton import ROTATING_JOINTS, signing_skeleton
from signeditor.io.bvh import read_bvh, write_bvh
from signeditor.io.errors import FileFormatError
from signeditor.io.smplx_params import read_smplx_npz, write_smplx_npz


@pytest.fixture
def motion() -> Motion:
    rng = np.random.default_rng(4)
    aa = rng.normal(scale=0.5, size=(12, len(ROTATING_JOINTS), 3))
    return Motion(25.0, rotations.axis_angle_to_rot6d(aa).reshape(12, FEATURE_DIM))


def test_bvh_read_by_third_party_parser(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "take.bvh"
    write_bvh(motion, path)
    mocap = Bvh(path.read_text())
    assert mocap.nframes == 12
    assert mocap.frame_time == pytest.approx(0.04)
    assert set(ROTATING_JOINTS) <= set(mocap.get_joints_names())
    skel = signing_skeleton()
    elbow = skel.index("R_Elbow")
    np.testing.assert_allclose(mocap.joint_offset("R_Elbow"), skel.offsets[elbow] * 100, atol=1e-4)
    assert mocap.joint_channels("R_Elbow") == ["Zrotation", "Xrotation", "Yrotation"]
    for frame in (0, 7):
        z, x, y = (mocap.frame_joint_channel(frame, "R_Elbow", c) for c in ("Zrotation", "Xrotation", "Yrotation"))
        theirs = Rotation.from_euler("ZXY", [z, x, y], degrees=True).as_matrix()
        ours = motion.matrices()[frame, ROTATING_JOINTS.index("R_Elbow")]
        np.testing.assert_allclose(theirs, ours, atol=1e-4)


def test_bvh_round_trip_keeps_positions(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "take.bvh"
    write_bvh(motion, path)
    back = read_bvh(path)
    assert back.n_frames == motion.n_frames and back.fps == pytest.approx(25.0)
    np.testing.assert_allclose(forward_kinematics(back.features), forward_kinematics(motion.features), atol=1e-4)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "nan", "empty"])
def test_bad_bvh_names_file_and_problem(motion: Motion, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "bad.bvh"
    write_bvh(motion, path)
    text = path.read_text()
    if damage == "truncate":
        text = text[: len(text) // 2]
    elif damage == "garbage":
        text = text.replace("OFFSET", "OFFSET x", 1)
    elif damage == "nan":
        text = text[: -10] + " nan nan\n"
    else:
        text = ""
    path.write_text(text)
    with pytest.raises(FileFormatError, match=r"bad\.bvh"):
        read_bvh(path)


def test_smplx_npz_has_the_keys_smplx_takes(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "take.npz"
    write_smplx_npz(motion, path)
    with np.load(path, allow_pickle=False) as npz:
        assert npz["body_pose"].shape == (12, 21, 3)
        assert npz["left_hand_pose"].shape == npz["right_hand_pose"].shape == (12, 15, 3)
        assert npz["jaw_pose"].shape == npz["global_orient"].shape == npz["transl"].shape == (12, 3)
        assert npz["betas"].shape == (12, 10) and npz["expression"].shape == (12, 10)
        # SMPL-X body joint 19 (R_Elbow) is body_pose row 18.
        expected = Rotation.from_matrix(motion.matrices()[:, ROTATING_JOINTS.index("R_Elbow")]).as_rotvec()
        np.testing.assert_allclose(npz["body_pose"][:, 18], expected, atol=1e-5)
    back = read_smplx_npz(path)
    assert back.fps == 25.0
    np.testing.assert_allclose(forward_kinematics(back.features), forward_kinematics(motion.features), atol=1e-5)


def test_smplx_npz_errors(tmp_path: Path) -> None:
    path = tmp_path / "wrong.npz"
    np.savez(path, body_pose=np.zeros((4, 20, 3)))
    with pytest.raises(FileFormatError, match="body_pose"):
        read_smplx_npz(path)
    np.savez(path, something=np.zeros(3))
    with pytest.raises(FileFormatError, match="not SMPL-X"):
        read_smplx_npz(path)
    np.savez(path, body_pose=np.array([object()] * 3, dtype=object))
    with pytest.raises(FileFormatError, match=r"wrong\.npz"):
        read_smplx_npz(path)


def test_end_sites_are_the_fingertips_in_centimetres(tmp_path: Path) -> None:
    """Each third phalanx ends in an End Site at its fingertip: the End Site under R_Index3 (read from the text) is
    the skeleton's tip offset in centimetres, like the joint offsets the `bvh` package reads."""
    path = tmp_path / "tips.bvh"
    write_bvh(Motion.rest(2), path)
    text = path.read_text()
    skeleton = signing_skeleton()
    for joint in ("R_Index3", "L_Thumb3", "R_Pinky3"):
        block = text[text.index(f"JOINT {joint}\n"):]
        end_site = block[block.index("End Site"):].split("OFFSET", 1)[1].split("\n", 1)[0]
        expected = skeleton.offsets[skeleton.index(joint.replace("3", "Tip"))] * 100.0
        np.testing.assert_allclose([float(v) for v in end_site.split()], expected, atol=1e-4)
    assert Bvh(text).joint_offset("R_Index3") == pytest.approx(
        tuple(skeleton.offsets[skeleton.index("R_Index3")] * 100.0), abs=1e-4)
