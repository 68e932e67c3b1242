"""Depth lifting: 3D arms and hands from keypoints whose depth is flat or unreliable.

Video keypoints give good image-plane positions, but MediaPipe's pose depth
is nearly constant (or noise) in most files. A bone of known length ``L``
whose image is ``l`` long leaves the camera by ``sqrt(L^2 - l^2)``: the size
of the depth follows from foreshortening, only its sign is unknown. The sign
is chosen per frame for the whole arm (elbow and wrist together, four
choices) by anatomy and signing, and kept consistent over time with a
Viterbi pass whose transition cost is the depth jump (a flip is free only
where the bone crosses the image plane):

- the elbow flexes one way: the forearm may not point "backwards" relative
  to the upper arm's neutral twist (humeral rotation limits);
- the upper arm does not reach far behind the body (shoulder extension);
- a raised wrist is in front of the shoulders' plane (signing space);
- nothing enters the torso, neck or head capsules.

Where depth is real (world landmarks, a detector depth that keeps bone
lengths constant) its sign is used as strong evidence in the same pass, so
one code path serves every file; the report says which evidence it had.
Hands take their depth signs from the hand model (its relative depth is
informative even where the pose depth is not), sizes from bone lengths, and
are pushed out of the body last. Everything is vectorised over frames except
the tiny per-frame Viterbi recursion.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from signeditor.core.body_volume import body_penetration, chest_level_y, shoulder_plane_z
from signeditor.core.ik import FINGER_POINTS, HAND_COMPONENT, POSE, SIDE_WORD
from signeditor.core.rotations import unit_vectors
from signeditor.core.skeleton import signing_skeleton

#: MediaPipe hand chain per skeleton finger, wrist first.
HAND_CHAINS: dict[str, tuple[str, ...]] = {finger: ("WRIST", *points) for finger, points in FINGER_POINTS.items()}

#: Evidence kinds, strongest first: what the report's ``path`` names.
WORLD_LANDMARKS, DETECTOR_DEPTH, LIFTED = "world_landmarks", "detector_depth", "lifted"
#: A detector depth counts as real when it makes 3D bone lengths this much steadier than image lengths.
REAL_DEPTH_STEADINESS = 0.6
#: Percentile of a bone's image length taken as its length when it exceeds the skeleton's.
LENGTH_PERCENTILE = 97.0
#: Humeral twist range (radians) of the forearm about the upper arm, measured from the neutral (hanging) twist,
#: positive towards the body's midline: internal rotation reaches further than external.
TWIST_RANGE = (np.radians(-75.0), np.radians(135.0))
#: Weights of the sign-selection costs (metres of depth jump are the transition unit).
WEIGHTS = {"behind": 3.0, "inside": 8.0, "twist": 0.25, "extension": 1.0, "jump": 1.5}
#: Weight of observed depth signs by their source: real depth outweighs all but gross anatomical violations.
EVIDENCE_WEIGHT = {WORLD_LANDMARKS: 1.0, DETECTOR_DEPTH: 2.0}
#: The four arm depth-sign choices: (elbow relative to shoulder, wrist relative to elbow).
ARM_SIGNS = np.array(list(itertools.product((1.0, -1.0), repeat=2)))


@dataclass
class LiftReport:
    """How an import recovered depth: shown to the user and checked by tests."""

    path: str = LIFTED
    arms: dict[str, str] = field(default_factory=dict)
    sign_changes: dict[str, int] = field(default_factory=dict)
    frames_pushed_out: int = 0

    def summary(self) -> str:
        arms = ", ".join(f"{side} arm {how}" for side, how in sorted(self.arms.items())) or "no arms"
        return f"depth: {self.path} ({arms}; hands pushed out of the body in {self.frames_pushed_out} frames)"


def bone_length(planar: np.ndarray, skeleton_length: float) -> float:
    """The signer's bone length: the skeleton's, unless the image shows it longer (then a high percentile)."""
    if planar.size == 0:
        return skeleton_length
    return max(skeleton_length, float(np.percentile(planar, LENGTH_PERCENTILE)))


def depth_is_real(parent: np.ndarray, child: np.ndarray) -> bool:
    """True when the given depths make a bone's 3D length steadier than its image length (real depth)."""
    delta = child - parent
    planar = np.linalg.norm(delta[:, :2], axis=-1)
    full = np.linalg.norm(delta, axis=-1)
    if planar.size < 3 or not np.ptp(delta[:, 2]) > 1e-6:
        return False
    spread_planar = np.std(planar) / max(float(np.mean(planar)), 1e-9)
    spread_full = np.std(full) / max(float(np.mean(full)), 1e-9)
    return bool(spread_full < REAL_DEPTH_STEADINESS * spread_planar)


