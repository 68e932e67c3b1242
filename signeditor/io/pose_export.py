"""Export motion as MediaPipe-holistic ``.pose`` keypoints (543 points), for sign.mt-style tools.

Positions come from forward kinematics. Points the skeleton has no joint for
(legs, most of the 468-point face mesh) are written with confidence 0, which
is how MediaPipe marks missing detections, so readers mask them. Image
coordinates: pixels in a 1000x1000 frame, y down, z towards the camera
negative, the usual MediaPipe orientation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from signeditor.core.ik import FINGER_POINTS
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import Motion
from signeditor.core.skeleton import JOINT_INDEX, signing_skeleton
from signeditor.io.atomic import atomic_writer
from signeditor.io.face_landmarks import face_landmark_offsets
from signeditor.io.pose_reader import HAND_POINTS

POSE_POINTS: tuple[str, ...] = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE", "RIGHT_EYE_OUTER",
    "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
    "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY", "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX",
    "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
    "LEFT_HEEL", "RIGHT_HEEL", "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
)
N_FACE = 468
#: Skeleton joints behind each hand point (MediaPipe order).
#: The skeleton joint behind each MediaPipe hand point: the inverse of the IK's finger-to-point table.
_JOINT_OF_HAND_POINT: dict[str, str] = {"WRIST": "Wrist"} | {
    point: f"{finger}{level + 1}" if level < 3 else f"{finger}Tip"
    for finger, points in FINGER_POINTS.items() for level, point in enumerate(points)
}
_HAND_JOINTS: tuple[str, ...] = tuple(_JOINT_OF_HAND_POINT[p] for p in HAND_POINTS)
_HAND_LIMBS = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
               (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20)]
#: Face landmarks we can place, as offsets in the head's frame (metres); those marked jaw move with the jaw.
_FACE_POINTS: dict[int, tuple[tuple[float, float, float], bool]] = {
    1: ((0.0, 0.03, 0.115), False),  # nose tip
    10: ((0.0, 0.14, 0.09), False),  # forehead
    33: ((-0.045, 0.065, 0.085), False), 133: ((-0.015, 0.065, 0.09), False),  # right eye outer/inner
    263: ((0.045, 0.065, 0.085), False), 362: ((0.015, 0.065, 0.09), False),  # left eye outer/inner
    13: ((0.0, -0.005, 0.1), False), 61: ((-0.025, -0.012, 0.09), False), 291: ((0.025, -0.012, 0.09), False),
    14: ((0.0, -0.025, 0.095), True), 152: ((0.0, -0.065, 0.085), True),  # lower lip, chin
    234: ((-0.075, 0.04, 0.01), False), 454: ((0.075, 0.04, 0.01), False),  # face sides
}
_POSE_FROM_FACE = {"NOSE": 1, "LEFT_EYE": 263, "RIGHT_EYE": 33, "LEFT_EYE_INNER": 362, "RIGHT_EYE_INNER": 133,
                   "LEFT_EYE_OUTER": 263, "RIGHT_EYE_OUTER": 33, "MOUTH_LEFT": 291, "MOUTH_RIGHT": 61,
                   "LEFT_EAR": 454, "RIGHT_EAR": 234}
IMAGE_SIZE = 1000
PIXELS_PER_METRE = 800.0


def holistic_header() -> PoseHeader:
    colour = [(255, 0, 0)]
    components = [
        PoseHeaderComponent("POSE_LANDMARKS", list(POSE_POINTS),
                            [(11, 13), (13, 15), (12, 14), (14, 16), (11, 12), (11, 23), (12, 24), (23, 24)],
                            colour, "XYZC"),
        PoseHeaderComponent("FACE_LANDMARKS", [str(i) for i in range(N_FACE)], [], colour, "XYZC"),
        PoseHeaderComponent("LEFT_HAND_LANDMARKS", list(HAND_POINTS), _HAND_LIMBS, colour, "XYZC"),
        PoseHeaderComponent("RIGHT_HAND_LANDMARKS", list(HAND_POINTS), _HAND_LIMBS, colour, "XYZC"),
    ]
    return PoseHeader(0.1, PoseHeaderDimensions(IMAGE_SIZE, IMAGE_SIZE, IMAGE_SIZE), components)


def holistic_keypoints(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(T, 543, 3) skeleton-frame positions and (T, 543) confidence for the holistic layout."""
    positions, world = forward_kinematics(motion.features, with_rotations=True)
    n = motion.n_frames
    points = np.zeros((n, len(POSE_POINTS) + N_FACE + 2 * len(HAND_POINTS), 3))
    confidence = np.zeros(points.shape[:2], np.float32)

    def put(index: int, value: np.ndarray) -> None:
        points[:, index] = value
        confidence[:, index] = 1.0

    face_base = len(POSE_POINTS)
    head, jaw = JOINT_INDEX["Head"], JOINT_INDEX["Jaw"]
    jaw_offset = signing_skeleton().offsets[jaw]
    for landmark, (offset, on_jaw) in _FACE_POINTS.items():
        joint = jaw if on_jaw else head
        anchor = positions[:, head] if not on_jaw else positions[:, jaw]
        local = np.asarray(offset) - (jaw_offset if on_jaw else 0.0)
        put(face_base + landmark, anchor + world[:, joint] @ local)
    if motion.face is not None:  # the face channel's expression (brows, lids, lips), carried by the head
        for landmark, offset in face_landmark_offsets(motion.face).items():
            if landmark != 152:  # the chin stays on the jaw
                put(face_base + landmark, positions[:, head] + np.einsum("tij,tj->ti", world[:, head], offset))
    for name, landmark in _POSE_FROM_FACE.items():
        put(POSE_POINTS.index(name), points[:, face_base + landmark])
    for side, word in (("L", "LEFT"), ("R", "RIGHT")):
        for joint in ("Shoulder", "Elbow", "Wrist"):
            put(POSE_POINTS.index(f"{word}_{joint.upper()}"), positions[:, JOINT_INDEX[f"{side}_{joint}"]])
        for pose_name, joint in (("PINKY", "Pinky1"), ("INDEX", "Index1"), ("THUMB", "Thumb2")):
            put(POSE_POINTS.index(f"{word}_{pose_name}"), positions[:, JOINT_INDEX[f"{side}_{joint}"]])
        hip = positions[:, JOINT_INDEX["Pelvis"]] + np.array([0.09 if side == "L" else -0.09, 0.0, 0.0])
        put(POSE_POINTS.index(f"{word}_HIP"), hip)
        hand_base = face_base + N_FACE + (0 if side == "L" else len(HAND_POINTS))
        for k, joint in enumerate(_HAND_JOINTS):
            put(hand_base + k, positions[:, JOINT_INDEX[f"{side}_{joint}"]])
    return points, confidence


def motion_to_pose(motion: Motion) -> Pose:
    points, confidence = holistic_keypoints(motion)
    centre = np.array([IMAGE_SIZE / 2, IMAGE_SIZE * 0.45, 0.0])
    pixels = points * np.array([PIXELS_PER_METRE, -PIXELS_PER_METRE, -PIXELS_PER_METRE]) + centre
    pixels[confidence == 0] = 0.0
    data = np.ma.masked_array(pixels[:, None].astype(np.float32),
                              mask=np.repeat((confidence == 0)[:, None, :, None], 3, axis=-1))
    body = NumPyPoseBody(motion.fps, data, confidence[:, None])
    return Pose(holistic_header(), body)


def write_pose(motion: Motion, path: str | Path) -> None:
    pose = motion_to_pose(motion)
    with atomic_writer(path) as handle:
        pose.write(handle)
