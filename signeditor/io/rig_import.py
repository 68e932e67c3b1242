"""Import animation from other rigs (glTF/GLB, BVH; Mixamo- or SMPL-X-named) onto the signing skeleton.

Rigs differ in rest pose, bone axes and proportions, so copying local
rotations would twist limbs. Instead we play the source rig forward, read
its joints' world positions as keypoints and fit our skeleton to them with
the same IK that imports video keypoints: one retargeting path for every
rig whose joints we can name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.avatar_retarget import canonical_name
from signeditor.core.ik import FINGER_POINTS, HAND_COMPONENT, POSE, SIDE_WORD, fit_motion
from signeditor.core.motion import Motion
from signeditor.io.errors import FileFormatError
from signeditor.io.pose_reader import keypoints_from_arrays
from signeditor.io.validation import repair_degenerate_rotations

IMPORT_FPS = 25.0
_MIXAMO_FINGER = {"Index": "Index", "Middle": "Middle", "Pinky": "Pinky", "Ring": "Ring", "Thumb": "Thumb"}
#: How far past the last finger joint the tip lies, as a fraction of the last bone (when the rig has no tip joint).
_TIP_EXTRAPOLATION = 0.85


def _keypoint_aliases() -> dict[str, list[str]]:
    """Keypoint name -> source joint names (canonical) that may carry it, Mixamo first, then SMPL-X."""
    aliases: dict[str, list[str]] = {}
    for side, word in SIDE_WORD.items():
        lr = "left" if side == "L" else "right"
        aliases[f"{POSE}.{word}_SHOULDER"] = [f"{lr}arm", f"{side.lower()}_shoulder"]
        aliases[f"{POSE}.{word}_ELBOW"] = [f"{lr}forearm", f"{side.lower()}_elbow"]
        aliases[f"{POSE}.{word}_WRIST"] = [f"{lr}hand", f"{side.lower()}_wrist"]
        hand = HAND_COMPONENT[side]
        aliases[f"{hand}.WRIST"] = aliases[f"{POSE}.{word}_WRIST"]
        for finger, points in FINGER_POINTS.items():
            mixamo = f"{lr}hand{_MIXAMO_FINGER[finger].lower()}"
            smplx = f"{side.lower()}_{finger.lower()}"
            for level, point in enumerate(points):
                aliases[f"{hand}.{point}"] = [f"{mixamo}{level + 1}", f"{smplx}{level + 1}" if level < 3 else
                                              f"{smplx}tip"]
    return aliases


def keypoints_from_rig(names: list[str], positions: np.ndarray, fps: float, path: Path) -> object:
    """Map rig joint world positions (T, J, 3; y up, facing +z) to named keypoints and normalise them."""
    index = {canonical_name(n): i for i, n in enumerate(names)}
    out_names: list[str] = []
    columns: list[np.ndarray] = []
    for keypoint, candidates in _keypoint_aliases().items():
        found = next((index[c] for c in candidates if c in index), None)
        if found is not None:
            out_names.append(keypoint)
            columns.append(positions[:, found])
    name_pos = dict(zip(out_names, columns, strict=True))
    # Rigs without fingertip joints: extend the last phalanx.
    for side in "LR":
        hand = HAND_COMPONENT[side]
        for points in FINGER_POINTS.values():
            tip, dip, pip = (f"{hand}.{p}" for p in (points[3], points[2], points[1]))
            if tip not in name_pos and dip in name_pos and pip in name_pos:
                name_pos[tip] = name_pos[dip] + _TIP_EXTRAPOLATION * (name_pos[dip] - name_pos[pip])
    needed = [f"{POSE}.LEFT_SHOULDER", f"{POSE}.RIGHT_SHOULDER", f"{POSE}.LEFT_WRIST", f"{POSE}.RIGHT_WRIST"]
    if not all(n in name_pos for n in needed):
        raise FileFormatError(path, "rig has no recognisable arms (expected Mixamo or SMPL-X joint names)")
    keypoint_names = tuple(name_pos)
    stacked = np.stack([name_pos[n] for n in keypoint_names], axis=1)
    observed = np.ones(stacked.shape[:2], dtype=bool)
    # A rig's joints are exact 3D: nothing to lift.
    return keypoints_from_arrays(keypoint_names, stacked, observed, fps, path, lift=False)


def _mixamo_parents() -> dict[str, str]:
    """The standard Mixamo hierarchy (canonical names), for files that lost their node hierarchy."""
    parents = {"spine": "hips", "spine1": "spine", "spine2": "spine1", "neck": "spine2", "head": "neck"}
    for lr in ("left", "right"):
        parents |= {f"{lr}shoulder": "spine2", f"{lr}arm": f"{lr}shoulder", f"{lr}forearm": f"{lr}arm",
                    f"{lr}hand": f"{lr}forearm", f"{lr}upleg": "hips", f"{lr}leg": f"{lr}upleg",
                    f"{lr}foot": f"{lr}leg", f"{lr}toebase": f"{lr}foot"}
        for finger in _MIXAMO_FINGER.values():
            base = f"{lr}hand{finger.lower()}"
            parents |= {f"{base}1": f"{lr}hand", f"{base}2": f"{base}1", f"{base}3": f"{base}2", f"{base}4": f"{base}3"}
    return parents


# --- glTF -----------------------------------------------------------------------------------------------


def _sample(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    return np.stack([np.interp(at, times, values[:, k]) for k in range(values.shape[1])], axis=1)


def _set_from_matrix(trs: dict[str, np.ndarray], node: int, values: list[float], path: Path) -> None:
    """Split a node's column-major 4x4 ``matrix`` into its translation, rotation and scale (in place).

    Files that give rest transforms as matrices (ours did) otherwise read as every joint at the origin:
    "shoulders coincide".
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.shape != (16,) or not np.all(np.isfinite(matrix)):
        raise FileFormatError(path, f"node {node} has a malformed matrix")
    matrix = matrix.reshape(4, 4).T
    scale = np.linalg.norm(matrix[:3, :3], axis=0)
    if np.any(scale < 1e-12):
        raise FileFormatError(path, f"node {node}'s matrix collapses an axis (zero scale)")
    u, _, vt = np.linalg.svd(matrix[:3, :3] / scale[None, :])
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:  # a mirroring matrix: the mirror goes into the scale
        rotation, scale = rotation * np.array([1.0, 1.0, -1.0])[None, :], scale * np.array([1.0, 1.0, -1.0])
    trs["translation"][node] = matrix[:3, 3]
    trs["rotation"][node] = rotations.matrix_to_quaternion(rotation[None])[0]
    trs["scale"][node] = scale


