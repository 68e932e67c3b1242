"""Retarget our joint rotations onto any humanoid avatar's own rest pose (numpy only).

Avatars differ from our skeleton in rest pose (T or A pose, curled or flat fingers), bone axes and proportions,
so local rotations cannot be copied. For every bone we map, a rest-orientation correction ``C`` is measured once:
the rotation taking the avatar bone's rest frame (its direction to its child, twisted by the palm or body axes)
onto our bone's rest frame. A frame's world rotation ``W`` from our forward kinematics then gives the avatar
bone's world orientation ``W C R_rest``; its position comes from its own rest offsets, so proportions are kept.
Bones we do not drive (spine, legs, eyes, twist or end bones) follow their parent rigidly.

Bone names are found from a VRM 0.x / 1.0 humanoid map when the file has one, else from the node names
(VALID and Mixamo, SMPL-X, ours). Missing bones are reported in ``notes`` and simply follow their parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import FINGERS, JOINT_INDEX, JOINT_NAMES, signing_skeleton

_SIDES = {"L": "left", "R": "right"}
#: VRM finger words per our finger names.
_VRM_FINGER = {"Index": "index", "Middle": "middle", "Ring": "ring", "Pinky": "little", "Thumb": "thumb"}
#: Joints an avatar must have to be driven at all.
REQUIRED_JOINTS: tuple[str, ...] = tuple(f"{s}_{j}" for s in "LR" for j in ("Shoulder", "Elbow", "Wrist"))
#: Bones that keep the avatar's own rest posture and turn with ours from our rest, instead of being turned onto
#: our skeleton's bone directions: our clavicles rise 26° to the shoulders and our neck is nearly upright, while
#: an avatar is modelled with level shoulders and a forward-leaning neck, so matching directions raised its
#: shoulders into the jacket and tipped its head back (a hunched look). Our motions barely turn these bones.
POSTURE_JOINTS: frozenset[str] = frozenset({"L_Collar", "R_Collar", "Neck", "Head", "Jaw"})
#: Our joints (and fingertips) an avatar bone can stand for.
DRIVEN_JOINTS: tuple[str, ...] = tuple(n for n in JOINT_NAMES if n not in ("Pelvis", "Spine1", "Spine2", "Spine3"))


def canonical_name(name: str) -> str:
    """Node name without rig prefixes (``mixamorig:``, ``Armature|``), lower case."""
    return re.sub(r"^mixamorig_?", "", re.sub(r"^.*[:|]", "", name).lower()).replace(" ", "")


def _name_tables(vrm_version: int) -> dict[str, str]:
    """Canonical bone name -> our joint, for every naming family (one dictionary: their names do not clash)."""
    table = {"neck": "Neck", "head": "Head", "jaw": "Jaw"}
    thumb_levels = ("metacarpal", "proximal", "distal") if vrm_version == 1 else ("proximal", "intermediate", "distal")
    for side, word in _SIDES.items():
        table |= {  # Mixamo / VALID, then VRM, then SMPL-X, then ours
            f"{word}shoulder": f"{side}_Collar", f"{word}arm": f"{side}_Shoulder",
            f"{word}forearm": f"{side}_Elbow", f"{word}hand": f"{side}_Wrist",
            f"{word}upperarm": f"{side}_Shoulder", f"{word}lowerarm": f"{side}_Elbow",
            f"{word}_collar": f"{side}_Collar", f"{word}_shoulder": f"{side}_Shoulder",
            f"{word}_elbow": f"{side}_Elbow", f"{word}_wrist": f"{side}_Wrist",
        }
        for joint in ("Collar", "Shoulder", "Elbow", "Wrist"):
            table[f"{side.lower()}_{joint.lower()}"] = f"{side}_{joint}"
        for finger in FINGERS:
            vrm = _VRM_FINGER[finger]
            levels = thumb_levels if finger == "Thumb" else ("proximal", "intermediate", "distal")
            for level in (1, 2, 3):
                ours = f"{side}_{finger}{level}"
                table[f"{word}hand{finger.lower()}{level}"] = ours
                table[f"{word}{vrm}{levels[level - 1]}"] = ours
                table[f"{word}_{finger.lower()}{level}"] = ours
                table[f"{side.lower()}_{finger.lower()}{level}"] = ours
            table[f"{word}hand{finger.lower()}4"] = f"{side}_{finger}Tip"
            table[f"{side.lower()}_{finger.lower()}tip"] = f"{side}_{finger}Tip"
    return table


@dataclass
class HumanoidBones:
    """Which avatar node drives which of our joints, and how that was found."""

    nodes: dict[str, int]  # our joint name -> avatar node index
    source: str  # "vrm1", "vrm0" or "names"
    notes: list[str] = field(default_factory=list)
    eyes: dict[str, int] = field(default_factory=dict)  # "L"/"R" -> eye node (turned by the face channel's gaze)


#: Eye bone names (canonical), per side: VRM, VALID/Mixamo, SMPL-X-like.
_EYE_NAMES = {"L": {"lefteye", "left_eye", "l_eye", "eye_l", "eye.l"},
              "R": {"righteye", "right_eye", "r_eye", "eye_r", "eye.r"}}


def find_humanoid_bones(node_names: list[str], extensions: dict | None = None) -> HumanoidBones:
    """Map our joints to avatar nodes from the VRM humanoid map, else from node names."""
    extensions = extensions or {}
    vrm1 = extensions.get("VRMC_vrm", {}).get("humanoid", {}).get("humanBones")
    vrm0 = extensions.get("VRM", {}).get("humanoid", {}).get("humanBones")
    if isinstance(vrm1, dict):
        bones = {bone: spec.get("node") for bone, spec in vrm1.items() if isinstance(spec, dict)}
        version, source = 1, "vrm1"
    elif isinstance(vrm0, list):
        bones = {spec.get("bone"): spec.get("node") for spec in vrm0 if isinstance(spec, dict)}
        version, source = 0, "vrm0"
    else:
        version = 1 if any("thumbmetacarpal" in canonical_name(n) for n in node_names) else 0
        bones = {n: i for i, n in enumerate(node_names)}
        source = "names"
    table = _name_tables(version)
    nodes: dict[str, int] = {}
    for bone, node in bones.items():
        ours = table.get(canonical_name(str(bone)))
        if ours is not None and isinstance(node, int) and 0 <= node < len(node_names) and ours not in nodes:
            nodes[ours] = node
    eyes = {side: node for bone, node in bones.items() for side, names in _EYE_NAMES.items()
            if canonical_name(str(bone)) in names and isinstance(node, int) and 0 <= node < len(node_names)}
    result = HumanoidBones(nodes, source, eyes=eyes)
    missing = [n for n in DRIVEN_JOINTS if n not in nodes and not n.endswith("Tip") and n != "Jaw"]
    if missing:
        result.notes.append(f"missing bones (they follow their parent): {', '.join(missing)}")
    return result


def topological_order(parents: np.ndarray) -> list[int]:
    """Nodes with every parent before its children (in glTF a parent may come after its children)."""
    order: list[int] = []
    state = np.zeros(len(parents), dtype=bool)
    for start in range(len(parents)):
        chain = []
        node = start
        while node >= 0 and not state[node]:
            state[node] = True
            chain.append(node)
            node = int(parents[node])
        order.extend(reversed(chain))
    return order


# --- rest frames --------------------------------------------------------------------------------------------------

def _child(joint: str, present: set[str]) -> str | None:
    """The joint our bone points to (the first present candidate)."""
    side = joint[:2]
    candidates: list[str] = []
    if joint == "Neck":
        candidates = ["Head"]
    elif joint.endswith("Collar"):
        candidates = [f"{side}Shoulder"]
    elif joint.endswith("_Shoulder"):
        candidates = [f"{side}Elbow"]
    elif joint.endswith("Elbow"):
        candidates = [f"{side}Wrist"]
    elif joint.endswith("Wrist"):
        candidates = [f"{side}Middle1", f"{side}Ring1", f"{side}Index1"]
    elif joint[-1] in "123" and joint[2:-1] in FINGERS:
        candidates = [f"{joint[:-1]}{int(joint[-1]) + 1}" if joint[-1] != "3" else f"{joint[:-1]}Tip"]
    return next((c for c in candidates if c in present), None)


def _rest_frames(positions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An orthonormal rest frame (3x3, columns) per joint, defined identically for both skeletons."""
    present = set(positions)
    up = np.array([0.0, 1.0, 0.0])
    left = positions["L_Shoulder"] - positions["R_Shoulder"]
    left = left - up * left[1]
    forward = np.cross(left, up)
    head_up = positions["Head"] - positions["Neck"] if {"Head", "Neck"} <= present else up

    def across(side: str) -> np.ndarray:
        for finger in ("Pinky1", "Ring1", "Middle1"):
            if f"{side}Index1" in present and f"{side}{finger}" in present:
                return positions[f"{side}Index1"] - positions[f"{side}{finger}"]
        return forward

    frames: dict[str, np.ndarray] = {}
    for joint in present:
        if joint.endswith("Tip"):
            continue
        side = joint[:2]
        child = _child(joint, present)
        if joint in ("Head", "Jaw") or (joint == "Neck" and child is None):
            frames[joint] = rotations.frame_from_vectors(head_up, left)
            continue
        if child is None:
            continue  # filled from the parent below
        primary = positions[child] - positions[joint]
        if joint == "Neck":
            secondary = left
        elif joint.endswith("Collar"):
            secondary = forward
        elif "Thumb" in joint:
            wrist_to_middle = (positions.get(f"{side}Middle1", positions[joint]) - positions[f"{side}Wrist"])
            secondary = np.cross(across(side), wrist_to_middle)
        else:
            secondary = across(side)
        frames[joint] = rotations.frame_from_vectors(primary, secondary)
    return frames


