"""Inverse kinematics: joint rotations of the signing skeleton from 3D keypoints, vectorised over frames.

Each joint's *world* rotation is built from observed bone directions (swing)
plus a second direction for twist where the data has one (elbow plane, palm,
eye line); the local rotation is then ``parent_world^T @ world``. No
iterative optimisation: closed-form per frame keeps it at thousands of frames
per second, which the corpus build over tens of thousands of frames needs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import numpy as np

from signeditor.core import rotations
from signeditor.core.body_volume import INSIDE_TOLERANCE, body_penetration
from signeditor.core.motion import STREAMS, Motion, interpolate_features
from signeditor.core.rotations import unit_vectors
from signeditor.core.skeleton import ROTATING_JOINTS, SIDE_HAND_POINT_INDICES, Skeleton, signing_skeleton

POSE, FACE = "POSE_LANDMARKS", "FACE_LANDMARKS"
HAND_COMPONENT = {"L": "LEFT_HAND_LANDMARKS", "R": "RIGHT_HAND_LANDMARKS"}
SIDE_WORD = {"L": "LEFT", "R": "RIGHT"}
#: The points that fix a hand's palm (its fit needs all four).
_PALM_POINTS = ("WRIST", "MIDDLE_FINGER_MCP", "INDEX_FINGER_MCP", "PINKY_MCP")
#: SMPL-X finger -> MediaPipe point names for the chain (joint1, joint2, joint3, tip).
FINGER_POINTS: dict[str, tuple[str, str, str, str]] = {
    "Index": ("INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP"),
    "Middle": ("MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP"),
    "Pinky": ("PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"),
    "Ring": ("RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP"),
    "Thumb": ("THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP"),
}
#: Face-mesh landmarks: outer eye corners (subject's right, left), chin, inner upper and lower lip.
FACE_RIGHT_EYE, FACE_LEFT_EYE, FACE_CHIN, FACE_UPPER_LIP, FACE_LOWER_LIP = "33", "263", "152", "13", "14"
#: Mouth opening (lip gap / eye-corner distance) below which the jaw counts as closed, and radians per unit.
JAW_CLOSED_RATIO, JAW_GAIN, JAW_MAX = 0.04, 1.4, 0.45
#: Weight of the forward direction that defines the upper arm's twist when the elbow is straight.
STRAIGHT_ARM_BIAS = 0.2


class Keypoints(Protocol):
    """What IK needs from a keypoint source (``signeditor.io.pose_reader.PoseKeypoints`` has it)."""

    fps: float
    positions: np.ndarray
    observed: np.ndarray

    @property
    def n_frames(self) -> int: ...
    def has(self, *names: str) -> bool: ...
    def point(self, name: str) -> np.ndarray: ...
    def seen(self, name: str) -> np.ndarray: ...


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product without np.cross's axis juggling (a hot spot for short clips)."""
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same as ``rotations.rotation_between`` in closed form ``cI + [v]x + vv^T/(1+c)``, about twice as fast.

    Falls back to the general function when some pair is (nearly) opposite.
    """
    a, b = np.broadcast_arrays(unit_vectors(np.asarray(a, dtype=np.float64)),
                               unit_vectors(np.asarray(b, dtype=np.float64)))
    v = _cross(a, b)
    c = np.sum(a * b, axis=-1)
    if np.any(c < -1 + 1e-6):
        return rotations.rotation_between(a, b)
    zeros = np.zeros_like(c)
    skew = np.stack([zeros, -v[..., 2], v[..., 1], v[..., 2], zeros, -v[..., 0], -v[..., 1], v[..., 0], zeros],
                    axis=-1).reshape(*c.shape, 3, 3)
    return (c[..., None, None] * np.eye(3) + skew
            + v[..., :, None] * v[..., None, :] / (1.0 + c)[..., None, None])


def _swing(parent_world: np.ndarray, rest_dir: np.ndarray, target_dir: np.ndarray) -> np.ndarray:
    """World rotation: the parent's rotation plus the smallest turn that aims the bone at the target."""
    current = parent_world @ rest_dir
    return _rotation_between(current, target_dir) @ parent_world


def _frame_rotation(rest_frame: np.ndarray, observed_frame: np.ndarray) -> np.ndarray:
    return observed_frame @ np.swapaxes(rest_frame, -1, -2)