def read_gltf_rig(path: str | Path) -> Motion:
    """First animation of a glTF/GLB file, retargeted; sampled at 25 fps."""
    from signeditor.io.gltf_reader import read_gltf

    path = Path(path)
    reader = read_gltf(path)
    nodes = reader.doc.get("nodes") or []
    if not nodes:
        raise FileFormatError(path, "no nodes in the file")
    if not reader.doc.get("animations"):
        raise FileFormatError(path, "the file has no animation")
    n_nodes = len(nodes)
    try:
        trs = {"translation": np.array([n.get("translation") or [0.0, 0.0, 0.0] for n in nodes], dtype=np.float64),
               "rotation": np.array([n.get("rotation") or [0.0, 0.0, 0.0, 1.0] for n in nodes], dtype=np.float64),
               "scale": np.array([n.get("scale") or [1.0, 1.0, 1.0] for n in nodes], dtype=np.float64)}
    except (TypeError, ValueError, AttributeError) as exc:
        raise FileFormatError(path, f"malformed node transforms ({exc})") from exc
    if trs["translation"].shape != (n_nodes, 3) or trs["rotation"].shape != (n_nodes, 4) or \
            trs["scale"].shape != (n_nodes, 3) or not all(np.all(np.isfinite(v)) for v in trs.values()):
        raise FileFormatError(path, "node translations, rotations or scales have the wrong size or are not finite")
    for node, entry in enumerate(nodes):
        if entry.get("matrix") is not None:  # a node given by matrix: its TRS, so animation tracks apply to it
            _set_from_matrix(trs, node, entry["matrix"], path)
    animation = reader.doc["animations"][0]
    try:
        tracks = []
        end = 0.0
        for channel in animation["channels"]:
            target = channel["target"]
            if target.get("path") not in trs or target.get("node") is None:
                continue
            if not isinstance(target["node"], int) or isinstance(target["node"], bool) \
                    or not 0 <= target["node"] < n_nodes:
                raise FileFormatError(path, f"animation channel targets node {target['node']!r}, not one of the "
                                            f"{n_nodes} nodes")
            sampler = animation["samplers"][channel["sampler"]]
            times = reader.accessor(sampler["input"])[:, 0]
            values = reader.accessor(sampler["output"])
            if sampler.get("interpolation") == "CUBICSPLINE":
                values = values[1::3]
            if len(times) == 0 or len(times) != len(values):
                raise FileFormatError(path, f"animation sampler has {len(times)} key times but {len(values)} values")
            if not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
                raise FileFormatError(path, "animation key times are not finite and increasing")
            tracks.append((target["node"], target["path"], times, values))
            end = max(end, float(times[-1]))
    except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FileFormatError(path, f"damaged animation data ({exc})") from exc
    n_frames = max(1, round(end * IMPORT_FPS) + 1)
    at = np.arange(n_frames) / IMPORT_FPS
    per_frame = {key: np.broadcast_to(v, (n_frames, *v.shape)).copy() for key, v in trs.items()}
    for node, kind, times, values in tracks:
        if node >= n_nodes or not np.all(np.isfinite(values)):
            raise FileFormatError(path, f"animation track for node {node} is invalid")
        per_frame[kind][:, node] = _sample(times, values, at)
    rot = rotations.quaternion_to_matrix(per_frame["rotation"])  # normalises (nlerp)
    local = np.zeros((n_frames, n_nodes, 4, 4))
    local[:, :, :3, :3] = rot * per_frame["scale"][:, :, None, :]
    local[:, :, :3, 3] = per_frame["translation"]
    local[:, :, 3, 3] = 1.0
    parent = {c: i for i, n in enumerate(nodes) for c in (n.get("children") or [])}
    names = [n.get("name") or f"node{i}" for i, n in enumerate(nodes)]
    if not parent:  # some exporters drop the hierarchy; Mixamo rigs can be rebuilt from their names
        by_name = {canonical_name(n): i for i, n in enumerate(names)}
        parent = {by_name[c]: by_name[p] for c, p in _mixamo_parents().items() if c in by_name and p in by_name}
    world = np.zeros_like(local)
    done = np.zeros(n_nodes, dtype=bool)

    def resolve(node: int, depth: int = 0) -> None:
        if done[node]:
            return
        if depth > n_nodes:
            raise FileFormatError(path, "the node hierarchy has a cycle")
        if node in parent:
            resolve(parent[node], depth + 1)
            world[:, node] = world[:, parent[node]] @ local[:, node]
        else:
            world[:, node] = local[:, node]
        done[node] = True

    for node in range(n_nodes):
        resolve(node)
    keypoints = keypoints_from_rig(names, world[:, :, :3, 3], IMPORT_FPS, path)
    return repair_degenerate_rotations(fit_motion(keypoints))


