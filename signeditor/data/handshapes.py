"""Derive the handshape library from the corpus's fingerspelling clips (``signeditor data handshapes``).

Each fingerspelling clip holds one letter. Its handshape is held in the middle of
the letter, so we pool the hand's finger rotations over the central half of the
in-sign frames (observed ones only) and keep the medoid: a real, fitted frame, so
always a valid pose, and robust to the IK's occasional bad frames (a mean of
rotations would blur between them). The signing hand is whichever hand the camera
saw during the letter (some alphabets are signed with the left hand in these
videos; those are mirrored into the right hand's frame). Two-handed alphabets
(e.g. Czech, Croatian, Turkish) keep the raised non-dominant hand too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.handshapes import Handshape, HandshapeLibrary, library_arrays
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
from signeditor.core.rotations import unit_vectors
from signeditor.core.skeleton import FINGERS, ROTATING_JOINTS
from signeditor.data.corpus import ClipRecord
from signeditor.io.atomic import atomic_writer

#: A hand counts as seen in a frame when at least half of its 21 keypoints were detected.
_SEEN_FRACTION = 0.5
#: The non-dominant hand takes part in the letter when its wrist is this far from hips (0) to shoulders (1).
_RAISED_HEIGHT = 0.2


@dataclass
class _LetterFrames:
    dominant: list[np.ndarray] = field(default_factory=list)
    other: list[np.ndarray] = field(default_factory=list)
    clips: int = 0
    two_handed_clips: int = 0


def medoid(samples: np.ndarray) -> np.ndarray:
    """The sample with the smallest summed distance to all others (samples: (N, D))."""
    samples = np.asarray(samples, dtype=np.float64)
    squared = (samples**2).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * samples @ samples.T, 0.0))
    return samples[int(np.argmin(distances.sum(1)))]


def middle_frames(labels: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Indices of the central half of the observed in-sign frames (all observed frames if none are labelled)."""
    observed = ~np.asarray(filled, dtype=bool)
    candidates = np.flatnonzero(observed & (np.asarray(labels) > 0))
    if len(candidates) == 0:
        candidates = np.flatnonzero(observed)
    quarter = len(candidates) // 4
    return candidates[quarter: len(candidates) - quarter] if len(candidates) >= 4 else candidates


def _hand_points(names: list[str], side: str) -> np.ndarray:
    return np.array([i for i, n in enumerate(names) if n.startswith(f"{side}_HAND_LANDMARKS.")], dtype=int)


def _relative_height(keypoints: np.ndarray, names: list[str], point: int) -> float:
    """Mean height of a keypoint between the hips (0) and the shoulders (1)."""
    def mean_y(*wanted: str) -> np.ndarray:
        return np.mean([keypoints[:, names.index(w), 1] for w in wanted], axis=0)

    hips = mean_y("POSE_LANDMARKS.LEFT_HIP", "POSE_LANDMARKS.RIGHT_HIP")
    shoulders = mean_y("POSE_LANDMARKS.LEFT_SHOULDER", "POSE_LANDMARKS.RIGHT_SHOULDER")
    return float(np.mean((keypoints[:, point, 1] - hips) / np.maximum(shoulders - hips, 1e-6)))


