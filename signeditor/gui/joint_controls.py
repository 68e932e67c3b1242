"""Joints in a translator's terms: plain names grouped by body part, hand and finger, and three controls per
joint (curl / spread / twist for fingers, bend / side / twist for elbow and wrist, forward / down / twist for the
shoulder, nod / turn / tilt for the head) with
limits a human joint can reach.

The three angles are Euler angles in a frame made for each joint from the rest
skeleton: *twist* turns about the bone, *curl* (or *bend*) about the axis the
joint flexes around, *spread* (or *side*) about the third. In the rest pose
every local frame is aligned with the world (flat hands, palms down), so the
frame is the same for the joint's local rotation. Order: twist first, then
spread, then curl, so curling a twisted finger still closes it towards the palm.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from signeditor.core.skeleton import ROTATING_JOINTS, signing_skeleton

#: Palm normal of the rest pose (palms face down), and the direction the body faces.
_PALM = np.array([0.0, -1.0, 0.0])
_FORWARD = np.array([0.0, 0.0, 1.0])
#: Reflection through the body's midline (x -> -x): the left side's frames are the right side's, mirrored.
_MIRROR = np.diag([-1.0, 1.0, 1.0])
SIDE_NAMES = {"R": "Right", "L": "Left"}
FINGER_NAMES = {"Thumb": "Thumb", "Index": "Index finger", "Middle": "Middle finger", "Ring": "Ring finger",
                "Pinky": "Little finger"}
LEVEL_NAMES = {"1": "base", "2": "middle", "3": "tip"}
#: Finger order on a hand, thumb first (as a translator counts them).
FINGER_ORDER = ("Thumb", "Index", "Middle", "Ring", "Pinky")


@dataclass(frozen=True)
class JointControls:
    """Names and limits (degrees) of one joint's three controls, in the order curl, spread, twist."""

    joint: str
    label: str
    group: str
    names: tuple[str, str, str]
    limits: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    #: Columns: twist axis (along the bone), spread axis, curl axis (orthonormal; mirrored on the left side).
    basis: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _basis(bone: np.ndarray, curl_axis: np.ndarray) -> np.ndarray:
    twist = _unit(bone)
    curl = _unit(curl_axis - np.dot(curl_axis, twist) * twist)
    spread = np.cross(curl, twist)
    return np.stack([twist, spread, curl], axis=1)


_FINGER_LIMITS = {
    "1": ((-20.0, 90.0), (-30.0, 30.0), (-20.0, 20.0)),
    "2": ((-10.0, 110.0), (-10.0, 10.0), (-10.0, 10.0)),
    "3": ((-10.0, 90.0), (-10.0, 10.0), (-10.0, 10.0)),
}
_THUMB_LIMITS = {
    "1": ((-40.0, 70.0), (-45.0, 60.0), (-60.0, 60.0)),
    "2": ((-20.0, 70.0), (-20.0, 20.0), (-30.0, 30.0)),
    "3": ((-20.0, 90.0), (-15.0, 15.0), (-15.0, 15.0)),
}
_BODY = {  # joint suffix: (label, names, limits, child to aim the bone at)
    "Collar": ("collarbone", ("Forward", "Down", "Twist"), ((-25.0, 25.0), (-30.0, 20.0), (-20.0, 20.0)),
               "Shoulder"),
    "Shoulder": ("shoulder", ("Forward", "Down", "Twist"), ((-60.0, 150.0), (-100.0, 100.0), (-90.0, 90.0)),
                 "Elbow"),
    "Elbow": ("elbow", ("Bend", "Side", "Twist"), ((-10.0, 150.0), (-20.0, 20.0), (-90.0, 90.0)), "Wrist"),
    "Wrist": ("wrist", ("Bend", "Side", "Twist"), ((-80.0, 80.0), (-40.0, 40.0), (-90.0, 90.0)), "Middle1"),
}