def rest_pose_features() -> np.ndarray:
    """A relaxed pose (246,): arms hanging, elbows slightly bent, hands flat (a fresh copy each call)."""
    return _rest_pose_features().copy()


@lru_cache(maxsize=1)
def _rest_pose_features() -> np.ndarray:
    """A relaxed pose (arms hanging at the sides, slightly bent, hands flat): used for limbs never seen.

    The skeleton's zero pose is a T-pose, which would be a strange default
    for an arm that is simply out of the camera's view.
    """
    features = np.tile(np.array([1.0, 0, 0, 0, 1.0, 0], dtype=np.float32), (len(ROTATING_JOINTS), 1))
    for side, sign in (("L", 1.0), ("R", -1.0)):
        shoulder = _rotation_between(np.array([sign, 0.0, 0.0]), np.array([0.2 * sign, -1.0, 0.05]))
        elbow = _rotation_between(np.array([0.0, -1.0, 0.0]), np.array([0.0, -1.0, 0.35]))
        features[ROTATING_JOINTS.index(f"{side}_Shoulder")] = rotations.matrix_to_rot6d(shoulder)
        features[ROTATING_JOINTS.index(f"{side}_Elbow")] = rotations.matrix_to_rot6d(shoulder.T @ elbow @ shoulder)
    return features.reshape(-1)


class _Rig:
    """Rest directions and frames of the skeleton, computed once."""

    def __init__(self, skeleton: Skeleton) -> None:
        self.skeleton = skeleton
        self.rest = skeleton.rest_positions()
        self.names = skeleton.names
        self.index = {n: i for i, n in enumerate(skeleton.names)}

    def pos(self, name: str) -> np.ndarray:
        return self.rest[self.index[name]]

    def offset_dir(self, child: str) -> np.ndarray:
        return unit_vectors(self.skeleton.offsets[self.index[child]])

    def length(self, child: str) -> float:
        return float(np.linalg.norm(self.skeleton.offsets[self.index[child]]))


_RIGS: dict[int, _Rig] = {}


def _rig(skeleton: Skeleton) -> _Rig:
    """Cached per skeleton object (Skeleton holds an array, so it is not hashable)."""
    key = id(skeleton)
    if key not in _RIGS or _RIGS[key].skeleton is not skeleton:
        _RIGS[key] = _Rig(skeleton)
    return _RIGS[key]


def _names_seen(keypoints: Keypoints, names: list[str]) -> tuple[bool, np.ndarray]:
    """(every name in the layout and each observed at least once, per-frame all observed)."""
    if not keypoints.has(*names):
        return False, np.zeros(keypoints.n_frames, dtype=bool)
    seen = np.stack([keypoints.seen(n) for n in names], axis=1)
    return bool(seen.any(axis=0).all()), seen.all(axis=1)


