"""Exports read back with the libraries their users use: the ``bvh`` parser and numpy."""

import itertools
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


def test_every_bvh_joint_and_end_site_lands_where_forward_kinematics_puts_it(tmp_path: Path) -> None:
    """A random 7-frame motion at 30 fps written as BVH and read with the third-party ``bvh`` parser: frame count
    and time; every joint of the skeleton once, under its skeleton parent, at its rest offset in centimetres; and
    the pose rebuilt from the file alone (each joint's Euler channels in the order the file gives, composed down
    the hierarchy from the root's position channels, End Sites included) puts every joint and every fingertip,
    on every frame, where the editor's forward kinematics puts it (x100: centimetres)."""
    rng = np.random.default_rng(9)
    axis_angle = rng.normal(scale=0.7, size=(7, len(ROTATING_JOINTS), 3))
    motion = Motion(30.0, rotations.axis_angle_to_rot6d(axis_angle).reshape(7, FEATURE_DIM))
    write_bvh(motion, tmp_path / "take.bvh")
    mocap = Bvh((tmp_path / "take.bvh").read_text())
    assert mocap.nframes == 7 and mocap.frame_time == pytest.approx(1 / 30)
    skeleton = signing_skeleton()
    names = mocap.get_joints_names()
    assert sorted(names) == sorted(n for n in skeleton.names if not n.endswith("Tip")) and len(names) == len(set(names))
    fk = forward_kinematics(motion.features) * 100.0
    world: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    tips_seen = set()
    for name in names:  # parents come first in a BVH file
        index = skeleton.index(name)
        parent = mocap.joint_parent(name)
        expected_parent = skeleton.parents[index]
        assert (parent.name if parent is not None else None) == (
            skeleton.names[expected_parent] if expected_parent >= 0 else None), name
        np.testing.assert_allclose(mocap.joint_offset(name), skeleton.offsets[index] * 100.0, atol=1e-5)
        channels = mocap.joint_channels(name)
        values = np.array(mocap.frames_joint_channels(name, channels), dtype=np.float64)
        rotation_axes = "".join(c[0] for c in channels if c.endswith("rotation"))
        local = Rotation.from_euler(rotation_axes, values[:, [c.endswith("rotation") for c in channels]],
                                    degrees=True).as_matrix()
        if parent is None:
            position = values[:, [channels.index(f"{axis}position") for axis in "XYZ"]]
            orientation = local
        else:
            parent_position, parent_orientation = world[parent.name]
            position = parent_position + parent_orientation @ np.array(mocap.joint_offset(name))
            orientation = parent_orientation @ local
        world[name] = (position, orientation)
        np.testing.assert_allclose(position, fk[:, index], atol=2e-3, err_msg=name)
        for end in mocap.get_joint(name).filter("End"):
            end_position = position + orientation @ np.array([float(v) for v in end["OFFSET"]])
            tip = [c for c in range(len(skeleton.names)) if skeleton.parents[c] == index
                   and skeleton.names[c].endswith("Tip")]
            if tip:
                np.testing.assert_allclose(end_position, fk[:, tip[0]], atol=2e-3, err_msg=f"{name} end")
                tips_seen.add(skeleton.names[tip[0]])
    assert tips_seen == {n for n in skeleton.names if n.endswith("Tip")}


def test_a_bvh_with_any_euler_order_per_joint_and_any_sibling_order_reads_as_its_rotations(tmp_path: Path) -> None:
    """Other tools write BVH with other conventions: a file built here by hand (each joint's rotation channels in a
    random one of the six Euler orders, the root's position channels after its rotations, siblings in reversed
    order, 8 frames at 29.97 fps, Euler angles from scipy) reads back as exactly those local rotations per joint
    name, at 29.97 fps; a joint the file leaves out (the jaw) is at rest."""
    rng = np.random.default_rng(12)
    skeleton = signing_skeleton()
    truth = Rotation.random(8 * len(ROTATING_JOINTS), random_state=12).as_matrix().reshape(8, -1, 3, 3)
    orders = ["".join(p) for p in itertools.permutations("XYZ")]
    lines, columns = ["HIERARCHY"], []

    def emit(index: int, depth: int) -> None:
        name = skeleton.names[index]
        order = orders[int(rng.integers(len(orders)))]
        rotation = [f"{axis}rotation" for axis in order]
        channels = rotation + ([f"{axis}position" for axis in "XYZ"] if depth == 0 else [])
        lines.extend([f"{'ROOT' if depth == 0 else 'JOINT'} {name}", "{", "OFFSET 0 1 0",
                      f"CHANNELS {len(channels)} {' '.join(channels)}"])
        local = truth[:, ROTATING_JOINTS.index(name)] if name in ROTATING_JOINTS else np.broadcast_to(np.eye(3),
                                                                                                      (8, 3, 3))
        angles = Rotation.from_matrix(local).as_euler(order, degrees=True)
        columns.append(angles if depth else np.concatenate([angles, np.zeros((8, 3))], axis=1))
        kids = [c for c, p in enumerate(skeleton.parents) if p == index and not skeleton.names[c].endswith("Tip")]
        kids = [c for c in kids if skeleton.names[c] != "Jaw"]
        for child in reversed(kids):
            emit(child, depth + 1)
        if not kids:
            lines.extend(["End Site", "{", "OFFSET 0 1 0", "}"])
        lines.append("}")

    emit(0, 0)
    frames = np.concatenate(columns, axis=1)
    lines += ["MOTION", "Frames: 8", f"Frame Time: {1 / 29.97:.10f}"] + [" ".join(f"{v:.10f}" for v in row)
                                                                        for row in frames]
    (tmp_path / "other.bvh").write_text("\n".join(lines) + "\n")
    back = read_bvh(tmp_path / "other.bvh")
    assert back.n_frames == 8 and back.fps == pytest.approx(29.97)
    got = back.matrices()
    for joint, name in enumerate(ROTATING_JOINTS):
        expected = np.broadcast_to(np.eye(3), (8, 3, 3)) if name == "Jaw" else truth[:, joint]
        np.testing.assert_allclose(got[:, joint], expected, atol=1e-5, err_msg=name)