def _minimal_swing(source: np.ndarray, target: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Rotate ``vector`` by the smallest rotation taking unit ``source`` to unit ``target`` (Rodrigues)."""
    axis = np.cross(source, target)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    cos = np.sum(source * target, axis=-1, keepdims=True)
    k = axis / np.maximum(sin, 1e-9)
    return vector * cos + np.cross(k, vector) * sin + k * np.sum(k * vector, axis=-1, keepdims=True) * (1 - cos)


def forearm_twist(side: str, upper: np.ndarray, fore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(twist angle, weight) of the forearm about the upper arm, 0 = neutral, positive = towards the midline.

    The neutral twist carries the hanging arm's frame (forearm flexing
    forward) to the upper arm's direction by the smallest swing; the weight
    fades where the twist is undefined (a straight arm, an arm pointing up).
    """
    hanging = np.array([0.0, -1.0, 0.0])
    forward = np.array([0.0, 0.0, 1.0])
    medial = np.array([-1.0 if side == "L" else 1.0, 0.0, 0.0])
    upper = unit_vectors(upper)
    fore = unit_vectors(fore)
    across = fore - np.sum(fore * upper, axis=-1, keepdims=True) * upper
    bent = np.linalg.norm(across, axis=-1)
    src = np.broadcast_to(hanging, upper.shape)
    neutral = _minimal_swing(src, upper, np.broadcast_to(forward, upper.shape))
    inward = _minimal_swing(src, upper, np.broadcast_to(medial, upper.shape))
    angle = np.arctan2(np.sum(across * inward, axis=-1), np.sum(across * neutral, axis=-1))
    weight = np.clip(bent / 0.3, 0.0, 1.0) * np.clip((0.9 - upper[..., 1]) / 0.4, 0.0, 1.0)
    return angle, weight


def twist_violation(side: str, upper: np.ndarray, fore: np.ndarray) -> np.ndarray:
    """Radians by which the forearm's twist leaves the humeral range (0 inside), weighted as ``forearm_twist``."""
    angle, weight = forearm_twist(side, upper, fore)
    low, high = TWIST_RANGE
    # The forbidden arc is centred on "backwards" (pi); measure outside distance on the circle.
    outside = np.minimum(np.where(angle > high, angle - high, 0.0) + np.where(angle < low, low - angle, 0.0), np.pi)
    return outside * weight


def choose_arm_signs(
    side: str, shoulder: np.ndarray, planar_upper: np.ndarray, planar_fore: np.ndarray,
    depth_upper: np.ndarray, depth_fore: np.ndarray, evidence: np.ndarray | None = None,
    evidence_weight: float = 0.0,
) -> np.ndarray:
    """Per frame (T, 2) depth signs of the elbow and the wrist bone minimising the anatomy costs over time.

    ``planar_*`` are image-plane bone vectors (T, 2), ``depth_*`` the depth
    sizes (T,), ``evidence`` optional observed depth deltas (T, 2) whose signs
    are preferred in proportion to their size.
    """
    n = shoulder.shape[0]
    s_e, s_w = ARM_SIGNS[:, 0], ARM_SIGNS[:, 1]
    elbow_z = shoulder[:, 2:3] + s_e[None] * depth_upper[:, None]  # (T, 4)
    wrist_z = elbow_z + s_w[None] * depth_fore[:, None]
    elbow = np.broadcast_to(shoulder[:, None, :2] + planar_upper[:, None], (n, 4, 2))
    wrist = elbow + planar_fore[:, None]
    elbow3 = np.concatenate([elbow, elbow_z[..., None]], axis=-1)
    wrist3 = np.concatenate([wrist, wrist_z[..., None]], axis=-1)
    upper3 = elbow3 - shoulder[:, None]
    fore3 = wrist3 - elbow3
    mid3 = 0.5 * (elbow3 + wrist3)

    raised = (wrist[..., 1] > chest_level_y()).astype(float)
    behind = np.maximum(shoulder_plane_z() - wrist_z, 0.0) * (0.25 + 0.75 * raised)
    inside = body_penetration(wrist3) + body_penetration(elbow3) + body_penetration(mid3)
    twist = twist_violation(side, upper3, fore3)
    extension = np.maximum(-unit_vectors(upper3)[..., 2] - 0.6, 0.0)
    cost = (WEIGHTS["behind"] * behind + WEIGHTS["inside"] * inside + WEIGHTS["twist"] * twist
            + WEIGHTS["extension"] * extension)
    if evidence is not None:
        evidence = np.nan_to_num(evidence)
        size = np.clip(np.abs(evidence) / np.maximum(np.stack([depth_upper, depth_fore], -1), 1e-3), 0.0, 1.0)
        size = size * np.minimum(np.stack([depth_upper, depth_fore], -1) / 0.05, 1.0)
        disagree = (np.sign(evidence)[:, None, :] * ARM_SIGNS[None] < 0).astype(float)
        cost = cost + evidence_weight * np.sum(disagree * size[:, None, :], axis=-1)
    jump = (np.abs(elbow_z[1:, None, :] - elbow_z[:-1, :, None])
            + np.abs(wrist_z[1:, None, :] - wrist_z[:-1, :, None])) * WEIGHTS["jump"]  # (T-1, from, to)
    return ARM_SIGNS[_viterbi(cost, jump)]


def _viterbi(unary: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """Cheapest state path for costs ``unary`` (T, S) and ``transition`` (T-1, S, S)."""
    n = unary.shape[0]
    total = unary[0].copy()
    back = np.zeros(unary.shape, dtype=np.int64)
    for t in range(1, n):
        step = total[:, None] + transition[t - 1]
        back[t] = np.argmin(step, axis=0)
        total = step[back[t], np.arange(step.shape[1])] + unary[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmin(total))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def lift_depth(
    names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray,
    world_depth: np.ndarray | None = None,
) -> LiftReport:
    """Rebuild the depth of arms and hands in ``positions`` (T, K, 3, skeleton frame) in place.

    ``world_depth`` (T, K) are depths of the same points from world
    landmarks (NaN where absent). The image-plane coordinates are never
    changed, so the 2D reprojection stays exact except where a hand must be
    moved out of the body (then only its depth changes).
    """
    index = {n: i for i, n in enumerate(names)}
    report = LiftReport()
    paths: list[str] = []
    for side, word in SIDE_WORD.items():
        chain = [index.get(f"{POSE}.{word}_{j}") for j in ("SHOULDER", "ELBOW", "WRIST")]
        if None in chain:
            continue
        seen = observed[:, chain].all(axis=1)
        old_wrist_z = positions[:, chain[2], 2].copy()
        paths.append(_lift_arm(side, chain, positions, seen, world_depth, report))
        hand = HAND_COMPONENT[side]
        members = [i for n, i in index.items() if n.startswith(hand + ".")]
        positions[:, members, 2] += (positions[:, chain[2], 2] - old_wrist_z)[:, None]
    for side, hand in HAND_COMPONENT.items():
        _lift_hand(side, hand, index, positions, observed)
    report.frames_pushed_out = _push_out_of_body(names, index, positions)
    report.path = max(paths, key=(LIFTED, DETECTOR_DEPTH, WORLD_LANDMARKS).index) if paths else LIFTED
    return report


def _lift_arm(
    side: str, chain: list[int], positions: np.ndarray, seen: np.ndarray, world_depth: np.ndarray | None,
    report: LiftReport,
) -> str:
    """Depth of one arm's elbow and wrist (in place); returns the evidence used (the report's path)."""
    skeleton = signing_skeleton()
    sh, el, wr = (positions[:, i].copy() for i in chain)
    lengths = [float(np.linalg.norm(skeleton.offsets[skeleton.index(f"{side}_{j}")])) for j in ("Elbow", "Wrist")]
    planar = [el[:, :2] - sh[:, :2], wr[:, :2] - el[:, :2]]
    depth = []
    for vec, rest_length in zip(planar, lengths, strict=True):
        size = np.linalg.norm(vec, axis=-1)
        depth.append(np.sqrt(np.maximum(bone_length(size[seen], rest_length) ** 2 - size**2, 0.0)))
    evidence, how = None, LIFTED
    if world_depth is not None and np.isfinite(world_depth[:, chain]).any(axis=0).all():
        wz = world_depth[:, chain]
        evidence, how = np.stack([wz[:, 1] - wz[:, 0], wz[:, 2] - wz[:, 1]], axis=-1), WORLD_LANDMARKS
    elif seen.sum() >= 3 and all(depth_is_real(a[seen], b[seen]) for a, b in itertools.pairwise((sh, el, wr))):
        # Real depth (a rig, our own export, a 3D lifter): strong evidence, still held to anatomy.
        evidence, how = np.stack([el[:, 2] - sh[:, 2], wr[:, 2] - el[:, 2]], axis=-1), DETECTOR_DEPTH
    signs = choose_arm_signs(side, sh, planar[0], planar[1], depth[0], depth[1], evidence,
                             EVIDENCE_WEIGHT.get(how, 0.0))
    positions[:, chain[1], 2] = sh[:, 2] + signs[:, 0] * depth[0]
    positions[:, chain[2], 2] = positions[:, chain[1], 2] + signs[:, 1] * depth[1]
    report.arms[side] = how
    clear = np.minimum(depth[0][1:], depth[1][1:]) > 0.05
    report.sign_changes[side] = int(np.sum(np.any(signs[1:] != signs[:-1], axis=1) & clear))
    return how


def _lift_hand(side: str, hand: str, index: dict[str, int], positions: np.ndarray, observed: np.ndarray) -> None:
    """Finger bones: depth size from bone length, sign from the hand model's own relative depth.

    The hand landmark model predicts depth relative to the wrist; it is noisy
    in size (3D finger lengths vary by ~20% within a clip) but mostly right in
    sign, so its sign is kept and the size made consistent with the bone.
    """
    skeleton = signing_skeleton()
    palm = [index.get(f"{hand}.{p}") for p in ("WRIST", "MIDDLE_FINGER_MCP", "INDEX_FINGER_MCP")]
    if None in palm:
        return
    seen = observed[:, palm].all(axis=1)
    if seen.sum() >= 3 and depth_is_real(positions[seen, palm[0]], positions[seen, palm[1]]):
        return  # the hand's depth is real: keep it
    members = [i for n, i in index.items() if n.startswith(hand + ".")]
    extent = np.linalg.norm(positions[:, members, :2] - positions[:, palm[:1], :2], axis=-1).max(axis=1)
    collapsed = extent < 1e-4  # a detector glitch, not a hand seen end-on: give it no depth to fit
    for finger, chain in HAND_CHAINS.items():
        points = [index.get(f"{hand}.{p}") for p in chain]
        if None in points:
            return
        joints = [f"{side}_Wrist"] + [f"{side}_{finger}{k}" for k in (1, 2, 3)] + [f"{side}_{finger}Tip"]
        original = positions[:, points, 2].copy()
        for level in range(4):
            parent, child = points[level], points[level + 1]
            seen = observed[:, parent] & observed[:, child]
            if not seen.any():
                continue
            rest_length = float(np.linalg.norm(skeleton.offsets[skeleton.index(joints[level + 1])]))
            planar = np.linalg.norm(positions[:, child, :2] - positions[:, parent, :2], axis=-1)
            length = bone_length(planar[seen], rest_length)
            size = np.where(collapsed, 0.0, np.sqrt(np.maximum(length**2 - planar**2, 0.0)))
            sign = np.where(original[:, level + 1] - original[:, level] < 0, -1.0, 1.0)
            positions[:, child, 2] = positions[:, parent, 2] + sign * size


def _push_out_of_body(names: tuple[str, ...], index: dict[str, int], positions: np.ndarray) -> int:
    """Move each hand (and its body wrist) forward just enough to leave the body capsules; frames moved."""
    moved = np.zeros(positions.shape[0], dtype=bool)
    for side, hand in HAND_COMPONENT.items():
        members = [i for n, i in index.items() if n.startswith(hand + ".")]
        wrist = index.get(f"{POSE}.{SIDE_WORD[side]}_WRIST")
        group = members + ([wrist] if wrist is not None else [])
        if not group:
            continue
        shift = np.zeros(positions.shape[0])
        for _ in range(3):  # a forward step can enter another capsule's side; a few passes settle it
            depth = body_penetration(positions[:, group]).max(axis=1)
            if not np.any(depth > 1e-4):
                break
            step = np.where(depth > 1e-4, depth + 0.01, 0.0)
            positions[:, group, 2] += step[:, None]
            shift += step
        moved |= shift > 0
        elbow = index.get(f"{POSE}.{SIDE_WORD[side]}_ELBOW")
        if elbow is not None:
            depth = body_penetration(positions[:, elbow])
            positions[:, elbow, 2] += np.where(depth > 1e-4, depth + 0.01, 0.0)
    return int(moved.sum())
