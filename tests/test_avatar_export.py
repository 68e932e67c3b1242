"""GLB export on a glTF avatar: its skeleton animation and face shape keys, checked by evaluating the file."""

from __future__ import annotations

import numpy as np
import pygltflib as gl

from signeditor.cli import main as cli_main
from signeditor.core import rotations
from signeditor.core.nonmanual import face_with_keys, preset_keys
from signeditor.io.formats import export_project
from signeditor.io.project_file import load_project, save_project
from signeditor.paths import SAMPLE_PROJECT
from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar


def _read(gltf: gl.GLTF2, index: int) -> np.ndarray:
    """Accessor values (float, sparse applied) read with pygltflib's own buffer access."""
    accessor = gltf.accessors[index]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}[accessor.type]
    dtype = {gl.FLOAT: np.float32, gl.UNSIGNED_SHORT: np.uint16, gl.UNSIGNED_INT: np.uint32}[accessor.componentType]
    blob = gltf.binary_blob()
    values = np.zeros((accessor.count, width))
    if accessor.bufferView is not None:
        view = gltf.bufferViews[accessor.bufferView]
        values = np.frombuffer(blob, dtype, accessor.count * width, view.byteOffset + (accessor.byteOffset or 0))
        values = values.reshape(accessor.count, width).astype(np.float64)
    if accessor.sparse is not None:
        sparse = accessor.sparse
        ids = np.frombuffer(blob, np.uint32, sparse.count, gltf.bufferViews[sparse.indices.bufferView].byteOffset)
        changed = np.frombuffer(blob, np.float32, sparse.count * width,
                                gltf.bufferViews[sparse.values.bufferView].byteOffset).reshape(-1, width)
        values[ids] = changed
    return values


def _node_matrix(node: gl.Node) -> np.ndarray:
    """A node's local transform as the glTF spec defines it: its ``matrix``, else T * R * S."""
    if node.matrix is not None:
        return np.asarray(node.matrix, float).reshape(4, 4).T
    matrix = np.eye(4)
    matrix[:3, :3] = rotations.quaternion_to_matrix(np.asarray(node.rotation or [0, 0, 0, 1], float)) * np.asarray(
        node.scale or [1, 1, 1], float)[None, :]
    matrix[:3, 3] = node.translation or [0, 0, 0]
    return matrix


