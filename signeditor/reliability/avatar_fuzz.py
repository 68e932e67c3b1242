"""glTF/VRM avatars as a fuzz target: the shipped (meshopt-compressed) avatar, damaged in its JSON and its bytes.

Users open avatars of their own, so the avatar reader must load a damaged file sanely or refuse it with a clear
error, like every importer: bad meshopt streams, accessors past their views, joints outside their skin, sparse
indices out of range, node cycles, NaN transforms, unknown required extensions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from signeditor.core.motion import identity_features
from signeditor.paths import RESOURCES_DIR
from signeditor.reliability.fuzz import FuzzCase, FuzzTarget, json_changed

ENTRY = "avatar.glb"
SEED_AVATAR = RESOURCES_DIR / "avatars" / "valid" / "Hispanic_F_2_Busi.glb"


def _load(path: Path) -> object:
    from signeditor.io.avatar_gltf import load_humanoid_avatar

    return load_humanoid_avatar(path)


def avatar_problem(loaded: object) -> str | None:
    """A loaded avatar must pose to finite positions with valid faces and weights."""
    asset, retargeter = loaded
    world = retargeter.world_transforms(identity_features(1))
    if not np.all(np.isfinite(world)):
        return "posed node transforms are not finite"
    if asset.faces.size and asset.faces.max() >= len(asset.vertices):
        return "faces index past the vertices"
    if asset.vertex_slots.size and asset.vertex_slots.max() >= len(asset.slot_nodes):
        return "vertex joints outside the skin"
    return None


def _mutations(doc: dict) -> Iterator[tuple[str, dict]]:
    def changed(path: list[object], value: object) -> dict:
        return json_changed(doc, path, value)

    compressed = next(i for i, v in enumerate(doc["bufferViews"]) if "extensions" in v)
    ext = ["bufferViews", compressed, "extensions", "EXT_meshopt_compression"]
    position = doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    skin_node = next(i for i, n in enumerate(doc["nodes"]) if "skin" in n)
    yield "meshopt count doubled", changed([*ext, "count"], doc["bufferViews"][compressed]["extensions"][
        "EXT_meshopt_compression"]["count"] * 2)
    yield "meshopt byteLength 1", changed([*ext, "byteLength"], 1)
    yield "meshopt mode unknown", changed([*ext, "mode"], "STRIPS")
    yield "meshopt filter unknown", changed([*ext, "filter"], "WAVELET")
    yield "meshopt byteStride 0", changed([*ext, "byteStride"], 0)
    for value in (0, 10**9, -1):
        yield f"position count {value}", changed(["accessors", position, "count"], value)
    yield "position componentType 5130", changed(["accessors", position, "componentType"], 5130)
    yield "skin joint out of range", changed(["skins", 0, "joints", 0], 10**6)
    yield "skin without joints", changed(["skins", 0, "joints"], [])
    yield "skin index out of range", changed(["nodes", skin_node, "skin"], 99)
    yield "node is its own child", changed(["nodes", 1, "children"], [1])
    yield "node rotation NaN", changed(["nodes", 1, "rotation"], [float("nan")] * 4)
    yield "node matrix of 3 numbers", changed(["nodes", 1, "matrix"], [1, 0, 0])
    yield "bone names removed", {**doc, "nodes": [{k: v for k, v in n.items() if k != "name"} for n in doc["nodes"]]}
    yield "required extension unknown", {**doc, "extensionsRequired": ["KHR_draco_mesh_compression"]}
    yield "texture source out of range", changed(["textures", 0, "extensions", "EXT_texture_webp", "source"], 50)
    yield "targetNames not a list", changed(["meshes", 0, "extras", "targetNames"], 7)
    yield "no meshes", {**doc, "meshes": [], "nodes": [{k: v for k, v in n.items() if k != "mesh"}
                                                       for n in doc["nodes"]]}


def avatar_target(heavy: bool = False) -> FuzzTarget:
    from signeditor.reliability.fuzz_targets import _glb_join, _glb_split

    source = SEED_AVATAR

    def seeds() -> list[FuzzCase]:
        return [FuzzCase("avatar", "the shipped avatar", {ENTRY: source.read_bytes()}, ENTRY)]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        doc, blob = _glb_split(seed.files[ENTRY])
        for description, new_doc in _mutations(doc):
            yield FuzzCase("avatar", description, {ENTRY: _glb_join(new_doc, blob)}, ENTRY)
        yield FuzzCase("avatar", "binary chunk cut in half", {ENTRY: _glb_join(doc, blob[: len(blob) // 2])}, ENTRY)

    return FuzzTarget("avatar", seeds, _load, avatar_problem, structured)