def fit_world_rotations(
    keypoints: Keypoints, skeleton: Skeleton | None = None
) -> tuple[dict[str, np.ndarray], dict[str, tuple[list[str], np.ndarray]]]:
    """World rotation (T, 3, 3) of every fitted joint, and per group (arm, hand) its joints and observed frames.

    Joints whose inputs never appear are absent from the dict; the caller
    gives them the rest pose. The groups let the caller replace rotations of
    frames where the group was not observed.
    """
    skeleton = skeleton or signing_skeleton()
    rig = _rig(skeleton)
    n = keypoints.n_frames
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    world: dict[str, np.ndarray] = {"Neck": eye}
    groups: dict[str, tuple[list[str], np.ndarray]] = {}
    wrist_fk: dict[str, np.ndarray] = {}
    shoulder_mid_rest = 0.5 * (rig.pos("L_Shoulder") + rig.pos("R_Shoulder"))

    for side in "LR":
        word = SIDE_WORD[side]
        arm = [f"{POSE}.LEFT_SHOULDER", f"{POSE}.RIGHT_SHOULDER", f"{POSE}.{word}_ELBOW", f"{POSE}.{word}_WRIST"]
        arm_ok, arm_frames = _names_seen(keypoints, arm)
        if arm_ok:
            groups[f"{side}_arm"] = ([f"{side}_Collar", f"{side}_Shoulder", f"{side}_Elbow"], arm_frames)
            shoulder = keypoints.point(f"{POSE}.{word}_SHOULDER")
            elbow = keypoints.point(f"{POSE}.{word}_ELBOW")
            wrist = keypoints.point(f"{POSE}.{word}_WRIST")
            mid = 0.5 * (keypoints.point(f"{POSE}.LEFT_SHOULDER") + keypoints.point(f"{POSE}.RIGHT_SHOULDER"))
            collar = _rotation_between(rig.pos(f"{side}_Shoulder") - shoulder_mid_rest, shoulder - mid)
            # Aim each bone from where the skeleton puts its parent at the observed child (image plane), with
            # the depth that gives the skeleton's bone length and the lifted keypoints' depth sign: the fit then
            # reprojects onto the observed elbow and wrist wherever the skeleton can reach them.
            shoulder_fk = rig.pos(f"{side}_Collar") + collar @ rig.skeleton.offsets[rig.index[f"{side}_Shoulder"]]
            hand_wrist = f"{HAND_COMPONENT[side]}.WRIST"
            if keypoints.has(hand_wrist) and keypoints.seen(hand_wrist).any():
                # The hand model's wrist is the precise one where it was detected; its depth follows the arm's.
                seen_hand = keypoints.seen(hand_wrist)[:, None]
                wrist = np.where(seen_hand, np.concatenate(
                    [keypoints.point(hand_wrist)[:, :2], wrist[:, 2:]], axis=-1), wrist)
            upper_length, fore_length = rig.length(f"{side}_Elbow"), rig.length(f"{side}_Wrist")
            upper = _reach(shoulder_fk, elbow, elbow - shoulder, upper_length)
            elbow_fk = shoulder_fk + upper_length * unit_vectors(upper)
            fore = _reach(elbow_fk, wrist, wrist - elbow, fore_length)
            # Where exact reprojection would put the hand inside the body, aim at the lifted (pushed-out) points.
            inside = _hand_inside(keypoints, side, elbow_fk + fore_length * unit_vectors(fore) - wrist)
            upper = np.where(inside[:, None], elbow - shoulder_fk, upper)
            elbow_fk = shoulder_fk + upper_length * unit_vectors(upper)
            fore = np.where(inside[:, None], wrist - elbow_fk, _reach(elbow_fk, wrist, wrist - elbow, fore_length))
            wrist_fk[side] = elbow_fk + fore_length * unit_vectors(fore)
            shoulder_world, flexion = _upper_arm_rotation(rig, side, unit_vectors(upper), unit_vectors(fore))
            # The elbow is a hinge by the flexion angle; a last swing absorbs what a hinge cannot reach.
            hinged = shoulder_world @ rotations.axis_angle_to_matrix(elbow_hinge_axis(side, skeleton) * flexion)
            world[f"{side}_Collar"] = collar
            world[f"{side}_Shoulder"] = shoulder_world
            world[f"{side}_Elbow"] = _swing(hinged, rig.offset_dir(f"{side}_Wrist"), fore)
        hand = HAND_COMPONENT[side]
        palm = [f"{hand}.{p}" for p in _PALM_POINTS]
        hand_ok, hand_frames = _names_seen(keypoints, palm)
        if not hand_ok:
            continue
        groups[f"{side}_hand"] = ([f"{side}_Wrist"] + [f"{side}_{f}{i}" for f in FINGER_POINTS for i in (1, 2, 3)],
                                  hand_frames)
        wrist_pt = keypoints.point(palm[0])
        rest_palm = rotations.frame_from_vectors(rig.pos(f"{side}_Middle1") - rig.pos(f"{side}_Wrist"),
                                                 rig.pos(f"{side}_Index1") - rig.pos(f"{side}_Pinky1"))
        obs_palm = rotations.frame_from_vectors(
            keypoints.point(palm[1]) - wrist_pt, keypoints.point(palm[2]) - keypoints.point(palm[3]))
        wrist_world = _frame_rotation(rest_palm, obs_palm)
        world[f"{side}_Wrist"] = wrist_world
        fingers = [f for f, points in FINGER_POINTS.items() if keypoints.has(*(f"{hand}.{p}" for p in points))]
        if fingers:
            origin = wrist_fk.get(side, wrist_pt)
            world.update(_finger_rotations(keypoints, rig, side, fingers, wrist_world, origin))

    head = _head_rotation(keypoints)
    if head is not None:
        world["Head"] = head
    return world, groups


