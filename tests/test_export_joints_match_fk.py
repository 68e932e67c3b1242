"""What you see is what every file holds: each export, read back by an independent reader, puts the joints
where our forward kinematics (and so the viewport mesh) puts them, within 1 mm on every frame.

Readers: pygltflib for glTF/GLB (node hierarchy and animation evaluated here from the file's own numbers), the
``bvh`` package for BVH (offsets and Euler channels composed here with scipy), pose-format for ``.pose``
(pixels mapped back to metres), numpy + scipy for the SMPL-X ``.npz`` (axis-angle only, composed on the rest
offsets the BVH states).
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from bvh import Bvh
from pose_format import Pose
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS
from signeditor.io.bvh import write_bvh
from signeditor.io.gltf_export import write_gltf
from signeditor.io.pose_export import IMAGE_SIZE, PIXELS_PER_METRE, write_pose
from signeditor.io.project_file import load_project
from signeditor.io.smplx_params import write_smplx_npz

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"
TOLERANCE_M = 1e-3
_DTYPES = {pygltflib.FLOAT: np.float32, pygltflib.UNSIGNED_SHORT: np.uint16, pygltflib.UNSIGNED_INT: np.uint32}
_WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@pytest.fixture(scope="module", params=["sample", "random"])
def motion(request: pytest.FixtureRequest) -> Motion:
    """The bundled sample (every frame) and a clip of large random rotations on every joint."""
    if request.param == "sample":
        return load_project(SAMPLE).motion
    aa = np.random.default_rng(11).normal(scale=0.6, size=(20, len(ROTATING_JOINTS), 3))
    return Motion(25.0, rotations.axis_angle_to_rot6d(aa).reshape(20, FEATURE_DIM))


def assert_joints_match(theirs: dict[str, np.ndarray], motion: Motion, at_least: int = 30) -> None:
    fk = forward_kinematics(motion.features)
    compared = [name for name in theirs if name in JOINT_INDEX]
    assert len(compared) >= at_least, compared
    for name in compared:
        error = np.linalg.norm(theirs[name] - fk[:, JOINT_INDEX[name]], axis=-1)
        assert error.shape == (motion.n_frames,)
        assert error.max() < TOLERANCE_M, f"{name}: {error.max() * 1000:.2f} mm"


def _gltf_joints(path: Path) -> dict[str, np.ndarray]:
    gltf = pygltflib.GLTF2().load(str(path))
    uri = gltf.buffers[0].uri  # .gltf: the buffer is an embedded data URI; .glb: the binary chunk
    blob = base64.b64decode(uri.split(",", 1)[1]) if uri else gltf.binary_blob()

    def accessor(index: int) -> np.ndarray:
        acc = gltf.accessors[index]
        view = gltf.bufferViews[acc.bufferView]
        width = _WIDTH[acc.type]
        raw = np.frombuffer(blob, dtype=_DTYPES[acc.componentType], count=acc.count * width,
                            offset=view.byteOffset + (acc.byteOffset or 0))
        return raw.reshape(acc.count, width) if width > 1 else raw

    anim = gltf.animations[0]
    tracks = {ch.target.node: accessor(anim.samplers[ch.sampler].output).astype(np.float64)
              for ch in anim.channels if ch.target.path == "rotation"}
    n_frames = len(accessor(anim.samplers[0].input))
    parent = {c: i for i, node in enumerate(gltf.nodes) for c in (node.children or [])}
    world: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def world_of(node: int) -> tuple[np.ndarray, np.ndarray]:
        if node not in world:
            quat = tracks.get(node, np.tile([0.0, 0.0, 0.0, 1.0], (n_frames, 1)))
            local_rotation = Rotation.from_quat(quat).as_matrix()  # glTF and scipy: x, y, z, w
            translation = np.asarray(gltf.nodes[node].translation or [0.0, 0.0, 0.0])
            if node in parent:
                rotation, position = world_of(parent[node])
                world[node] = (rotation @ local_rotation, position + rotation @ translation)
            else:
                world[node] = (local_rotation, np.tile(translation, (n_frames, 1)))
        return world[node]

    return {gltf.nodes[j].name: world_of(j)[1] for j in gltf.skins[0].joints}


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_gltf_joints_match_fk(motion: Motion, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"take{suffix}"
    write_gltf(motion, path)
    assert_joints_match(_gltf_joints(path), motion)


def _bvh_joints(path: Path) -> dict[str, np.ndarray]:
    mocap = Bvh(path.read_text())
    names = mocap.get_joints_names()
    world: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in names:  # the parser lists parents before children
        channels = mocap.joint_channels(name)
        rotation_channels = [c for c in channels if c.endswith("rotation")]
        values = np.array(mocap.frames_joint_channels(name, rotation_channels), dtype=np.float64)
        order = "".join(c[0] for c in rotation_channels)
        local = Rotation.from_euler(order.upper(), values, degrees=True).as_matrix()
        offset = np.array(mocap.joint_offset(name)) / 100.0
        parent = mocap.joint_parent(name)
        if parent is None:
            position = np.array(mocap.frames_joint_channels(name, ["Xposition", "Yposition", "Zposition"]))
            world[name] = (local, position / 100.0)
        else:
            rotation, base = world[parent.name]
            world[name] = (rotation @ local, base + rotation @ offset)
    return {name: position for name, (_, position) in world.items()}


def test_bvh_joints_match_fk(motion: Motion, tmp_path: Path) -> None:
    path = tmp_path / "take.bvh"
    write_bvh(motion, path)
    assert_joints_match(_bvh_joints(path), motion)


def test_pose_keypoints_match_fk(motion: Motion, tmp_path: Path) -> None:
    """Landmarks, mapped back from image pixels (y down, z away from the camera), are the FK joints."""
    path = tmp_path / "take.pose"
    write_pose(motion, path)
    pose = Pose.read(path.read_bytes())
    pixels = np.asarray(pose.body.data[:, 0], dtype=np.float64)
    centre = np.array([IMAGE_SIZE / 2, IMAGE_SIZE * 0.45, 0.0])
    metres = (pixels - centre) / np.array([PIXELS_PER_METRE, -PIXELS_PER_METRE, -PIXELS_PER_METRE])
    theirs: dict[str, np.ndarray] = {}
    for side, word in (("L", "LEFT"), ("R", "RIGHT")):
        for joint in ("SHOULDER", "ELBOW", "WRIST"):
            theirs[f"{side}_{joint.title()}"] = metres[:, pose.header._get_point_index("POSE_LANDMARKS",
                                                                                     f"{word}_{joint}")]
        hand = f"{word}_HAND_LANDMARKS"
        for point, joint in (("INDEX_FINGER_MCP", "Index1"), ("INDEX_FINGER_PIP", "Index2"),
                             ("INDEX_FINGER_DIP", "Index3"), ("INDEX_FINGER_TIP", "IndexTip"),
                             ("MIDDLE_FINGER_TIP", "MiddleTip"), ("RING_FINGER_PIP", "Ring2"),
                             ("PINKY_MCP", "Pinky1"), ("PINKY_TIP", "PinkyTip"), ("THUMB_TIP", "ThumbTip")):
            theirs[f"{side}_{joint}"] = metres[:, pose.header._get_point_index(hand, point)]
    assert_joints_match(theirs, motion, at_least=24)


def test_pose_export_orientation_at_rest(tmp_path: Path) -> None:
    """Independently of FK: facing the camera, the signer's left shoulder is on the image's right (larger x),
    the nose above the shoulders (image y grows downwards) and nearer the camera (smaller z)."""
    path = tmp_path / "rest.pose"
    write_pose(Motion.rest(3), path)
    pose = Pose.read(path.read_bytes())
    pixels = np.asarray(pose.body.data[:, 0], dtype=np.float64)
    left, right, nose = (pixels[:, pose.header._get_point_index("POSE_LANDMARKS", name)]
                         for name in ("LEFT_SHOULDER", "RIGHT_SHOULDER", "NOSE"))
    assert np.all(left[:, 0] > right[:, 0] + 100)
    assert np.all(nose[:, 1] < left[:, 1] - 50)
    assert np.all(nose[:, 2] < left[:, 2])


def test_smplx_npz_rotations_rebuild_fk_joints(motion: Motion, tmp_path: Path) -> None:
    """The ``.npz`` holds rotations only: read with numpy, decoded by scipy, chained on the BVH's offsets."""
    npz_path, bvh_path = tmp_path / "take.npz", tmp_path / "take.bvh"
    write_smplx_npz(motion, npz_path)
    write_bvh(motion, bvh_path)
    mocap = Bvh(bvh_path.read_text())
    with np.load(npz_path, allow_pickle=False) as params:
        body = params["body_pose"].astype(np.float64)
        hands = {"L": params["left_hand_pose"].astype(np.float64), "R": params["right_hand_pose"].astype(np.float64)}
    smplx_body = ("Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow",
                  "L_Wrist", "R_Wrist")  # SMPL-X body joints 12..21 = body_pose rows 11..20
    mano = ("Index1", "Index2", "Index3", "Middle1", "Middle2", "Middle3", "Pinky1", "Pinky2", "Pinky3",
            "Ring1", "Ring2", "Ring3", "Thumb1", "Thumb2", "Thumb3")
    axis_angle = {name: body[:, 11 + k] for k, name in enumerate(smplx_body)}
    for side, pose in hands.items():
        axis_angle |= {f"{side}_{name}": pose[:, k] for k, name in enumerate(mano)}
    world: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n = motion.n_frames
    for name in mocap.get_joints_names():
        local = (Rotation.from_rotvec(axis_angle[name]).as_matrix() if name in axis_angle
                 else np.broadcast_to(np.eye(3), (n, 3, 3)))
        offset = np.array(mocap.joint_offset(name)) / 100.0
        parent = mocap.joint_parent(name)
        if parent is None:
            world[name] = (local, np.tile(offset, (n, 1)))
        else:
            rotation, base = world[parent.name]
            world[name] = (rotation @ local, base + rotation @ offset)
    assert_joints_match({name: position for name, (_, position) in world.items()}, motion)
