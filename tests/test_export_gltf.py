"""The GLB is read back with pygltflib and trimesh, and re-skinned from its own data."""

from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh

from signeditor.core import rotations
from signeditor.io.gltf_export import write_gltf
from signeditor.io.project_file import load_project
from signeditor.render.avatars.mannequin import Avatar

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"
_DTYPES = {pygltflib.FLOAT: np.float32, pygltflib.UNSIGNED_SHORT: np.uint16, pygltflib.UNSIGNED_INT: np.uint32}
_WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def accessor_array(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    blob = gltf.binary_blob()
    width = _WIDTH[acc.type]
    dtype = np.dtype(_DTYPES[acc.componentType])
    raw = np.frombuffer(blob, dtype=dtype, count=acc.count * width, offset=view.byteOffset + (acc.byteOffset or 0))
    return raw.reshape(acc.count, width) if width > 1 else raw


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    project = load_project(SAMPLE)
    motion = project.motion.slice(0, 40)
    path = tmp_path_factory.mktemp("gltf") / "sample.glb"
    write_gltf(motion, path)
    return path, motion


def test_trimesh_opens_the_mesh(exported: tuple[Path, object]) -> None:
    path, _ = exported
    scene = trimesh.load(path)
    mesh = next(iter(scene.geometry.values()))
    assert len(mesh.vertices) == 24256 and len(mesh.faces) == 48396


def test_animation_reskins_to_the_avatar(exported: tuple[Path, object]) -> None:
    """Linear-blend skinning from the file's own nodes, skin and track equals the viewport's mesh."""
    path, motion = exported
    gltf = pygltflib.GLTF2().load(str(path))
    anim = gltf.animations[0]
    times = accessor_array(gltf, anim.samplers[0].input)
    assert len(times) == motion.n_frames and times[-1] == pytest.approx((motion.n_frames - 1) / motion.fps)
    frame = 20
    skin = gltf.skins[0]
    node_rot = {ch.target.node: accessor_array(gltf, anim.samplers[ch.sampler].output)[frame] for ch in anim.channels}
    parent = {c: i for i, n in enumerate(gltf.nodes) for c in (n.children or [])}
    world: dict[int, np.ndarray] = {}

    def world_of(node: int) -> np.ndarray:
        if node not in world:
            local = np.eye(4)
            local[:3, :3] = rotations.quaternion_to_matrix(node_rot[node])
            local[:3, 3] = gltf.nodes[node].translation
            world[node] = (world_of(parent[node]) if node in parent else np.eye(4)) @ local
        return world[node]

    ibm = accessor_array(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    joint_mats = np.stack([world_of(n) for n in skin.joints]) @ ibm
    prim = gltf.meshes[0].primitives[0]
    verts = accessor_array(gltf, prim.attributes.POSITION).astype(np.float64)
    joints = accessor_array(gltf, prim.attributes.JOINTS_0).astype(int)
    weights = accessor_array(gltf, prim.attributes.WEIGHTS_0)
    homo = np.concatenate([verts, np.ones((len(verts), 1))], axis=1)
    skinned = np.einsum("vk,vkij,vj->vi", weights, joint_mats[joints], homo)[:, :3]
    expected = Avatar().posed(motion.features[frame]).vertices
    np.testing.assert_allclose(skinned, expected, atol=2e-4)
