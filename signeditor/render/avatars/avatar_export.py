"""glTF/GLB export of a motion on a glTF avatar: its skeleton animated, its face morphs as animated weights.

Blender imports the morph targets as shape keys and plays the ``weights`` channel as their animation; three.js
and other players do the same. The file holds one skinned mesh in the avatar's rest pose (all of its primitives
merged, in world space, one skin with the usual inverse bind matrices), the face morphs the avatar's face rig
drives (as sparse targets), the texture atlas, the avatar's node hierarchy under a root that turns it to face
+z, one rotation track per moving node and one weights track.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pygltflib as gl
import scipy.sparse

from signeditor.core import rotations
from signeditor.core.motion import Motion
from signeditor.io.gltf_export import BufferBuilder, save_gltf_document
from signeditor.render.avatars.face_rig import eye_gaze
from signeditor.render.avatars.gltf_avatar import GltfAvatar

_FLOAT, _USHORT, _UINT = gl.FLOAT, gl.UNSIGNED_SHORT, gl.UNSIGNED_INT


def _rest_mesh(avatar: GltfAvatar) -> tuple[np.ndarray, ...]:
    """World rest positions, normals, per-vertex joint indices into the unique skin nodes, their weights, those
    nodes, and each vertex's rest skinning matrix (3x3, to carry morph deltas into the same space)."""
    asset = avatar.asset
    skin = asset.rest_world()[asset.slot_nodes] @ asset.slot_inverse_bind
    blended = np.einsum("vk,vkab->vab", asset.vertex_weights, skin[asset.vertex_slots][:, :, :3, :])
    positions = np.einsum("vab,vb->va", blended[:, :, :3], asset.vertices) + blended[:, :, 3]
    normals = np.einsum("vab,vb->va", blended[:, :, :3], asset.normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    nodes, slot_to_node = np.unique(asset.slot_nodes, return_inverse=True)
    n_vertices = len(positions)
    per_node = scipy.sparse.csr_matrix(
        (asset.vertex_weights.reshape(-1), (np.repeat(np.arange(n_vertices), 4),
                                            slot_to_node[asset.vertex_slots].reshape(-1))),
        shape=(n_vertices, len(nodes)))
    per_node.sum_duplicates()
    dense = per_node.toarray()
    joints = np.argsort(-dense, axis=1)[:, :4]
    weights = np.take_along_axis(dense, joints, axis=1)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
    morph_linear = blended[:, :, :3]
    return positions, normals, joints, weights, nodes, morph_linear


def avatar_motion_to_gltf(avatar: GltfAvatar, motion: Motion, face: np.ndarray | None) -> gl.GLTF2:
    """The glTF document; ``face`` (T, FACE_DIM) animates the morphs (None: neutral face)."""
    from PIL import Image

    asset = avatar.asset
    positions, normals, joints, weights, skin_nodes, morph_linear = _rest_mesh(avatar)
    gltf = gl.GLTF2(asset=gl.Asset(generator="SignEditor", version="2.0"), scene=0)
    buf = BufferBuilder(gltf)
    attributes = gl.Attributes(
        POSITION=buf.add(positions.astype(np.float32), _FLOAT, gl.VEC3, gl.ARRAY_BUFFER, with_bounds=True),
        NORMAL=buf.add(normals.astype(np.float32), _FLOAT, gl.VEC3, gl.ARRAY_BUFFER),
        TEXCOORD_0=buf.add(asset.uv.astype(np.float32), _FLOAT, gl.VEC2, gl.ARRAY_BUFFER),
        JOINTS_0=buf.add(joints.astype(np.uint16), _USHORT, gl.VEC4, gl.ARRAY_BUFFER),
        WEIGHTS_0=buf.add(weights.astype(np.float32), _FLOAT, gl.VEC4, gl.ARRAY_BUFFER))
    indices = buf.add(asset.faces.reshape(-1).astype(np.uint32), _UINT, gl.SCALAR, gl.ELEMENT_ARRAY_BUFFER)
    driven = [int(k) for k in avatar.face_rig.driven]
    targets = []
    for morph in driven:
        ids, deltas = asset.morph_deltas[morph]
        world = np.einsum("vab,vb->va", morph_linear[ids], deltas).astype(np.float32)
        targets.append({"POSITION": _sparse_target(buf, len(positions), ids, world)})
    png = io.BytesIO()
    Image.fromarray(asset.texture).save(png, format="PNG")
    image_view = len(gltf.bufferViews)
    buf.add(np.frombuffer(png.getvalue(), np.uint8), gl.UNSIGNED_BYTE, gl.SCALAR)
    gltf.accessors.pop()  # the image is read through its buffer view, not an accessor
    gltf.images.append(gl.Image(bufferView=image_view, mimeType="image/png", name="atlas"))
    gltf.samplers.append(gl.Sampler(magFilter=gl.LINEAR, minFilter=gl.LINEAR))
    gltf.textures.append(gl.Texture(sampler=0, source=0))
    gltf.materials.append(gl.Material(name="avatar", doubleSided=not avatar.cull_back_faces,
                                      pbrMetallicRoughness=gl.PbrMetallicRoughness(
                                          baseColorTexture=gl.TextureInfo(index=0), metallicFactor=0.0,
                                          roughnessFactor=0.8)))
    gltf.meshes.append(gl.Mesh(name=avatar.name, primitives=[gl.Primitive(
        attributes=attributes, indices=indices, material=0, targets=targets or None)],
        weights=[0.0] * len(targets) or None,
        extras={"targetNames": [asset.morph_names[k] for k in driven]} if driven else None))

    # Nodes: the avatar's (same indices, meshes dropped), then the skinned mesh, then the root turning it to +z.
    n_nodes = len(asset.node_names)
    mesh_node, root_node = n_nodes, n_nodes + 1
    for node, name in enumerate(asset.node_names):
        children = [int(c) for c in np.flatnonzero(asset.parents == node)]
        translation, rotation, scale = _trs(asset.rest_local[node])
        gltf.nodes.append(gl.Node(name=name, translation=translation, rotation=rotation, scale=scale,
                                  children=children or None))
    ibm = np.linalg.inv(asset.rest_world()[skin_nodes]).astype(np.float32)
    gltf.skins.append(gl.Skin(name="avatar", joints=[int(n) for n in skin_nodes], inverseBindMatrices=buf.add(
        np.ascontiguousarray(ibm.transpose(0, 2, 1)).reshape(len(skin_nodes), 16), _FLOAT, gl.MAT4)))
    gltf.nodes.append(gl.Node(name=avatar.name, mesh=0, skin=0))
    roots = [int(n) for n in np.flatnonzero(asset.parents < 0)]
    gltf.nodes.append(gl.Node(name="SignEditor", matrix=avatar.retargeter.align.T.reshape(-1).tolist(),
                              children=roots))
    gltf.scenes.append(gl.Scene(name="SignEditor", nodes=[root_node, mesh_node]))
    _add_animation(gltf, buf, avatar, motion, face, driven, mesh_node)
    gltf.buffers.append(gl.Buffer(byteLength=len(buf.data)))
    gltf.set_binary_blob(bytes(buf.data))
    return gltf


def _trs(matrix: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """A node's rest transform as translation, rotation (x, y, z, w) and scale: glTF animates only TRS nodes (a
    node with a ``matrix`` must not be animated), and readers such as our own rig import apply tracks to TRS."""
    scale = np.linalg.norm(matrix[:3, :3], axis=0)
    u, _, vt = np.linalg.svd(matrix[:3, :3] / np.maximum(scale, 1e-12)[None, :])
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:  # a mirrored node: the mirror goes into the scale
        rotation, scale = rotation * np.array([1.0, 1.0, -1.0])[None, :], scale * np.array([1.0, 1.0, -1.0])
    quaternion = rotations.matrix_to_quaternion(rotation[None])[0]
    return matrix[:3, 3].tolist(), [float(v) for v in quaternion], scale.tolist()


def _sparse_target(buf: BufferBuilder, count: int, ids: np.ndarray, deltas: np.ndarray) -> int:
    """A morph target's positions as a sparse accessor (only the moved vertices are stored)."""
    gltf = buf.gltf
    index_acc = buf.add(ids.astype(np.uint32), _UINT, gl.SCALAR)
    value_acc = buf.add(deltas, _FLOAT, gl.VEC3)
    index_view, value_view = gltf.accessors[index_acc].bufferView, gltf.accessors[value_acc].bufferView
    del gltf.accessors[value_acc], gltf.accessors[index_acc]
    bounds = deltas if len(deltas) else np.zeros((1, 3), np.float32)
    gltf.accessors.append(gl.Accessor(componentType=_FLOAT, count=count, type=gl.VEC3,
                                      min=np.minimum(bounds.min(axis=0), 0).tolist(),
                                      max=np.maximum(bounds.max(axis=0), 0).tolist(),
                                      sparse=gl.Sparse(count=len(ids), indices=gl.AccessorSparseIndices(
                                          bufferView=index_view, componentType=_UINT),
                                          values=gl.AccessorSparseValues(bufferView=value_view))))
    return len(gltf.accessors) - 1


def _add_animation(gltf: gl.GLTF2, buf: BufferBuilder, avatar: GltfAvatar, motion: Motion,
                   face: np.ndarray | None, driven: list[int], mesh_node: int) -> None:
    asset = avatar.asset
    gaze = eye_gaze(face)  # the eye bones turn with the face channel's gaze
    world = avatar.retargeter.world_transforms(motion.features, gaze)[..., :3, :3]  # (T, N, 3, 3), aligned frame
    parent_world = np.where((asset.parents < 0)[None, :, None, None], avatar.retargeter.align[None, None, :3, :3],
                            world[:, np.maximum(asset.parents, 0)])
    local = np.linalg.solve(parent_world, world)
    scale = np.linalg.norm(asset.rest_local[:, :3, :3], axis=1)  # (N, 3) column norms: the local scale
    u, _, vt = np.linalg.svd(local / scale[None, :, None, :])
    quats = rotations.matrix_to_quaternion(u @ vt).astype(np.float32)
    times = np.arange(motion.n_frames, dtype=np.float32) / np.float32(motion.fps)
    time_acc = buf.add(times, _FLOAT, gl.SCALAR, with_bounds=True)
    animation = gl.Animation(name="signing")

    def channel(output: int, node: int, path: str) -> None:
        animation.samplers.append(gl.AnimationSampler(input=time_acc, output=output, interpolation="LINEAR"))
        animation.channels.append(gl.AnimationChannel(sampler=len(animation.samplers) - 1,
                                                      target=gl.AnimationChannelTarget(node=node, path=path)))

    moving = np.flatnonzero(np.abs(quats - quats[:1]).max(axis=(0, 2)) > 1e-6) if len(quats) > 1 else []
    for node in sorted({*moving, *np.flatnonzero(avatar.retargeter.driver >= 0)}):
        channel(buf.add(np.ascontiguousarray(quats[:, node]), _FLOAT, gl.VEC4), int(node), "rotation")
    if driven:
        frames = np.zeros((motion.n_frames, len(driven)), np.float32)
        if face is not None:
            position = {morph: k for k, morph in enumerate(driven)}
            for t in range(motion.n_frames):
                for morph, weight in avatar.face_rig.weights(face[t]).items():
                    frames[t, position[morph]] = weight
        channel(buf.add(frames.reshape(-1), _FLOAT, gl.SCALAR), mesh_node, "weights")
    gltf.animations.append(animation)


def write_avatar_gltf(avatar: GltfAvatar, motion: Motion, face: np.ndarray | None, path: str | Path) -> None:
    """``.glb`` (one binary file) or ``.gltf`` (JSON, buffer as a data URI), written atomically."""
    save_gltf_document(avatar_motion_to_gltf(avatar, motion, face), path)