def clip_hand_frames(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(dominant frames (N, 90) in the right hand's frame, other-hand frames (M, 90) in the left's, or None).

    None when neither hand was seen during the letter.
    """
    frames = middle_frames(arrays["labels"], arrays["filled"])
    names = [str(n) for n in arrays["keypoint_names"]]
    observed = arrays["keypoint_observed"][frames]
    keypoints = arrays["keypoints"][frames]
    features = arrays["features"][frames]
    seen = {side: observed[:, _hand_points(names, side)].mean(1) >= _SEEN_FRACTION for side in ("RIGHT", "LEFT")}
    if not (seen["RIGHT"].any() or seen["LEFT"].any()):
        return None
    height = {side: _relative_height(keypoints[seen[side]], names, _hand_points(names, side)[0])
              if seen[side].any() else -np.inf for side in ("RIGHT", "LEFT")}
    dominant = max(("RIGHT", "LEFT"), key=lambda side: (seen[side].mean(), height[side]))
    other = "LEFT" if dominant == "RIGHT" else "RIGHT"

    def hand(side: str) -> np.ndarray:
        return features[seen[side]][:, STREAM_SLICES["right_hand" if side == "RIGHT" else "left_hand"]]

    # Stored as if the dominant hand were the right one: a left-dominant clip is mirrored as a whole.
    dominant_frames = hand(dominant) if dominant == "RIGHT" else hand_pose_mirrored(hand(dominant))
    other_frames = None
    if seen[other].mean() >= _SEEN_FRACTION and height[other] >= _RAISED_HEIGHT:
        other_frames = hand(other) if other == "LEFT" else hand_pose_mirrored(hand(other))
    return dominant_frames, other_frames


def build_handshape_library(records: Iterable[ClipRecord]) -> HandshapeLibrary:
    """One handshape per (signed language, letter) from the fingerspelling clips among ``records``."""
    letters: dict[tuple[str, str], _LetterFrames] = defaultdict(_LetterFrames)
    for record in records:
        if record.kind != "fingerspelling":
            continue
        letter = (record.glosses[0] if record.glosses else record.text).strip()
        if not letter:
            continue
        frames = clip_hand_frames(record.load())
        if frames is None:
            continue
        pooled = letters[(record.signed_language, letter)]
        pooled.clips += 1
        pooled.dominant.append(frames[0])
        if frames[1] is not None:
            pooled.two_handed_clips += 1
            pooled.other.append(frames[1])
    handshapes = []
    for (language, letter), pooled in letters.items():
        two_handed = pooled.two_handed_clips * 2 > pooled.clips
        handshapes.append(Handshape(
            language, letter, medoid(np.concatenate(pooled.dominant)).astype(np.float32),
            medoid(np.concatenate(pooled.other)).astype(np.float32) if two_handed else None, pooled.clips,
        ))
    return HandshapeLibrary(handshapes)


def write_handshape_library(library: HandshapeLibrary, path: str | Path) -> Path:
    """Write the library ``.npz`` atomically (compressed: a few hundred KB for ~600 letters)."""
    path = Path(path)
    with atomic_writer(path) as handle:
        np.savez_compressed(handle, **library_arrays(library))
    return path


# --- fingers measured in the clips' own palm frame ---------------------------------------------------------------
#: MediaPipe hand points of each finger (knuckle to tip), index to pinky.
_FINGER_POINTS: dict[str, tuple[int, int, int, int]] = {
    "Index": (5, 6, 7, 8), "Middle": (9, 10, 11, 12), "Ring": (13, 14, 15, 16), "Pinky": (17, 18, 19, 20)}
#: Hand-stream joints (right hand), in feature order.
_HAND_JOINTS: tuple[str, ...] = tuple(j for j in ROTATING_JOINTS if j.startswith("R_") and j[2:-1] in FINGERS)


def finger_angles(points: np.ndarray) -> np.ndarray:
    """(16,) angles in radians from one hand's 21 points (either hand): per finger index to pinky, the bend at
    its three joints towards the palm (positive), then each finger's sideways spread at its knuckle.

    Angles are measured in the hand's own palm frame (wrist to middle knuckle, index to pinky knuckle), so
    they do not depend on where the camera was, how big the hand is, or which hand signs.
    """
    wrist = points[0]
    forward = unit_vectors(points[9] - wrist)
    across = points[5] - points[17]
    across = unit_vectors(across - forward * (across @ forward))
    normal = np.cross(forward, across)
    bends, spreads = [], []
    for chain in _FINGER_POINTS.values():
        joints = [wrist, *(points[k] for k in chain)]
        bones = [joints[k + 1] - joints[k] for k in range(4)]
        pitch = [np.arctan2(b @ normal, b @ forward) for b in bones]
        # A joint bends from slightly back (-60°) to folded over (300°): a fold near 180° must not wrap to -180°.
        bends += [(pitch[k] - pitch[k + 1] + np.pi / 3) % (2 * np.pi) - np.pi / 3 for k in range(3)]
        yaw = [np.arctan2(b @ across, b @ forward) for b in bones[:2]]
        spreads.append(yaw[1] - yaw[0])
    return np.array(bends + spreads)


#: How far a finger's joints bend towards the palm (radians; base knuckle, middle, end) and spread sideways.
BEND_RANGE = np.radians(np.array([[-20.0, 0.0, 0.0], [95.0, 110.0, 80.0]]))
SPREAD_LIMIT = np.radians(25.0)


def anatomical(angles: np.ndarray) -> np.ndarray:
    """:func:`finger_angles` within the joints' ranges, a finger's whole curl kept where it can be.

    The detector's depth is flat, so a fist's bend towards the camera at the base knuckle shows up as an
    impossible fold at the middle one (160°); what a joint cannot take goes to the others, base knuckle first.
    """
    out = np.array(angles, dtype=np.float64, copy=True)
    bends = out[:12].reshape(4, 3)
    for finger in bends:
        clipped = np.clip(finger, *BEND_RANGE)
        excess = float(np.sum(finger - clipped))
        for level in range(3):
            room = BEND_RANGE[1, level] - clipped[level] if excess > 0 else BEND_RANGE[0, level] - clipped[level]
            take = min(excess, room) if excess > 0 else max(excess, room)
            clipped[level] += take
            excess -= take
        finger[:] = clipped
    out[12:] = np.clip(out[12:], -SPREAD_LIMIT, SPREAD_LIMIT)
    return out


def fingers_posed(angles: np.ndarray, dominant: np.ndarray) -> np.ndarray:
    """``dominant`` (90,) with its four fingers set from :func:`finger_angles` (the thumb kept): each joint bent
    towards the palm about the skeleton's flexion axis, each knuckle spread about the palm's normal, within
    the joints' ranges (:func:`anatomical`)."""
    from signeditor.core.skeleton import signing_skeleton

    skeleton = signing_skeleton()
    angles = anatomical(angles)
    pose = np.array(dominant, np.float32, copy=True)
    for i, finger in enumerate(_FINGER_POINTS):
        for level in range(3):
            # Our right hand rests palm down (-y): a bend towards the palm turns about the axis across the bone
            # in the palm's plane, a spread about +y.
            child = f"R_{finger}{level + 2}" if level < 2 else f"R_{finger}Tip"
            bone = skeleton.offsets[skeleton.index(child)]
            axis = unit_vectors(np.cross(bone, np.array([0.0, -1.0, 0.0])))
            rotation = rotations.axis_angle_to_matrix(axis * angles[3 * i + level])
            if level == 0:
                rotation = rotations.axis_angle_to_matrix(np.array([0.0, angles[12 + i], 0.0])) @ rotation
            k = _HAND_JOINTS.index(f"R_{finger}{level + 1}")
            pose[6 * k: 6 * k + 6] = rotations.matrix_to_rot6d(rotation[None])[0]
    return pose


def clip_finger_angles(path: Path) -> np.ndarray | None:
    """(N, 16) :func:`finger_angles` over the middle half of the frames where a letter clip's signing hand (the
    one seen most) is fully detected, from its keypoints as stored (the detector's own depth); None if too few."""
    from pose_format import Pose

    from signeditor.io.errors import FileFormatError, read_file_bytes

    try:
        pose = Pose.read(read_file_bytes(path))
        data = np.ma.getdata(pose.body.data)[:, 0].astype(np.float64)
        confidence = np.asarray(pose.body.confidence)[:, 0]
    except FileFormatError:
        raise
    except Exception as exc:  # pose-format raises many types on damaged input
        raise FileFormatError(path, f"not a readable .pose file ({exc})") from exc
    names = [f"{c.name}.{p}" for c in pose.header.components for p in c.points]
    hands = []
    for side in ("RIGHT", "LEFT"):
        if f"{side}_HAND_LANDMARKS.WRIST" not in names:
            continue
        first = names.index(f"{side}_HAND_LANDMARKS.WRIST")
        points = data[:, first:first + 21].copy()
        points[..., 2] *= float(pose.header.dimensions.width)  # depth in the units of x, as the detector gives it
        hands.append(points[(confidence[:, first:first + 21] > 0).all(axis=1)])
    frames = max(hands, key=len, default=np.zeros((0, 21, 3)))
    if len(frames) < 4:
        return None
    quarter = len(frames) // 4
    angles = np.stack([finger_angles(p) for p in frames[quarter:len(frames) - quarter]])
    # The palm frame's normal depends on the hand's handedness (and a mirrored video swaps it): fingers bend
    # towards the palm, so a clip whose bends come out backwards overall is read the other way round.
    if np.median(angles[:, :12].sum(axis=1)) < 0:
        angles[:, :12] *= -1.0
    return angles


def with_clip_fingers(library: HandshapeLibrary, lexicon_folder: str | Path) -> HandshapeLibrary:
    """``library`` with every letter's four fingers measured from its clips in a fingerspelling lexicon folder
    (the medoid over their held frames); thumbs and the second hand stay.

    The whole-body fit lifts finger depth with the skeleton's hand, which is 1.3–1.9 times the detected hand
    relative to the shoulders: curled fingers became bones pointing at the camera, and S came out a loose claw.
    Bends measured in each clip's palm frame give the fist the clip shows.
    """
    from signeditor.io.lexicon import read_lexicon

    samples: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    for entry in read_lexicon(lexicon_folder).entries:
        if entry.is_letter:
            angles = clip_finger_angles(entry.path)
            if angles is not None:
                samples[(entry.signed_language, entry.words.strip())].append(angles)
    shapes = []
    for shape in library.handshapes:
        found = samples.get((shape.language, shape.letter))
        dominant = shape.dominant if not found else fingers_posed(medoid(np.concatenate(found)), shape.dominant)
        shapes.append(Handshape(shape.language, shape.letter, dominant, shape.other, shape.clips))
    return HandshapeLibrary(shapes)