@lru_cache(maxsize=1)
def joint_controls() -> dict[str, JointControls]:
    """Every rotating joint's controls, keyed by its skeleton name."""
    skeleton = signing_skeleton()

    def bone(child: str) -> np.ndarray:
        return skeleton.offsets[skeleton.index(child)]

    out: dict[str, JointControls] = {}
    for joint in ROTATING_JOINTS:
        if joint in ("Neck", "Head", "Jaw"):
            # Nod (chin down) about the sideways axis, turn about up, tilt about forward.
            basis = np.stack([_FORWARD, np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0])], axis=1)
            limits = {"Neck": ((-40.0, 40.0), (-60.0, 60.0), (-30.0, 30.0)),
                      "Head": ((-45.0, 45.0), (-70.0, 70.0), (-35.0, 35.0)),
                      "Jaw": ((-5.0, 30.0), (-10.0, 10.0), (-5.0, 5.0))}[joint]
            names = ("Open", "Side", "Tilt") if joint == "Jaw" else ("Nod", "Turn", "Tilt")
            out[joint] = JointControls(joint, joint, "Head and neck", names, limits, basis)
            continue
        side, part = joint.split("_", 1)
        side_name = SIDE_NAMES[side]
        if part.rstrip("123") in FINGER_NAMES:
            finger, level = part[:-1], part[-1]
            child = f"R_{finger}{int(level) + 1}" if level != "3" else f"R_{finger}Tip"
            direction = bone(child)
            basis = _basis(direction, np.cross(direction, _PALM))
            limits = (_THUMB_LIMITS if finger == "Thumb" else _FINGER_LIMITS)[level]
            label, group, names = f"{FINGER_NAMES[finger]}, {LEVEL_NAMES[level]} joint", "hand", ("Curl", "Spread",
                                                                                                   "Twist")
        else:
            label, names, limits, child = _BODY[part]
            direction = bone(f"R_{child}")
            flexes_forward = part in ("Elbow", "Shoulder", "Collar")
            basis = _basis(direction, np.cross(direction, _FORWARD if flexes_forward else _PALM))
            label, group = label.capitalize(), "arm"
        if side == "L":
            basis = _MIRROR @ basis  # same angles, mirrored motion
        out[joint] = JointControls(joint, label, f"{side_name} {group}", names, limits, basis)
    return out


def groups() -> dict[str, list[JointControls]]:
    """Group name -> its joints, in the order a translator reads a figure: head, right arm and hand, left."""
    order = ["Head and neck", "Right arm", "Right hand", "Left arm", "Left hand"]
    controls = joint_controls()
    grouped: dict[str, list[JointControls]] = {g: [] for g in order}
    for c in controls.values():
        grouped[c.group].append(c)
    for name in ("Right hand", "Left hand"):
        grouped[name].sort(key=lambda c: (FINGER_ORDER.index(c.joint.split("_")[1][:-1]), c.joint[-1]))
    return grouped


def euler_xyz_to_matrix(degrees: np.ndarray) -> np.ndarray:
    """R = Rz @ Ry @ Rx (extrinsic x, then y, then z)."""
    x, y, z = np.radians(np.asarray(degrees, dtype=np.float64))
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return rz @ ry @ rx


def matrix_to_euler_xyz(matrix: np.ndarray) -> np.ndarray:
    """Inverse of :func:`euler_xyz_to_matrix` (degrees; y clamped at the gimbal poles)."""
    m = np.asarray(matrix, dtype=np.float64)
    y = np.arcsin(np.clip(-m[2, 0], -1.0, 1.0))
    if abs(m[2, 0]) < 0.999999:
        x = np.arctan2(m[2, 1], m[2, 2])
        z = np.arctan2(m[1, 0], m[0, 0])
    else:
        x = np.arctan2(-m[1, 2], m[1, 1])
        z = 0.0
    return np.degrees([x, y, z])


def angles_of(controls: JointControls, rotation: np.ndarray) -> np.ndarray:
    """(curl, spread, twist) degrees of a local rotation matrix."""
    twist, spread, curl = matrix_to_euler_xyz(controls.basis.T @ rotation @ controls.basis)
    return np.array([curl, spread, twist])


def rotation_of(controls: JointControls, angles: np.ndarray) -> np.ndarray:
    """The local rotation matrix for (curl, spread, twist) degrees."""
    curl, spread, twist = np.asarray(angles, dtype=np.float64)
    return controls.basis @ euler_xyz_to_matrix(np.array([twist, spread, curl])) @ controls.basis.T