def _finger_rotations(
    keypoints: Keypoints, rig: _Rig, side: str, fingers: list[str], wrist_world: np.ndarray, wrist_fk: np.ndarray,
) -> dict[str, np.ndarray]:
    """World rotations of the finger joints, all fingers of a hand per chain level in one batch.

    Each joint swings its bone from where the skeleton puts the joint towards
    the observed next point (``_reach``), starting from the parent's rotation
    (twist inherited), so a curled finger keeps the palm's orientation and the
    fingertips land on the observed ones where the skeleton's hand can reach.
    Batching the five chains keeps short clips fast.
    """
    hand = HAND_COMPONENT[side]
    n = keypoints.n_frames
    parent = np.broadcast_to(wrist_world[:, None], (n, len(fingers), 3, 3))
    offsets = rig.skeleton.offsets
    base = np.stack([offsets[rig.index[f"{side}_{f}1"]] for f in fingers])
    joint = wrist_fk[:, None] + np.einsum("tij,fj->tfi", wrist_world, base)
    result: dict[str, np.ndarray] = {}
    for level in range(3):
        children = [f"{side}_{f}{level + 2}" if level < 2 else f"{side}_{f}Tip" for f in fingers]
        bone = np.stack([offsets[rig.index[c]] for c in children])
        length = np.linalg.norm(bone, axis=-1)
        observed_child = np.stack([keypoints.point(f"{hand}.{FINGER_POINTS[f][level + 1]}") for f in fingers], axis=1)
        observed_bone = observed_child - np.stack(
            [keypoints.point(f"{hand}.{FINGER_POINTS[f][level]}") for f in fingers], axis=1)
        target = _reach(joint, observed_child, observed_bone, length[None, :])
        current = np.einsum("tfij,fj->tfi", parent, bone / length[:, None])
        parent = _rotation_between(current, target) @ parent
        joint = joint + np.einsum("tfij,fj->tfi", parent, bone)
        for i, finger in enumerate(fingers):
            result[f"{side}_{finger}{level + 1}"] = parent[:, i]
    return result


def _hand_inside(keypoints: Keypoints, side: str, shift: np.ndarray) -> np.ndarray:
    """Per frame: would the observed hand, moved by ``shift`` (T, 3), enter the body capsules?"""
    hand = HAND_COMPONENT[side]
    names = [f"{hand}.WRIST"] + [f"{hand}.{point}" for points in FINGER_POINTS.values() for point in points]
    names = [n for n in names if keypoints.has(n)] or [f"{POSE}.{SIDE_WORD[side]}_WRIST"]
    points = np.stack([keypoints.point(n) for n in names], axis=1) + shift[:, None]
    return body_penetration(points).max(axis=1) > 0.0


def _reach(start: np.ndarray, target: np.ndarray, observed_bone: np.ndarray, length: np.ndarray | float) -> np.ndarray:
    """Direction from ``start`` to ``target`` in the image plane, with the depth that makes it ``length`` long.

    The depth's sign is the observed (lifted) bone's; where the target lies
    beyond reach in the image plane the bone stays in that plane.
    """
    planar = target[..., :2] - start[..., :2]
    size = np.linalg.norm(planar, axis=-1)
    depth = np.sqrt(np.maximum(np.asarray(length) ** 2 - size**2, 0.0))
    sign = np.where(observed_bone[..., 2] < 0, -1.0, 1.0)
    return np.concatenate([planar, (sign * depth)[..., None]], axis=-1)


def elbow_hinge_axis(side: str, skeleton: Skeleton | None = None) -> np.ndarray:
    """The elbow's flexion axis in the rest pose: perpendicular to the upper arm and to forward.

    Flexing about it swings the forearm forward (+z) from the T-pose, as a
    human elbow does with the palm down.
    """
    rig = _rig(skeleton or signing_skeleton())
    return unit_vectors(np.cross(rig.offset_dir(f"{side}_Elbow"), np.array([0.0, 0.0, 1.0])))


