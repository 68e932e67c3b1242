"""Author the bundled sample project from hand-set poses (no third-party data).

A short greeting phrase: rest, a raised open hand with a wave, a fist (the
fingerspelled A of many alphabets), a pointing index, a two-handed flat
hand, rest. Run ``python resources/samples/make_sample.py`` to rebuild
``sample.signproj``; the dense motion between the anchors comes from the
same interpolation the editor falls back to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.core.skeleton import FINGERS, ROTATING_JOINTS
from signeditor.io.project_file import save_project

FPS = 25.0
OUT = Path(__file__).with_name("sample.signproj")


def _euler(order: str, angles: list[float]) -> np.ndarray:
    return Rotation.from_euler(order, angles).as_rotvec()


def _curl(side: str, fingers: tuple[str, ...], amount: float) -> dict[str, np.ndarray]:
    """Bend the given fingers towards the palm (amount 0 = flat, 1 = fist)."""
    sign = 1.0 if side == "R" else -1.0
    joints: dict[str, np.ndarray] = {}
    for finger in fingers:
        for k, scale in ((1, 1.4), (2, 1.6), (3, 1.0)):
            if finger == "Thumb":
                joints[f"{side}_Thumb{k}"] = np.array([0.0, -sign * 0.5 * amount, sign * 0.4 * amount]) * (k > 1)
            else:
                joints[f"{side}_{finger}{k}"] = np.array([0.0, 0.0, sign * scale * amount])
    return joints


def _pose(joints: dict[str, np.ndarray]) -> np.ndarray:
    aa = np.zeros((len(ROTATING_JOINTS), 3))
    for name, value in joints.items():
        aa[ROTATING_JOINTS.index(name)] = value
    return rotations.axis_angle_to_rot6d(aa).reshape(-1).astype(np.float32)


ARMS_DOWN = {"R_Shoulder": np.array([0, 0, 1.25]), "L_Shoulder": np.array([0, 0, -1.25]),
             "R_Elbow": np.array([0, 0.2, 0]), "L_Elbow": np.array([0, -0.2, 0])}
RELAXED = {**_curl("R", FINGERS, 0.25), **_curl("L", FINGERS, 0.25)}


def _right_arm(raise_forward: float, elbow: float, wrist_twist: float = 0.0, wrist_wave: float = 0.0) -> dict:
    return {
        "R_Shoulder": _euler("zx", [1.2, -raise_forward]),
        "R_Elbow": np.array([0.0, elbow, 0.0]),
        "R_Wrist": _euler("xz", [wrist_twist, wrist_wave]),
    }


def authored_anchors() -> list[tuple[int, dict, str]]:
    left_rest = {k: v for k, v in ARMS_DOWN.items() if k.startswith("L")}
    open_hand = _curl("L", FINGERS, 0.25)
    return [
        (0, {**ARMS_DOWN, **RELAXED}, "rest"),
        (14, {**left_rest, **open_hand, **_right_arm(0.6, 2.3, -1.2), **_curl("R", FINGERS, 0.0)}, "HELLO onset"),
        (20, {**left_rest, **open_hand, **_right_arm(0.6, 2.3, -1.2, 0.4)}, "HELLO middle"),
        (26, {**left_rest, **open_hand, **_right_arm(0.6, 2.3, -1.2, -0.3)}, "HELLO offset"),
        (42, {**left_rest, **open_hand, **_right_arm(0.3, 1.8),
              **_curl("R", ("Index", "Middle", "Ring", "Pinky"), 1.0), **_curl("R", ("Thumb",), 0.3)}, "A"),
        (58, {**left_rest, **open_hand, **_right_arm(0.5, 1.6),
              **_curl("R", ("Middle", "Ring", "Pinky", "Thumb"), 1.0)}, "POINT"),
        (76, {"R_Shoulder": _euler("zx", [1.1, -0.5]), "L_Shoulder": _euler("zx", [-1.1, -0.5]),
              "R_Elbow": np.array([0.0, 1.9, 0.0]), "L_Elbow": np.array([0.0, -1.9, 0.0]),
              "R_Wrist": _euler("x", [-1.4]), "L_Wrist": _euler("x", [-1.4])}, "TOGETHER"),
        (99, {**ARMS_DOWN, **RELAXED}, "rest"),
    ]


def build_sample() -> Project:
    n_frames = 100
    anchors = AnchorSet(Anchor(frame, _pose(joints), label=label) for frame, joints, label in authored_anchors())
    motion = Motion(FPS, interpolate_between_anchors(n_frames, anchors, method="cubic", fps=FPS))
    segments = [Segment(12, 28, "HELLO"), Segment(38, 46, "A"), Segment(54, 62, "POINT"), Segment(70, 82, "TOGETHER")]
    return Project(motion, anchors, segments, text="Hello!", spoken_language="en", signed_language="ase",
                   model_versions={"interpolation": "cubic"}, source="authored by resources/samples/make_sample.py")


if __name__ == "__main__":
    save_project(build_sample(), OUT)
    print(f"wrote {OUT}")