class AvatarRetargeter:
    """Poses an avatar's node hierarchy from our motion features; see the module docstring."""

    def __init__(self, parents: np.ndarray, rest_world: np.ndarray, bones: HumanoidBones) -> None:
        missing = [j for j in REQUIRED_JOINTS if j not in bones.nodes]
        if missing:
            raise ValueError(f"the avatar has no recognisable arms (missing {', '.join(missing)}); "
                             "expected VRM humanoid bones or VALID/Mixamo/SMPL-X bone names")
        self.parents = np.asarray(parents, np.int64)
        self.bones = bones
        self.order = topological_order(self.parents)
        ours = signing_skeleton().rest_positions()
        our_positions = {n: ours[JOINT_INDEX[n]] for n in bones.nodes}
        avatar = {n: rest_world[node, :3, 3] for n, node in bones.nodes.items()}
        # Root alignment: turn about +y so the avatar's left shoulder is on +x (we face +z), then put its
        # shoulder centre on ours.
        left = avatar["L_Shoulder"] - avatar["R_Shoulder"]
        yaw = np.arctan2(left[2], left[0])
        self.root_rotation = rotations.axis_angle_to_matrix(np.array([0.0, yaw, 0.0]))
        centre_avatar = self.root_rotation @ (0.5 * (avatar["L_Shoulder"] + avatar["R_Shoulder"]))
        centre_ours = 0.5 * (ours[JOINT_INDEX["L_Shoulder"]] + ours[JOINT_INDEX["R_Shoulder"]])
        align = np.eye(4)
        align[:3, :3] = self.root_rotation
        align[:3, 3] = centre_ours - centre_avatar
        self.align = align
        self.rest_world = align @ rest_world
        aligned = {n: self.rest_world[node, :3, 3] for n, node in bones.nodes.items()}
        frames_avatar = _rest_frames(aligned)
        frames_ours = _rest_frames({n: our_positions[n] for n in aligned})
        n_nodes = len(self.parents)
        self.driver = np.full(n_nodes, -1, np.int64)  # our joint index driving each node (-1: follows its parent)
        self.correction = np.tile(np.eye(3), (n_nodes, 1, 1))
        for joint, node in bones.nodes.items():
            if joint.endswith("Tip"):
                continue
            frame_joint = joint
            while frame_joint not in frames_avatar:  # distal bones without a tip: their parent's correction
                frame_joint = JOINT_NAMES[signing_skeleton().parents[JOINT_INDEX[frame_joint]]]
            self.driver[node] = JOINT_INDEX[joint]
            if joint in POSTURE_JOINTS:
                continue  # the avatar's own posture at our rest; our turns from rest applied on top
            self.correction[node] = frames_ours[frame_joint] @ frames_avatar[frame_joint].T

    def world_transforms(self, features: np.ndarray, gaze: np.ndarray | None = None) -> np.ndarray:
        """Posed world transforms (T, N, 4, 4) of every avatar node for features (T, 246), in our frame.

        ``gaze`` (T, 2): eye turns in radians relative to the head, yaw (+ towards the signer's left) and pitch
        (+ down), for avatars with eye bones.
        """
        features = np.atleast_2d(np.asarray(features, np.float64))
        _, ours = forward_kinematics(features, with_rotations=True)
        n_frames = len(features)
        eye_turn = None
        if gaze is not None and self.bones.eyes:
            gaze = np.asarray(gaze, np.float64).reshape(n_frames, 2)
            zeros = np.zeros(n_frames)
            eye_turn = (rotations.axis_angle_to_matrix(np.stack([zeros, gaze[:, 0], zeros], -1))
                        @ rotations.axis_angle_to_matrix(np.stack([gaze[:, 1], zeros, zeros], -1)))
        eye_nodes = set(self.bones.eyes.values())
        delta = np.empty((n_frames, len(self.parents), 3, 3))
        world = np.zeros((n_frames, len(self.parents), 4, 4))
        world[:, :, 3, 3] = 1.0
        rest = self.rest_world
        for node in self.order:
            parent = self.parents[node]
            if self.driver[node] >= 0:
                delta[:, node] = ours[:, self.driver[node]] @ self.correction[node]
            elif parent >= 0:
                delta[:, node] = delta[:, parent]
                if eye_turn is not None and node in eye_nodes:
                    delta[:, node] = delta[:, parent] @ eye_turn
            else:
                delta[:, node] = np.eye(3)
            world[:, node, :3, :3] = delta[:, node] @ rest[node, :3, :3]
            if parent < 0:
                world[:, node, :3, 3] = rest[node, :3, 3]
            else:
                offset = rest[node, :3, 3] - rest[parent, :3, 3]
                world[:, node, :3, 3] = world[:, parent, :3, 3] + delta[:, parent] @ offset
        return world

    def joint_positions(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """World positions (T, 3) of the avatar's mapped joints, fingertips extrapolated when it has none."""
        world = self.world_transforms(features)
        positions = {joint: world[:, node, :3, 3] for joint, node in self.bones.nodes.items()}
        for side in "LR":
            for finger in FINGERS:
                tip, distal, middle = (f"{side}_{finger}{k}" for k in ("Tip", 3, 2))
                if tip not in positions and distal in positions and middle in positions:
                    positions[tip] = positions[distal] + 0.85 * (positions[distal] - positions[middle])
        return positions