def _upper_arm_rotation(rig: _Rig, side: str, upper: np.ndarray, fore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder world rotation (T, 3, 3) and elbow flexion (T, 1): the elbow acts as a hinge.

    The flexion angle follows from the observed elbow angle (the hinge keeps
    the forearm's component along the axis); the rest pose bent by that angle
    and the observed arm then span matching frames. A nearly straight arm has
    no elbow plane, so a fading forward bias keeps its frame defined.
    """
    rest_upper = rig.offset_dir(f"{side}_Elbow")
    rest_fore = rig.offset_dir(f"{side}_Wrist")
    hinge = elbow_hinge_axis(side, rig.skeleton)
    along = np.dot(hinge, rest_fore) * hinge
    across = rest_fore - along
    normal = np.cross(hinge, across)
    a, b, c = np.dot(rest_upper, across), np.dot(rest_upper, normal), np.dot(rest_upper, along)
    target = np.sum(upper * fore, axis=-1) - c
    phase = np.arctan2(b, a)
    spread = np.arccos(np.clip(target / max(np.hypot(a, b), 1e-9), -1.0, 1.0))
    candidates = np.angle(np.exp(1j * np.stack([phase + spread, phase - spread], axis=-1)))
    flexion = np.take_along_axis(candidates, np.argmin(np.abs(candidates - np.pi / 2), axis=-1)[:, None], -1)
    bent_rest = along + np.cos(flexion) * across + np.sin(flexion) * normal
    straightness = np.clip(1.0 - np.linalg.norm(np.cross(upper, fore), axis=-1, keepdims=True) / 0.35, 0.0, 1.0)
    bias = STRAIGHT_ARM_BIAS * straightness * np.array([0.0, 0.0, 1.0])
    rest_frame = rotations.frame_from_vectors(np.broadcast_to(rest_upper, upper.shape), bent_rest + bias)
    return _frame_rotation(rest_frame, rotations.frame_from_vectors(upper, fore + bias)), flexion


def _head_rotation(keypoints: Keypoints) -> np.ndarray | None:
    """Head frame from the eye line (signer's right -> left is +x) and eyes-above-chin (+y)."""
    face = [f"{FACE}.{FACE_RIGHT_EYE}", f"{FACE}.{FACE_LEFT_EYE}", f"{FACE}.{FACE_CHIN}"]
    if _names_seen(keypoints, face)[0]:
        right, left, chin = (keypoints.point(n) for n in face)
        up = 0.5 * (right + left) - chin
        return rotations.frame_from_vectors(left - right, up)
    pose = [f"{POSE}.RIGHT_EYE", f"{POSE}.LEFT_EYE", f"{POSE}.MOUTH_LEFT", f"{POSE}.MOUTH_RIGHT"]
    if _names_seen(keypoints, pose)[0]:
        right, left, mouth_l, mouth_r = (keypoints.point(n) for n in pose)
        up = 0.5 * (right + left) - 0.5 * (mouth_l + mouth_r)
        return rotations.frame_from_vectors(left - right, up)
    return None


def _jaw_names() -> list[str]:
    return [f"{FACE}.{FACE_UPPER_LIP}", f"{FACE}.{FACE_LOWER_LIP}", f"{FACE}.{FACE_RIGHT_EYE}",
            f"{FACE}.{FACE_LEFT_EYE}"]


def jaw_angle(keypoints: Keypoints) -> np.ndarray | None:
    """Jaw opening (radians about +x) from the inner-lip gap relative to the eye-corner distance."""
    names = _jaw_names()
    if not _names_seen(keypoints, names)[0]:
        return None
    upper, lower, right, left = (keypoints.point(n) for n in names)
    ratio = np.linalg.norm(upper - lower, axis=-1) / np.maximum(np.linalg.norm(left - right, axis=-1), 1e-9)
    return np.clip(JAW_GAIN * (ratio - JAW_CLOSED_RATIO), 0.0, JAW_MAX)


_BODY_PARENT = {
    "Neck": None, "L_Collar": None, "R_Collar": None, "Head": "Neck",
    "L_Shoulder": "L_Collar", "R_Shoulder": "R_Collar", "L_Elbow": "L_Shoulder", "R_Elbow": "R_Shoulder",
    "L_Wrist": "L_Elbow", "R_Wrist": "R_Elbow",
}


def _parent_name(joint: str) -> str | None:
    if joint in _BODY_PARENT:
        return _BODY_PARENT[joint]
    side, suffix = joint[:2], joint[2:]
    digit = suffix[-1]
    return f"{side}Wrist" if digit == "1" else f"{side}{suffix[:-1]}{int(digit) - 1}"


#: Seconds over which a limb lost at the start or end of a recording eases to (or from) the rest pose.
REST_EASE_S = 0.5


def fit_features(keypoints: Keypoints, skeleton: Skeleton | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features (T, 246) float32, filled (T,) bool) fitted to ``keypoints``."""
    features, filled, _ = _fit(keypoints, skeleton)
    return features, filled


def stream_filled(keypoints: Keypoints) -> np.ndarray:
    """Per frame and stream (``STREAMS`` order): True where the stream was not observed but filled.

    The same observations the fit uses (an arm's shoulders, elbow and wrist;
    a hand's palm points; the lips and eye corners for the jaw). A missing
    hand fills only its own stream: the body counts as observed wherever
    either arm was (the wrist's turn, in the body stream, is then the hand's
    interpolated one), so a hand lost for a few frames never makes the
    tracked arm regenerable. A stream with no data at all is filled everywhere.
    """
    seen: dict[str, np.ndarray] = {}
    for side in "LR":
        word, hand = SIDE_WORD[side], HAND_COMPONENT[side]
        seen[f"{side}_arm"] = _names_seen(keypoints, [f"{POSE}.LEFT_SHOULDER", f"{POSE}.RIGHT_SHOULDER",
                                                      f"{POSE}.{word}_ELBOW", f"{POSE}.{word}_WRIST"])[1]
        seen[f"{side}_hand"] = _names_seen(keypoints, [f"{hand}.{p}" for p in _PALM_POINTS])[1]
    jaw = _names_seen(keypoints, _jaw_names())[1]
    columns = {"body": ~(seen["L_arm"] | seen["R_arm"]), "left_hand": ~seen["L_hand"],
               "right_hand": ~seen["R_hand"], "jaw": ~jaw}
    return np.stack([columns[name] for name in STREAMS], axis=1)


def _fit(keypoints: Keypoints, skeleton: Skeleton | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, filled frames (any arm or hand unobserved) and filled frames per stream."""
    skeleton = skeleton or signing_skeleton()
    n = keypoints.n_frames
    world, groups = fit_world_rotations(keypoints, skeleton)
    rest_local = rotations.rot6d_to_matrix(rest_pose_features().reshape(-1, 6)).astype(np.float64)
    local = np.broadcast_to(rest_local, (n, len(ROTATING_JOINTS), 3, 3)).copy()
    # World rotations of joints without data follow from the rest pose so children still compose correctly.
    resolved: dict[str, np.ndarray] = {}
    for j, joint in enumerate(ROTATING_JOINTS[:-1]):
        parent = _parent_name(joint)
        parent_world = np.broadcast_to(np.eye(3), (n, 3, 3)) if parent is None else resolved[parent]
        if joint in world:
            resolved[joint] = world[joint]
            local[:, j] = np.swapaxes(parent_world, -1, -2) @ world[joint]
        else:
            resolved[joint] = parent_world @ local[:, j]
    jaw = jaw_angle(keypoints)
    if jaw is not None:
        local[:, -1] = rotations.axis_angle_to_matrix(np.stack([jaw, 0 * jaw, 0 * jaw], axis=-1))
    features = rotations.matrix_to_rot6d(local).reshape(n, -1).astype(np.float32)
    filled = np.zeros(n, dtype=bool)
    for joints, seen in groups.values():
        filled |= ~seen
        _fill_unobserved(features, [ROTATING_JOINTS.index(j) for j in joints], seen,
                         round(REST_EASE_S * float(keypoints.fps)))
    keep_hands_outside_body(features, skeleton)
    return features, filled, stream_filled(keypoints)


def keep_hands_outside_body(features: np.ndarray, skeleton: Skeleton | None = None, passes: int = 4) -> int:
    """Swing each arm forward about its shoulder, in place, in frames where its hand enters the body.

    The last guard after lifting and filling: the fit aims at observed
    points from where the skeleton puts each parent, and held or interpolated
    rotations of lost hands know nothing of the body, so a hand can still
    end up inside it. Turning the whole arm about the shoulder (towards +z,
    perpendicular to the shoulder-hand line) changes only the shoulder's
    local rotation and moves the hand mostly in depth, which the camera sees
    least. Returns the number of frames changed.
    """
    skeleton = skeleton or signing_skeleton()
    index = {n: i for i, n in enumerate(skeleton.names)}
    n = features.shape[0]
    changed = np.zeros(n, dtype=bool)
    forward = np.array([0.0, 0.0, 1.0])
    for _ in range(passes):
        from signeditor.core.kinematics import forward_kinematics

        positions, world = forward_kinematics(features, skeleton, with_rotations=True)
        moved = False
        for side in "LR":
            hand = positions[:, list(SIDE_HAND_POINT_INDICES[side])]
            depth = body_penetration(hand).max(axis=1)
            frames = np.flatnonzero(depth > 0.5 * INSIDE_TOLERANCE)
            if frames.size == 0:
                continue
            shoulder = positions[frames, index[f"{side}_Shoulder"]]
            reach = hand[frames].mean(axis=1) - shoulder
            axis = unit_vectors(_cross(reach, np.broadcast_to(forward, reach.shape)))
            angle = (depth[frames] + 0.02) / np.maximum(np.linalg.norm(reach, axis=-1), 0.05)
            turn = rotations.axis_angle_to_matrix(axis * angle[:, None])
            parent = world[frames, index[f"{side}_Collar"]]
            column = ROTATING_JOINTS.index(f"{side}_Shoulder")
            local = rotations.rot6d_to_matrix(features[frames, 6 * column:6 * column + 6].astype(np.float64))
            new_local = np.swapaxes(parent, -1, -2) @ turn @ parent @ local
            features[frames, 6 * column:6 * column + 6] = rotations.matrix_to_rot6d(new_local)
            changed[frames] = True
            moved = True
        if not moved:
            break
    return int(changed.sum())


def _fill_unobserved(features: np.ndarray, joints: list[int], seen: np.ndarray, ease_frames: int = 0) -> None:
    """Replace rotations of unobserved frames by interpolating the observed ones; before the first and after
    the last observation, ease to the rest pose over ``ease_frames`` (0: hold the nearest observation).

    Interpolating rotations rather than keypoints keeps a lost hand's pose
    plausible relative to an arm that keeps moving. A limb lost at the start or end of a recording has left
    the frame (signers lower their hands out of view when they finish): holding its last pose would freeze it
    mid-sign, so it goes to rest, as the signer's did.
    """
    if seen.all() or not seen.any():
        return
    columns = np.concatenate([np.arange(6 * j, 6 * j + 6) for j in joints])
    observed_frames = np.flatnonzero(seen)
    missing = np.flatnonzero(~seen)
    position = np.interp(missing, observed_frames, np.arange(observed_frames.size))
    block = features[np.ix_(observed_frames, columns)]
    features[np.ix_(missing, columns)] = interpolate_features(block, position)
    if ease_frames < 1:
        return
    rest = rest_pose_features()[columns]
    first, last = int(observed_frames[0]), int(observed_frames[-1])
    for frames, distance in ((np.arange(last + 1, len(features)), np.arange(1, len(features) - last)),
                             (np.arange(0, first), first - np.arange(0, first))):
        if frames.size == 0:
            continue
        t = np.clip(distance / ease_frames, 0.0, 1.0)[:, None]
        weight = t * t * (3 - 2 * t)  # smoothstep: leaves the observation and reaches rest without a jolt
        held = features[np.ix_(frames, columns)]
        eased = (1 - weight) * held + weight * rest
        features[np.ix_(frames, columns)] = rotations.orthonormalize_rot6d(eased.reshape(len(frames), -1, 6)
                                                                           ).reshape(len(frames), -1)


def fit_motion(keypoints: Keypoints, skeleton: Skeleton | None = None) -> Motion:
    """The Motion whose forward kinematics follows the keypoints' bone directions."""
    features, filled, per_stream = _fit(keypoints, skeleton)
    return Motion(float(keypoints.fps), features, filled=filled, stream_filled=per_stream)



def bone_pairs(keypoints: Keypoints) -> list[tuple[str, str, str, str]]:
    """(skeleton parent, skeleton child, keypoint parent, keypoint child) for every bone IK aims.

    Shared by tests and the benchmark so "bone direction error" means one thing.
    """
    pairs: list[tuple[str, str, str, str]] = []
    for side in "LR":
        word, hand = SIDE_WORD[side], HAND_COMPONENT[side]
        pairs += [
            (f"{side}_Shoulder", f"{side}_Elbow", f"{POSE}.{word}_SHOULDER", f"{POSE}.{word}_ELBOW"),
            (f"{side}_Elbow", f"{side}_Wrist", f"{POSE}.{word}_ELBOW", f"{POSE}.{word}_WRIST"),
        ]
        for finger, points in FINGER_POINTS.items():
            joints = [f"{side}_{finger}{i}" for i in (1, 2, 3)] + [f"{side}_{finger}Tip"]
            if finger != "Thumb":
                pairs.append((f"{side}_Wrist", joints[0], f"{hand}.WRIST", f"{hand}.{points[0]}"))
            for level in range(3):
                point_a, point_b = f"{hand}.{points[level]}", f"{hand}.{points[level + 1]}"
                pairs.append((joints[level], joints[level + 1], point_a, point_b))
    return [p for p in pairs if keypoints.has(p[2], p[3])]


def bone_direction_errors(keypoints: Keypoints, features: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Angles (degrees) between fitted (FK) and keypoint bones, for every bone and frame with both ends observed."""
    errors = list(bone_direction_errors_by_bone(keypoints, features, skeleton).values())
    return np.concatenate(errors) if errors else np.zeros(0)


def bone_direction_errors_by_bone(
    keypoints: Keypoints, features: np.ndarray, skeleton: Skeleton | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """Per skeleton bone (parent, child): angles (degrees) over the frames where both keypoints were observed.

    Bones IK aims directly come out near zero by construction; the palm bones
    (wrist to finger bases) show how well the skeleton's hand fits the signer's.
    """
    from signeditor.core.kinematics import forward_kinematics

    skeleton = skeleton or signing_skeleton()
    positions = np.asarray(forward_kinematics(features, skeleton))
    index = {n: i for i, n in enumerate(skeleton.names)}
    errors: dict[tuple[str, str], np.ndarray] = {}
    for joint_a, joint_b, point_a, point_b in bone_pairs(keypoints):
        seen = keypoints.seen(point_a) & keypoints.seen(point_b)
        if not seen.any():
            continue
        fitted = unit_vectors(positions[seen, index[joint_b]] - positions[seen, index[joint_a]])
        target = unit_vectors(keypoints.point(point_b)[seen] - keypoints.point(point_a)[seen])
        cosine = np.clip(np.sum(fitted * target, axis=-1), -1.0, 1.0)
        errors[(joint_a, joint_b)] = np.degrees(np.arccos(cosine))
    return errors


def reprojection_errors(keypoints: Keypoints, positions: np.ndarray, skeleton: Skeleton | None = None) -> np.ndarray:
    """Image-plane distances (shoulder widths) of fitted elbows, wrists and fingertips from the observed points.

    Lifting only adds depth, so this says how faithful the 3D stays to what
    the camera saw. Wrists are compared with the hand model's wrist where it
    was detected (the one the fit aims at), else the pose model's. Only arms
    in the layout count: a hand-only file has no camera relation to the body.
    """
    skeleton = skeleton or signing_skeleton()
    index = {n: i for i, n in enumerate(skeleton.names)}
    errors = []

    def add(joint: str, point: str, frames: np.ndarray) -> None:
        delta = positions[frames, index[joint], :2] - keypoints.point(point)[frames, :2]
        errors.append(np.linalg.norm(delta, axis=-1))

    for side in "LR":
        word, hand = SIDE_WORD[side], HAND_COMPONENT[side]
        elbow, wrist = f"{POSE}.{word}_ELBOW", f"{POSE}.{word}_WRIST"
        if not keypoints.has(elbow, wrist):
            continue
        add(f"{side}_Elbow", elbow, keypoints.seen(elbow))
        hand_seen = keypoints.seen(f"{hand}.WRIST") if keypoints.has(f"{hand}.WRIST") else np.zeros_like(
            keypoints.seen(wrist))
        add(f"{side}_Wrist", wrist, keypoints.seen(wrist) & ~hand_seen)
        if hand_seen.any():
            add(f"{side}_Wrist", f"{hand}.WRIST", hand_seen)
        for finger, points in FINGER_POINTS.items():
            tip = f"{hand}.{points[3]}"
            if keypoints.has(tip):
                add(f"{side}_{finger}Tip", tip, keypoints.seen(tip))
    return np.concatenate(errors) / skeleton.shoulder_width() if errors else np.zeros(0)