def read_bvh_rig(path: str | Path) -> Motion:
    """Any BVH rig with Mixamo or SMPL-X names, retargeted by position."""
    from signeditor.io.bvh import parse_bvh

    path = Path(path)
    clip = parse_bvh(path)
    local_rot = clip.local_rotations()
    n = clip.frames.shape[0]
    world_rot = np.zeros_like(local_rot)
    positions = np.zeros((n, len(clip.joints), 3))
    col = 0
    for j, joint in enumerate(clip.joints):
        offset = np.broadcast_to(joint.offset, (n, 3)).copy()
        for k, channel in enumerate(joint.channels):
            axis = "XYZ".find(channel[0].upper())
            if channel.lower().endswith("position") and axis >= 0:
                offset[:, axis] = clip.frames[:, col + k]
        col += len(joint.channels)
        if joint.parent < 0:
            world_rot[:, j] = local_rot[:, j]
            positions[:, j] = offset
        else:
            world_rot[:, j] = world_rot[:, joint.parent] @ local_rot[:, j]
            positions[:, j] = positions[:, joint.parent] + np.einsum("nij,nj->ni", world_rot[:, joint.parent], offset)
    keypoints = keypoints_from_rig([j.name for j in clip.joints], positions, 1.0 / clip.frame_time, path)
    return repair_degenerate_rotations(fit_motion(keypoints)).resampled(IMPORT_FPS)
