"""glTF/VRM avatars: decoding the shipped VALID avatar, retargeting onto its own rest pose, clear notes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from signeditor.core.avatar_retarget import AvatarRetargeter, find_humanoid_bones
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import FINGERS, JOINT_INDEX
from signeditor.io.avatar_gltf import load_avatar_asset
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import load_project
from signeditor.paths import SAMPLE_PROJECT
from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar, shipped_avatars
from tests.conftest import plausible_features

SHARED_AVATARS = Path(__file__).resolve().parents[1] / ".." / "shared" / "avatars"
DEFAULT_FILE = shipped_avatars()[DEFAULT_AVATAR.split(":", 1)[1]]


def _shared(relative: str) -> Path:
    path = SHARED_AVATARS / relative
    if not path.exists():
        pytest.skip(f"shared avatar not found at {path}")
    return path


def _signing_poses() -> np.ndarray:
    """The bundled sample's frames (real signing poses) and smooth random poses with bent fingers."""
    sample = load_project(SAMPLE_PROJECT).motion.features[::5]
    return np.concatenate([sample, plausible_features(40, seed=3)])


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def test_shipped_valid_avatar_decodes_meshopt_quantization_and_webp():
    asset = load_avatar_asset(DEFAULT_FILE)
    rest = asset.rest_world()
    skin = rest[asset.slot_nodes] @ asset.slot_inverse_bind
    bound = np.einsum("vk,vkab,vb->va", asset.vertex_weights, skin[asset.vertex_slots][..., :3, :3], asset.vertices)
    bound += np.einsum("vk,vka->va", asset.vertex_weights, skin[asset.vertex_slots][..., :3, 3])
    height = bound[:, 1].max() - bound[:, 1].min()
    assert 1.5 < height < 2.0, "dequantized through the skin, the avatar is a person-sized figure in metres"
    assert len(asset.faces) > 40_000 and asset.faces.max() < len(asset.vertices)
    assert sum(n.startswith("h_expressions.") for n in asset.morph_names) == 65
    assert asset.texture.shape[2] == 4 and asset.texture[..., :3].std() > 20, "the WebP texture was decoded"
    assert not asset.notes


def test_retargeted_wrists_and_fingertips_point_where_our_kinematics_puts_them():
    avatar = load_avatar(DEFAULT_AVATAR)
    poses = _signing_poses()
    positions = avatar.retargeter.joint_positions(poses)
    ours = forward_kinematics(poses)
    errors = {}
    for side in "LR":
        shoulder_avatar = positions[f"{side}_Shoulder"]
        shoulder_ours = ours[:, JOINT_INDEX[f"{side}_Shoulder"]]
        for joint in ("Wrist", *(f"{f}Tip" for f in FINGERS)):
            name = f"{side}_{joint}"
            errors[name] = _angles(positions[name] - shoulder_avatar, ours[:, JOINT_INDEX[name]] - shoulder_ours)
    every = np.concatenate(list(errors.values()))
    # Bones point exactly along ours (next test); what remains is the avatar's own proportions (its forearm is
    # 10% shorter than ours relative to the upper arm), which show most in tightly bent elbows.
    assert np.median(every) < 2.5 and np.percentile(every, 95) < 5.0, {k: v.max() for k, v in errors.items()}
    assert every.max() < 8.0


@pytest.mark.parametrize("relative", ["vrm/Godette_vrm_v4.vrm", "vrm/PolygonalMind_160_ChillPenguin.vrm",
                                      "valid/White_M_1_Busi.glb"])
def test_every_retargeted_bone_follows_our_bone_direction(relative):
    """Rest-orientation correction per bone, fingers included: each avatar bone points along ours."""
    asset = load_avatar_asset(_shared(relative))
    bones = find_humanoid_bones(asset.node_names, asset.extensions)
    retargeter = AvatarRetargeter(asset.parents, asset.rest_world(), bones)
    poses = _signing_poses()
    positions = retargeter.joint_positions(poses)
    ours = forward_kinematics(poses)
    pairs = [(f"{s}_Shoulder", f"{s}_Elbow") for s in "LR"] + [(f"{s}_Elbow", f"{s}_Wrist") for s in "LR"]
    pairs += [(f"{s}_{f}{k}", f"{s}_{f}{k + 1}") for s in "LR" for f in FINGERS for k in (1, 2)]
    checked = 0
    for parent, child in pairs:
        if parent in bones.nodes and child in bones.nodes:
            error = _angles(positions[child] - positions[parent],
                            ours[:, JOINT_INDEX[child]] - ours[:, JOINT_INDEX[parent]]).max()
            assert error < 1.0, (parent, child, error)
            checked += 1
    assert checked >= 20


