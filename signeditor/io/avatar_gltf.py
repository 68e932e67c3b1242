"""Read a skinned glTF/GLB/VRM avatar: node hierarchy, skinned meshes, morph targets, base colour textures.

Avatars come compressed (the VALID library: ``EXT_meshopt_compression``, ``KHR_mesh_quantization``,
``EXT_texture_webp``), so this reader decodes what they need with wheels only: meshopt's decoder (the
``meshopt`` wheel) for compressed buffer views, numpy for quantized and sparse accessors, Pillow for WebP,
PNG and JPEG. Everything is flattened into one triangle list whose vertices carry skin slots (a node and its
inverse bind matrix), so the renderer skins every primitive of every skin with one sparse product.
"""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.avatar_retarget import AvatarRetargeter, find_humanoid_bones, topological_order
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.gltf_reader import GltfReader, split_glb

_SUPPORTED = {"EXT_meshopt_compression", "KHR_mesh_quantization", "EXT_texture_webp", "KHR_texture_transform",
              "KHR_materials_unlit", "KHR_materials_emissive_strength", "VRMC_materials_mtoon"}
#: Largest side of a texture kept for the viewport (llvmpipe samples every fragment on the CPU).
MAX_TEXTURE_SIZE = 1024


@dataclass
class AvatarAsset:
    """A glTF avatar flattened for skinning: all primitives in one vertex list (rest, in the file's frame)."""

    path: Path
    node_names: list[str]
    parents: np.ndarray  # (N,) parent node index, -1 for roots
    rest_local: np.ndarray  # (N, 4, 4) local rest transforms
    vertices: np.ndarray  # (V, 3) float32 bind-space positions
    normals: np.ndarray  # (V, 3) float32
    uv: np.ndarray  # (V, 2) float32, into ``texture`` (an atlas of the materials' base colours)
    faces: np.ndarray  # (F, 3) uint32
    slot_nodes: np.ndarray  # (K,) node of each skin slot
    slot_inverse_bind: np.ndarray  # (K, 4, 4)
    vertex_slots: np.ndarray  # (V, 4) int slot indices
    vertex_weights: np.ndarray  # (V, 4) float32
    texture: np.ndarray  # (H, W, 4) uint8 atlas
    morph_names: list[str] = field(default_factory=list)  # one per morph (mesh-qualified duplicates merged)
    morph_deltas: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (vertex ids, (n, 3) deltas)
    mesh_morphs: dict[int, list[int]] = field(default_factory=dict)  # glTF mesh -> its morph target ids
    node_meshes: dict[int, int] = field(default_factory=dict)  # node -> its glTF mesh (VRM 1.0 binds name nodes)
    extensions: dict = field(default_factory=dict)  # the file's top-level extensions (VRM humanoid, expressions)
    notes: list[str] = field(default_factory=list)
    double_sided: bool = False  # some opaque material asks for both sides to be drawn

    def rest_world(self) -> np.ndarray:
        """World rest transforms (N, 4, 4)."""
        world = np.empty_like(self.rest_local)
        for node in topological_order(self.parents):
            parent = self.parents[node]
            world[node] = self.rest_local[node] if parent < 0 else world[parent] @ self.rest_local[node]
        return world


