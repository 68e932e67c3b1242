"""glTF 2.0 / GLB export: the skinned mannequin, its skeleton and the animation.

Blender and three.js play this as a rigged character: the mesh is stored in
its bind pose with four joint influences per vertex, each joint is a node
whose rest translation is the bone offset of the signing skeleton (the same
skeleton forward kinematics, BVH and the viewport use: :mod:`signeditor.core.avatar_rig`), and the animation is
one rotation track (quaternions, linear) per joint. mannequin-x keeps its
skin weights private, so we read them from its documented-by-use internals
and pin the package version range in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib as gl

from signeditor.core import rotations
from signeditor.core.avatar_rig import avatar_rig
from signeditor.core.motion import Motion
from signeditor.io.atomic import write_bytes_atomically

_FLOAT, _USHORT, _UINT = gl.FLOAT, gl.UNSIGNED_SHORT, gl.UNSIGNED_INT


def _mannequin():
    from mannequin import Mannequin

    return Mannequin("wooden", flat_hand_mean=True)


class BufferBuilder:
    """Packs arrays into one binary buffer with 4-byte alignment, one accessor per array."""

    def __init__(self, gltf: gl.GLTF2) -> None:
        self.gltf = gltf
        self.data = bytearray()

    def add(self, array: np.ndarray, component: int, kind: str, target: int | None = None,
            with_bounds: bool = False) -> int:
        raw = np.ascontiguousarray(array).tobytes()
        while len(self.data) % 4:
            self.data.append(0)
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=len(self.data), byteLength=len(raw),
                                                   target=target))
        self.data.extend(raw)
        accessor = gl.Accessor(bufferView=len(self.gltf.bufferViews) - 1, componentType=component,
                               count=int(array.shape[0]), type=kind)
        if with_bounds:
            flat = array.reshape(array.shape[0], -1)
            accessor.min = flat.min(axis=0).tolist()
            accessor.max = flat.max(axis=0).tolist()
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1


def motion_to_gltf(motion: Motion) -> gl.GLTF2:
    model = _mannequin()
    rig = avatar_rig()  # the signing skeleton, as FK, BVH, .pose and the viewport use it
    rest_world = rig.rest_positions
    parents = list(rig.parents)
    names = list(rig.names)
    vertices = np.asarray(model.vertices(model.rest_pose()), dtype=np.float32)
    faces = np.asarray(model.faces, dtype=np.uint32).reshape(-1)
    joints = np.asarray(model._skin_joint_indices, dtype=np.uint16)  # private: see module docstring
    weights = np.asarray(model._skin_weights, dtype=np.float32)
    weights = weights / weights.sum(axis=1, keepdims=True)

    gltf = gl.GLTF2(asset=gl.Asset(generator="SignEditor", version="2.0"), scene=0)
    buf = BufferBuilder(gltf)
    position = buf.add(vertices, _FLOAT, gl.VEC3, gl.ARRAY_BUFFER, with_bounds=True)
    joint_acc = buf.add(joints, _USHORT, gl.VEC4, gl.ARRAY_BUFFER)
    weight_acc = buf.add(weights, _FLOAT, gl.VEC4, gl.ARRAY_BUFFER)
    index_acc = buf.add(faces, _UINT, gl.SCALAR, gl.ELEMENT_ARRAY_BUFFER)
    gltf.materials.append(gl.Material(name="wood", pbrMetallicRoughness=gl.PbrMetallicRoughness(
        baseColorFactor=[0.78, 0.62, 0.45, 1.0], metallicFactor=0.0, roughnessFactor=0.7)))
    gltf.meshes.append(gl.Mesh(name="mannequin", primitives=[gl.Primitive(
        attributes=gl.Attributes(POSITION=position, JOINTS_0=joint_acc, WEIGHTS_0=weight_acc),
        indices=index_acc, material=0)]))

    # Nodes: 0 = mesh, 1.. = joints (same order as the mannequin's joints).
    joint_nodes = [1 + j for j in range(len(names))]
    gltf.nodes.append(gl.Node(name="mannequin", mesh=0, skin=0))
    for j, (name, local) in enumerate(zip(names, rig.local_offsets(), strict=True)):
        children = [1 + c for c, p in enumerate(parents) if p == j]
        gltf.nodes.append(gl.Node(name=name, translation=local.tolist(), children=children or None))
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (len(names), 1, 1))
    inverse_bind[:, :3, 3] = -rest_world
    # glTF matrices are column-major.
    ibm = buf.add(np.ascontiguousarray(np.transpose(inverse_bind, (0, 2, 1))).reshape(len(names), 16), _FLOAT,
                  gl.MAT4)
    gltf.skins.append(gl.Skin(name="skeleton", joints=joint_nodes, skeleton=joint_nodes[0],
                              inverseBindMatrices=ibm))
    root = joint_nodes[0]
    gltf.scenes.append(gl.Scene(name="SignEditor", nodes=[0, root]))

    world = rig.world_transforms(motion.features)[..., :3, :3]
    local = np.empty_like(world)
    for j, p in enumerate(parents):
        local[:, j] = world[:, j] if p < 0 else np.swapaxes(world[:, p], -1, -2) @ world[:, j]
    quats = rotations.matrix_to_quaternion(local).astype(np.float32)  # (T, J, 4) xyzw, as glTF wants
    times = (np.arange(motion.n_frames, dtype=np.float32) / np.float32(motion.fps))
    time_acc = buf.add(times, _FLOAT, gl.SCALAR, with_bounds=True)
    animation = gl.Animation(name="signing")
    for j in range(len(names)):
        out = buf.add(np.ascontiguousarray(quats[:, j]), _FLOAT, gl.VEC4)
        animation.samplers.append(gl.AnimationSampler(input=time_acc, output=out, interpolation="LINEAR"))
        animation.channels.append(gl.AnimationChannel(sampler=len(animation.samplers) - 1,
                                                      target=gl.AnimationChannelTarget(node=joint_nodes[j],
                                                                                       path="rotation")))
    gltf.animations.append(animation)
    gltf.buffers.append(gl.Buffer(byteLength=len(buf.data)))
    gltf.set_binary_blob(bytes(buf.data))
    return gltf


def write_gltf(motion: Motion, path: str | Path) -> None:
    """``.glb`` (one binary file) or ``.gltf`` (JSON with the buffer embedded as a data URI)."""
    save_gltf_document(motion_to_gltf(motion), path)


def save_gltf_document(gltf: gl.GLTF2, path: str | Path) -> None:
    """``.glb`` (one binary file) or ``.gltf`` (JSON with the buffer embedded as a data URI), written atomically."""
    path = Path(path)
    if path.suffix.lower() == ".glb":
        data = b"".join(gltf.save_to_bytes())
    else:
        gltf.convert_buffers(gl.BufferFormat.DATAURI)
        data = gltf.gltf_to_json().encode("utf-8")
    write_bytes_atomically(path, data)


__all__ = ["motion_to_gltf", "save_gltf_document", "write_gltf"]