def _evaluate(gltf: gl.GLTF2, frame: int) -> np.ndarray:
    """Posed vertices at ``frame``: the file's node matrices with their animated rotations, skin and weights."""
    n = len(gltf.nodes)
    local = np.stack([_node_matrix(node) for node in gltf.nodes])
    mesh_node = next(i for i, node in enumerate(gltf.nodes) if node.mesh is not None)
    animation = gltf.animations[0]
    weights = None
    for channel in animation.channels:
        output = _read(gltf, animation.samplers[channel.sampler].output)
        if channel.target.path == "rotation":
            node = channel.target.node
            scale = np.linalg.norm(local[node, :3, :3], axis=0)
            local[node, :3, :3] = rotations.quaternion_to_matrix(output[frame]) * scale
        elif channel.target.path == "weights":
            weights = output.reshape(-1, len(gltf.meshes[0].primitives[0].targets))[frame]
    parents = {c: i for i, node in enumerate(gltf.nodes) for c in (node.children or [])}
    world = np.zeros_like(local)
    for node in range(n):  # children may come before parents: resolve recursively
        chain = [node]
        while chain[-1] in parents:
            chain.append(parents[chain[-1]])
        matrix = np.eye(4)
        for link in reversed(chain):
            matrix = matrix @ local[link]
        world[node] = matrix
    primitive = gltf.meshes[0].primitives[0]
    positions = _read(gltf, primitive.attributes.POSITION)
    for k, target in enumerate(primitive.targets):
        positions = positions + weights[k] * _read(gltf, target["POSITION"])
    skin = gltf.skins[gltf.nodes[mesh_node].skin]
    matrices = world[skin.joints] @ _read(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    joints = _read(gltf, primitive.attributes.JOINTS_0).astype(int)
    vertex_weights = _read(gltf, primitive.attributes.WEIGHTS_0)
    blended = np.einsum("vk,vkab->vab", vertex_weights, matrices[joints])
    return np.einsum("vab,vb->va", blended[:, :3, :3], positions) + blended[:, :3, 3]


def test_glb_export_plays_the_motion_and_the_face_on_the_avatar(tmp_path):
    project = load_project(SAMPLE_PROJECT)
    project.face_keys = tuple(preset_keys("wh-question", 10, 50))
    avatar = load_avatar(DEFAULT_AVATAR)
    path = export_project(project, tmp_path / "signing.glb", avatar=avatar)
    gltf = gl.GLTF2().load(str(path))
    names = gltf.meshes[0].extras["targetNames"]
    assert "h_expressions.LbrowDown_h" in names and "h_expressions.MouthOpen_h" in names
    shown = project.shown_motion()  # the face keys on the face, the preset's head tilt on the head
    assert np.array_equal(shown.face, face_with_keys(None, project.face_keys, project.motion.n_frames))
    for frame in (5, 30):
        expected = avatar.posed(shown.features[frame], face=shown.face[frame]).vertices
        np.testing.assert_allclose(_evaluate(gltf, frame), expected, atol=2e-4)
    weights = _read(gltf, gltf.animations[0].samplers[-1].output).reshape(project.motion.n_frames, len(names))
    assert weights[30, names.index("h_expressions.LbrowDown_h")] > 0.8 and weights[5].max() == 0.0


def test_cli_exports_a_glb_on_a_shipped_avatar(tmp_path):
    source = tmp_path / "sample.signproj"
    save_project(load_project(SAMPLE_PROJECT), source)
    assert cli_main(["export", str(source), "-f", "glb", "-o", str(tmp_path / "out"), "--avatar", DEFAULT_AVATAR]) == 0
    gltf = gl.GLTF2().load(str(tmp_path / "out" / "sample.glb"))
    assert gltf.meshes[0].name == "Hispanic_F_2_Busi" and gltf.animations[0].channels


def test_video_export_films_the_avatar_with_its_face(tmp_path):
    """mp4 export on the shipped avatar: the face channel (a wh-question preset) changes the filmed frames."""
    from tests.test_export_video import read_frames

    project = load_project(SAMPLE_PROJECT)
    project.motion = project.motion.slice(20, 26)
    avatar = load_avatar(DEFAULT_AVATAR)
    plain = read_frames(export_project(project, tmp_path / "plain.mp4", avatar=avatar))[0]
    project.face_keys = tuple(preset_keys("wh-question", 0, 5))
    marked = read_frames(export_project(project, tmp_path / "marked.mp4", avatar=avatar))[0]
    assert len(plain) == len(marked) == 6
    changed = [int((np.abs(a.astype(int) - b.astype(int)).sum(-1) > 60).sum())
               for a, b in zip(plain, marked, strict=True)]
    assert changed[2] > 4 * max(changed[0], 5), "the brows moved in the middle, not at the neutral start"


def test_cli_glb_uses_the_editors_avatar_with_its_face_by_default(tmp_path):
    """Without --avatar, the CLI's GLB is the editor's default avatar, its face channel as animated shape keys
    (read back with pygltflib); --avatar mannequin gives the faceless mannequin."""
    project = load_project(SAMPLE_PROJECT)
    project.face_keys = tuple(preset_keys("wh-question", 10, 40))
    source = tmp_path / "x.v1.signproj"
    save_project(project, source)
    assert cli_main(["export", str(source), "-f", "glb", "-o", str(tmp_path / "out")]) == 0
    gltf = gl.GLTF2().load(str(tmp_path / "out" / "x.v1.glb"))
    assert gltf.meshes[0].name == DEFAULT_AVATAR.partition(":")[2]
    names = gltf.meshes[0].extras["targetNames"]
    weights_channel = next(c for c in gltf.animations[0].channels if c.target.path == "weights")
    weights = _read(gltf, gltf.animations[0].samplers[weights_channel.sampler].output)
    weights = weights.reshape(project.motion.n_frames, len(names))
    assert weights[25].max() > 0.5 and weights[0].max() == 0.0
    assert cli_main(["export", str(source), "-f", "glb", "-o", str(tmp_path / "plain"), "--avatar", "mannequin"]) == 0
    plain = gl.GLTF2().load(str(tmp_path / "plain" / "x.v1.glb"))
    assert not any(p.targets for m in plain.meshes for p in m.primitives)


def test_our_own_glb_opens_again_as_motion(tmp_path):
    """A GLB exported on a human avatar re-opens (it failed with "shoulders coincide"): its animated nodes are TRS
    as glTF requires, and the motion read back follows the original's wrists."""
    from signeditor.app_services import open_document
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.skeleton import JOINT_INDEX

    project = load_project(SAMPLE_PROJECT)
    path = export_project(project, tmp_path / "signing.glb", avatar=load_avatar(DEFAULT_AVATAR))
    gltf = gl.GLTF2().load(str(path))
    animated = {channel.target.node for channel in gltf.animations[0].channels if channel.target.path == "rotation"}
    assert animated and all(gltf.nodes[node].matrix is None for node in animated), "animated nodes must be TRS"

    reopened = open_document(path)
    assert reopened.motion.n_frames == project.motion.n_frames
    original = np.asarray(forward_kinematics(project.motion.features))
    back = np.asarray(forward_kinematics(reopened.motion.features))
    for joint in ("L_Wrist", "R_Wrist"):
        a, b = original[:, JOINT_INDEX[joint]], back[:, JOINT_INDEX[joint]]
        assert np.median(np.linalg.norm(a - b, axis=-1)) < 0.06, "within the avatar's other proportions"
        for axis in range(3):
            if np.ptp(a[:, axis]) > 0.1:  # the axes the wrist really travels along
                assert np.corrcoef(a[:, axis], b[:, axis])[0, 1] > 0.9

    # Files that give rest transforms as matrices (ours did until now; other tools do) open the same way.
    for node in gltf.nodes:
        if node.matrix is None and node.translation is not None:
            node.matrix = _node_matrix(node).T.reshape(-1).tolist()
            node.translation = node.rotation = node.scale = None
    gltf.save(str(tmp_path / "matrices.glb"))
    again = open_document(tmp_path / "matrices.glb")
    np.testing.assert_allclose(again.motion.features, reopened.motion.features, atol=1e-4)
