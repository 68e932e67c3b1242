"""The signing skeleton: SMPL-X's upper body, hands and jaw.

Pelvis, legs and spine never move in signing, so they are fixed; the ten
upper-body joints from the neck to the wrists, fifteen joints per hand and the
jaw carry the motion. Rest offsets come from the ``mannequin-x`` skeleton so
that forward kinematics, the rendered avatar and exported rigs agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The last ten SMPL-X body joints (indices 12..21), in SMPL-X order.
BODY_JOINTS: tuple[str, ...] = (
    "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder",
    "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist",
)
#: SMPL-X hand joint order (MANO): index, middle, pinky, ring, thumb; base to tip.
HAND_JOINT_SUFFIXES: tuple[str, ...] = (
    "Index1", "Index2", "Index3", "Middle1", "Middle2", "Middle3",
    "Pinky1", "Pinky2", "Pinky3", "Ring1", "Ring2", "Ring3",
    "Thumb1", "Thumb2", "Thumb3",
)
LEFT_HAND_JOINTS = tuple(f"L_{n}" for n in HAND_JOINT_SUFFIXES)
RIGHT_HAND_JOINTS = tuple(f"R_{n}" for n in HAND_JOINT_SUFFIXES)
FIXED_JOINTS: tuple[str, ...] = ("Pelvis", "Spine1", "Spine2", "Spine3")
#: Fingertips are not SMPL-X joints, but keypoint data has them; they are
#: placed along the last phalanx so IK and keypoint export can use them.
FINGERS: tuple[str, ...] = ("Index", "Middle", "Pinky", "Ring", "Thumb")
TIP_JOINTS: tuple[str, ...] = tuple(f"{s}_{f}Tip" for s in "LR" for f in FINGERS)
JAW = "Jaw"

#: Every joint with a position in forward kinematics, parents before children.
JOINT_NAMES: tuple[str, ...] = (
    FIXED_JOINTS + BODY_JOINTS + LEFT_HAND_JOINTS + RIGHT_HAND_JOINTS + (JAW,) + TIP_JOINTS
)
#: Joints whose rotation the motion stores (body, left hand, right hand, jaw).
ROTATING_JOINTS: tuple[str, ...] = BODY_JOINTS + LEFT_HAND_JOINTS + RIGHT_HAND_JOINTS + (JAW,)

_PARENT_NAMES: dict[str, str | None] = {
    "Pelvis": None, "Spine1": "Pelvis", "Spine2": "Spine1", "Spine3": "Spine2",
    "Neck": "Spine3", "L_Collar": "Spine3", "R_Collar": "Spine3", "Head": "Neck",
    "L_Shoulder": "L_Collar", "R_Shoulder": "R_Collar", "L_Elbow": "L_Shoulder",
    "R_Elbow": "R_Shoulder", "L_Wrist": "L_Elbow", "R_Wrist": "R_Elbow", JAW: "Head",
}
for _side in "LR":
    for _finger in FINGERS:
        _PARENT_NAMES[f"{_side}_{_finger}1"] = f"{_side}_Wrist"
        _PARENT_NAMES[f"{_side}_{_finger}2"] = f"{_side}_{_finger}1"
        _PARENT_NAMES[f"{_side}_{_finger}3"] = f"{_side}_{_finger}2"
        _PARENT_NAMES[f"{_side}_{_finger}Tip"] = f"{_side}_{_finger}3"

PARENTS: tuple[int, ...] = tuple(
    -1 if _PARENT_NAMES[n] is None else JOINT_NAMES.index(_PARENT_NAMES[n]) for n in JOINT_NAMES
)
JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(JOINT_NAMES)}
#: Finger joints and fingertips of both hands: the points whose error "hands" metrics and losses measure.
HAND_POINT_INDICES: tuple[int, ...] = tuple(JOINT_INDEX[n] for n in LEFT_HAND_JOINTS + RIGHT_HAND_JOINTS + TIP_JOINTS)
#: The body points the body metrics score: neck, head, shoulders, elbows, wrists.
BODY_POINT_INDICES: tuple[int, ...] = tuple(JOINT_INDEX[n] for n in ("Neck", "Head", "L_Shoulder", "R_Shoulder",
                                                                     "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist"))
#: Both wrists with those points, in skeleton order: the whole hand, for speed and smoothness measures.
WRIST_AND_HAND_POINT_INDICES: tuple[int, ...] = tuple(sorted((JOINT_INDEX["L_Wrist"], JOINT_INDEX["R_Wrist"],
                                                              *HAND_POINT_INDICES)))
#: Per side ("L", "R"): the wrist, finger joints and fingertips, as position indices.
SIDE_HAND_POINT_INDICES: dict[str, tuple[int, ...]] = {
    side: tuple(i for i in WRIST_AND_HAND_POINT_INDICES if JOINT_NAMES[i].startswith(f"{side}_")) for side in "LR"
}

#: SMPL-X axis-angle jaw offset: the jaw joint sits below and in front of the head joint.
_JAW_OFFSET = np.array([0.0, -0.02, 0.05])
#: Fingertip length as a fraction of the last phalanx (typical human ratio).
_TIP_RATIO = 0.85


def mirror_name(name: str) -> str:
    """The joint on the other side of the body (``L_Elbow`` <-> ``R_Elbow``)."""
    if name.startswith("L_"):
        return "R_" + name[2:]
    if name.startswith("R_"):
        return "L_" + name[2:]
    return name


@dataclass(frozen=True)
class Skeleton:
    """Joint names, parents and rest offsets (metres, SMPL-X frame: +y up, +z forward, +x the signer's left)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (J, 3) local offset from the parent joint at rest

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def rotating_indices(self) -> np.ndarray:
        return np.array([self.names.index(n) for n in ROTATING_JOINTS])

    def rest_positions(self) -> np.ndarray:
        positions = np.zeros_like(self.offsets)
        for j, p in enumerate(self.parents):
            positions[j] = self.offsets[j] if p < 0 else positions[p] + self.offsets[j]
        return positions

    def shoulder_width(self) -> float:
        rest = self.rest_positions()
        return float(np.linalg.norm(rest[self.index("L_Shoulder")] - rest[self.index("R_Shoulder")]))


def _symmetric(offsets: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Average left and right so mirrored poses land on mirrored positions."""
    result = dict(offsets)
    flip = np.array([-1.0, 1.0, 1.0])
    for name, value in offsets.items():
        if name.startswith("L_"):
            other = offsets[mirror_name(name)]
            mean = 0.5 * (value + flip * other)
            result[name] = mean
            result[mirror_name(name)] = flip * mean
        elif not name.startswith("R_"):
            result[name] = value * np.array([0.0, 1.0, 1.0])
    return result


@lru_cache(maxsize=1)
def signing_skeleton() -> Skeleton:
    """The skeleton built from mannequin-x's neutral-shape rest offsets (cached)."""
    from mannequin import Mannequin

    model = Mannequin("wooden", flat_hand_mean=True)
    local = model.forward_skeleton(**{k: v for k, v in model.rest_pose().items() if k != "shape"})
    world = np.asarray(local)[..., :3, 3].astype(np.float64)
    mannequin_index = {n: i for i, n in enumerate(model.joint_names)}
    world_by_name = {n: world[mannequin_index[n]] for n in mannequin_index}
    offsets: dict[str, np.ndarray] = {}
    for name in JOINT_NAMES:
        parent = _PARENT_NAMES[name]
        if name == JAW:
            offsets[name] = _JAW_OFFSET.copy()
        elif name.endswith("Tip"):
            last = world_by_name[parent] - world_by_name[_PARENT_NAMES[parent]]
            offsets[name] = last * _TIP_RATIO
        elif parent is None:
            offsets[name] = world_by_name[name].copy()
        else:
            offsets[name] = world_by_name[name] - world_by_name[parent]
    offsets = _symmetric(offsets)
    return Skeleton(JOINT_NAMES, PARENTS, np.stack([offsets[n] for n in JOINT_NAMES]))