def _node_matrix(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
    matrix = np.eye(4)
    rotation = rotations.quaternion_to_matrix(np.asarray(node.get("rotation", [0, 0, 0, 1]), np.float64))
    matrix[:3, :3] = rotation * np.asarray(node.get("scale", [1, 1, 1]), np.float64)[None, :]
    matrix[:3, 3] = node.get("translation", [0, 0, 0])
    return matrix


def _decode_image(reader: GltfReader, index: int) -> np.ndarray:
    from PIL import Image

    spec = reader.doc["images"][index]
    if "bufferView" in spec:
        data = reader.view(spec["bufferView"])
    elif spec.get("uri", "").startswith("data:"):
        data = base64.b64decode(spec["uri"].split(",", 1)[1])
    else:
        data = read_file_bytes(reader.path.parent / spec["uri"])
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGBA")
        image.thumbnail((MAX_TEXTURE_SIZE, MAX_TEXTURE_SIZE))
        return np.asarray(image, dtype=np.uint8)


def _material_tiles(reader: GltfReader, notes: list[str]) -> list[np.ndarray]:
    """One RGBA tile per material: its base colour texture times its base colour factor (a flat colour if none)."""
    tiles = []
    images: dict[int, np.ndarray | None] = {}
    for material in reader.doc.get("materials", []):
        pbr = material.get("pbrMetallicRoughness", {})
        factor = np.asarray(pbr.get("baseColorFactor", [1, 1, 1, 1]), np.float64)
        tile = None
        texture_ref = pbr.get("baseColorTexture")
        if texture_ref is not None:
            texture = reader.doc["textures"][texture_ref["index"]]
            source = texture.get("extensions", {}).get("EXT_texture_webp", {}).get("source", texture.get("source"))
            if source is not None:
                if source not in images:
                    try:
                        images[source] = _decode_image(reader, source)
                    except Exception as exc:  # Pillow raises many types for images it cannot read
                        notes.append(f"texture {source} not decoded ({exc}); flat colour used")
                        images[source] = None
                tile = images[source]
        if tile is None:
            tile = np.full((4, 4, 4), 255, np.uint8)
        tiles.append(np.clip(tile * factor, 0, 255).astype(np.uint8))
    return tiles or [np.full((4, 4, 4), 200, np.uint8)]


def _atlas(tiles: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """Tiles stacked side by side at one height; each tile's (u0, v0, du, dv) in the atlas."""
    height = max(t.shape[0] for t in tiles)
    from PIL import Image

    resized = [t if t.shape[0] == height else np.asarray(Image.fromarray(t).resize(
        (max(1, round(t.shape[1] * height / t.shape[0])), height))) for t in tiles]
    width = sum(t.shape[1] for t in resized)
    atlas = np.concatenate(resized, axis=1)
    boxes, x = [], 0
    for t in resized:
        boxes.append((x / width, 0.0, t.shape[1] / width, 1.0))
        x += t.shape[1]
    return np.ascontiguousarray(atlas), boxes


def load_avatar_asset(path: str | Path) -> AvatarAsset:
    """Read an avatar file; raises FileFormatError naming the file and the problem."""
    path = Path(path)
    doc, binary = split_glb(path, read_file_bytes(path))
    try:
        return _build(GltfReader(path, doc, binary))
    except FileFormatError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, struct.error) as exc:
        raise FileFormatError(path, f"damaged or unsupported glTF avatar ({type(exc).__name__}: {exc})") from exc


def load_humanoid_avatar(path: str | Path) -> tuple[AvatarAsset, AvatarRetargeter]:
    """An avatar file and its retargeter: FileFormatError (naming the file) for files that cannot be driven.

    Missing bones are not an error: they follow their parent and are named in ``asset.notes``.
    """
    path = Path(path)
    asset = load_avatar_asset(path)
    rest = asset.rest_world()
    arrays = (rest, asset.vertices, asset.normals, asset.uv, asset.vertex_weights, asset.slot_inverse_bind,
              *(deltas for _, deltas in asset.morph_deltas))
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise FileFormatError(path, "non-finite node transforms, vertices, weights or morph targets")
    bones = find_humanoid_bones(asset.node_names, asset.extensions)
    try:
        retargeter = AvatarRetargeter(asset.parents, rest, bones)
    except ValueError as exc:
        raise FileFormatError(path, str(exc)) from exc
    asset.notes.extend(bones.notes)
    return asset, retargeter


def _build(reader: GltfReader) -> AvatarAsset:
    doc = reader.doc
    unsupported = sorted(set(doc.get("extensionsRequired", [])) - _SUPPORTED)
    if unsupported:
        raise reader.fail(f"needs glTF extensions this reader does not support: {', '.join(unsupported)}")
    nodes = doc.get("nodes", [])
    if not nodes:
        raise reader.fail("no nodes in the file")
    parents = np.full(len(nodes), -1, dtype=np.int64)
    for i, node in enumerate(nodes):
        for child in node.get("children", []):
            if not isinstance(child, int) or not 0 <= child < len(nodes) or parents[child] >= 0:
                raise reader.fail(f"node {i} lists child {child!r}: not a node, or a node with two parents")
            parents[child] = i
    for start in range(len(nodes)):  # every chain of parents must reach a root
        node, steps = start, 0
        while node >= 0 and steps <= len(nodes):
            node, steps = parents[node], steps + 1
        if node >= 0:
            raise reader.fail("the node hierarchy has a cycle")
    rest_local = np.stack([_node_matrix(n) for n in nodes])
    notes: list[str] = []
    tiles = _material_tiles(reader, notes)
    texture, boxes = _atlas(tiles)
    slots: dict[tuple[int, bytes], int] = {}
    slot_nodes: list[int] = []
    slot_ibm: list[np.ndarray] = []

    def slot(node: int, ibm: np.ndarray) -> int:
        key = (node, np.round(ibm, 6).tobytes())
        if key not in slots:
            slots[key] = len(slot_nodes)
            slot_nodes.append(node)
            slot_ibm.append(ibm)
        return slots[key]

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("v", "n", "uv", "f", "s", "w")}
    morph_names: list[str] = []
    morph_index: dict[str, int] = {}
    morph_parts: list[list[tuple[np.ndarray, np.ndarray]]] = []
    mesh_morphs: dict[int, list[int]] = {}
    base = 0
    for node_index, node in enumerate(nodes):
        if "mesh" not in node:
            continue
        mesh = doc["meshes"][node["mesh"]]
        target_names = list((mesh.get("extras") or {}).get("targetNames", []))
        skin = doc["skins"][node["skin"]] if "skin" in node else None
        if skin is not None:
            n_joints = len(skin["joints"])
            ibms = reader.accessor(skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1) \
                if "inverseBindMatrices" in skin else np.tile(np.eye(4), (n_joints, 1, 1))
            joint_slots = np.array([slot(j, ibms[k]) for k, j in enumerate(skin["joints"])], dtype=np.int64)
        else:  # a rigid mesh follows its node: one slot, vertices in the node's local frame
            joint_slots = np.array([slot(node_index, np.eye(4))], dtype=np.int64)
        for primitive in mesh["primitives"]:
            if primitive.get("mode", 4) != 4:
                continue
            names = list((primitive.get("extras") or {}).get("targetNames", [])) or target_names
            attributes = primitive["attributes"]
            positions = reader.accessor(attributes["POSITION"])
            count = len(positions)
            normals = reader.accessor(attributes["NORMAL"]) if "NORMAL" in attributes else np.zeros((count, 3))
            uv = reader.accessor(attributes["TEXCOORD_0"]) if "TEXCOORD_0" in attributes else np.zeros((count, 2))
            if skin is not None and "JOINTS_0" in attributes:
                joints = reader.accessor(attributes["JOINTS_0"]).astype(np.int64)
                weights = reader.accessor(attributes["WEIGHTS_0"])
                if joints.max(initial=0) >= n_joints:
                    raise reader.fail(f"mesh {mesh.get('name')!r} uses joint {joints.max()} of a {n_joints}-joint skin")
                vertex_slots = joint_slots[joints]
            else:
                vertex_slots = np.zeros((count, 4), np.int64) + (joint_slots[0] if skin is None else 0)
                weights = np.tile([1.0, 0, 0, 0], (count, 1))
                if skin is not None:  # skinned node without weights: rigid on its node
                    vertex_slots[:] = slot(node_index, np.eye(4))
            weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
            if "indices" in primitive:
                faces = reader.accessor(primitive["indices"]).astype(np.int64).reshape(-1, 3)
            else:
                faces = np.arange(count - count % 3).reshape(-1, 3)
            if faces.size and faces.max() >= count:
                raise reader.fail(f"mesh {mesh.get('name')!r} has indices past its {count} vertices")
            u0, v0, du, dv = boxes[primitive.get("material", 0)]  # no materials: one default tile
            transform = _uv_transform(doc, primitive.get("material"))
            uv = transform(uv)
            uv = np.stack([u0 + np.mod(uv[:, 0], 1.0) * du, v0 + np.mod(uv[:, 1], 1.0) * dv], axis=1)
            parts["v"].append(positions)
            parts["n"].append(normals)
            parts["uv"].append(uv)
            parts["f"].append(faces + base)
            parts["s"].append(vertex_slots)
            parts["w"].append(weights)
            ids = []
            for k, target in enumerate(primitive.get("targets", [])):
                name = names[k] if k < len(names) else f"{mesh.get('name', 'mesh')}.{k}"
                if name not in morph_index:
                    morph_index[name] = len(morph_names)
                    morph_names.append(name)
                    morph_parts.append([])
                ids.append(morph_index[name])
                if "POSITION" in target:
                    delta = reader.accessor(target["POSITION"])
                    moved = np.flatnonzero(np.abs(delta).max(axis=1) > 1e-9)
                    morph_parts[morph_index[name]].append((moved + base, delta[moved].astype(np.float32)))
            mesh_morphs.setdefault(node["mesh"], ids)
            base += count
    if base == 0:
        raise reader.fail("no triangle meshes in the file")
    morph_deltas = []
    for pieces in morph_parts:
        ids = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
        deltas = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros((0, 3), np.float32)
        morph_deltas.append((ids, deltas))
    return AvatarAsset(
        path=reader.path, node_names=[n.get("name") or f"node{i}" for i, n in enumerate(nodes)], parents=parents,
        rest_local=rest_local, vertices=np.concatenate(parts["v"]).astype(np.float32),
        normals=np.concatenate(parts["n"]).astype(np.float32), uv=np.concatenate(parts["uv"]).astype(np.float32),
        faces=np.concatenate(parts["f"]).astype(np.uint32), slot_nodes=np.asarray(slot_nodes, np.int64),
        slot_inverse_bind=np.stack(slot_ibm), vertex_slots=np.concatenate(parts["s"]),
        vertex_weights=np.concatenate(parts["w"]).astype(np.float32), texture=texture, morph_names=morph_names,
        morph_deltas=morph_deltas, mesh_morphs=mesh_morphs,
        node_meshes={i: n["mesh"] for i, n in enumerate(nodes) if "mesh" in n}, extensions=doc.get("extensions", {}),
        notes=notes,
        double_sided=any(m.get("doubleSided") and m.get("alphaMode", "OPAQUE") == "OPAQUE"
                         for m in doc.get("materials", [])))


def _uv_transform(doc: dict, material: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """KHR_texture_transform of the material's base colour texture (offset, rotation, scale), or identity."""
    if material is None:
        return lambda uv: uv
    ref = doc["materials"][material].get("pbrMetallicRoughness", {}).get("baseColorTexture", {})
    spec = ref.get("extensions", {}).get("KHR_texture_transform")
    if not spec:
        return lambda uv: uv
    offset = np.asarray(spec.get("offset", [0, 0]), np.float64)
    scale = np.asarray(spec.get("scale", [1, 1]), np.float64)
    angle = float(spec.get("rotation", 0.0))
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, s], [-s, c]])
    return lambda uv: (uv * scale) @ rotation.T + offset