def test_vrm_without_ring_fingers_loads_with_a_clear_note():
    avatar = load_avatar(f"file:{_shared('vrm/Godette_vrm_v4.vrm')}")
    assert avatar.retargeter.bones.source == "vrm0"
    note = " ".join(avatar.notes)
    assert "missing bones" in note and "L_Ring1" in note and "R_Ring3" in note
    assert "L_Index1" not in note
    mesh = avatar.posed(_signing_poses()[3])
    assert np.isfinite(mesh.vertices).all() and np.allclose(np.linalg.norm(mesh.normals, axis=1), 1, atol=1e-3)


def _triangle_gltf(path: Path, node_names: list[str]) -> Path:
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32).tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(positions), "uri": "data:application/octet-stream;base64,"
                     + __import__("base64").b64encode(positions).decode()}],
        "bufferViews": [{"buffer": 0, "byteLength": len(positions)}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"name": "body", "mesh": 0}, *({"name": n} for n in node_names)],
    }
    path.write_text(json.dumps(doc))
    return path


def test_a_file_without_arms_or_with_unknown_extensions_is_refused_by_name(tmp_path):
    no_rig = _triangle_gltf(tmp_path / "prop.gltf", ["Cube"])
    with pytest.raises(FileFormatError, match=r"prop\.gltf.*no recognisable arms"):
        load_avatar(f"file:{no_rig}")
    draco = tmp_path / "draco.gltf"
    doc = json.loads(no_rig.read_text()) | {"extensionsRequired": ["KHR_draco_mesh_compression"]}
    draco.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="KHR_draco_mesh_compression"):
        load_avatar_asset(draco)
    with pytest.raises(FileFormatError, match="no such shipped avatar"):
        load_avatar("shipped:Nobody")


def test_mixamo_and_smplx_names_find_the_same_joints():
    mixamo = ["mixamorig:LeftArm", "mixamorig:LeftForeArm", "mixamorig:LeftHand", "mixamorig:LeftShoulder",
              "mixamorig:LeftHandThumb1", "mixamorig:LeftHandIndex4"]
    smplx = ["left_shoulder", "left_elbow", "left_wrist", "left_collar", "left_thumb1", "l_indextip"]
    vrm1 = ["leftUpperArm", "leftLowerArm", "leftHand", "leftShoulder", "leftThumbMetacarpal", "leftIndexDistal"]
    expected = ["L_Shoulder", "L_Elbow", "L_Wrist", "L_Collar", "L_Thumb1"]
    for names in (mixamo, smplx, vrm1):
        found = find_humanoid_bones(names).nodes
        assert [next(k for k, v in found.items() if v == i) for i in range(5)] == expected
    assert find_humanoid_bones(vrm1).nodes["L_Index3"] == 5
    vrm0 = {"VRM": {"humanoid": {"humanBones": [{"bone": "leftThumbProximal", "node": 0}]}}}
    assert find_humanoid_bones(["a"], vrm0).nodes == {"L_Thumb1": 0}


def test_mixamo_bone_names_alone_drive_a_rig():
    """The CC0 penguin's nodes are Mixamo-named: without its VRM map, the names find the same bones."""
    asset = load_avatar_asset(_shared("vrm/PolygonalMind_160_ChillPenguin.vrm"))
    by_vrm = find_humanoid_bones(asset.node_names, asset.extensions)
    by_names = find_humanoid_bones(asset.node_names)
    assert by_names.source == "names" and by_vrm.source == "vrm0"
    assert {j: n for j, n in by_names.nodes.items() if j in by_vrm.nodes} == by_vrm.nodes
    assert {"L_IndexTip", "R_ThumbTip"} <= set(by_names.nodes), "Mixamo's end bones give the fingertips"
