"""Read ``.pose`` keypoint files (MediaPipe holistic, reduced holistic, hand-only) into the skeleton frame.

Points are addressed by ``"COMPONENT.POINT"`` names taken from the file's
header, never by offsets, because the layouts in the wild (543/576-point
holistic, the 178-point reduced holistic, single hands) order and subset
points differently. The result is already in the skeleton frame and scale so
IK, evaluation and the corpus all compare like with like.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.skeleton import signing_skeleton
from signeditor.io.errors import FileFormatError, read_file_bytes

POSE = "POSE_LANDMARKS"
FACE = "FACE_LANDMARKS"
LEFT_HAND = "LEFT_HAND_LANDMARKS"
RIGHT_HAND = "RIGHT_HAND_LANDMARKS"
#: Components we map; others (e.g. POSE_WORLD_LANDMARKS) are metric duplicates or unknown and ignored.
KNOWN_COMPONENTS: tuple[str, ...] = (POSE, FACE, LEFT_HAND, RIGHT_HAND)
HAND_POINTS: tuple[str, ...] = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP",
    "INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)
SIDE_HAND: dict[str, str] = {"L": LEFT_HAND, "R": RIGHT_HAND}
SIDE_WORD: dict[str, str] = {"L": "LEFT", "R": "RIGHT"}


@dataclass
class PoseKeypoints:
    """Keypoints of one signer in the skeleton frame (metres, +y up, +z forward, +x the signer's left).

    ``positions`` are gap-filled (interpolated over time, held at the ends);
    ``observed`` says which entries were really detected, so IK can flag
    filled frames and use a rest pose for groups that never appear.
    """

    fps: float
    names: tuple[str, ...]
    positions: np.ndarray  # (T, K, 3) float64
    observed: np.ndarray  # (T, K) bool
    source: Path | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {n: i for i, n in enumerate(self.names)}

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    def has(self, *names: str) -> bool:
        return all(n in self._index for n in names)

    def index(self, name: str) -> int:
        return self._index[name]

    def point(self, name: str) -> np.ndarray:
        return self.positions[:, self._index[name]]

    def seen(self, name: str) -> np.ndarray:
        return self.observed[:, self._index[name]]

    def group_seen(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Per frame: every one of ``names`` observed (False where a name is absent from the layout)."""
        if not self.has(*names):
            return np.zeros(self.n_frames, dtype=bool)
        return np.all(self.observed[:, [self._index[n] for n in names]], axis=1)


def fill_gaps(positions: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Interpolate each point over unobserved frames; hold the first/last observation at the ends.

    Points never observed are left at zero; callers check ``observed`` for them.
    """
    out = positions.copy()
    n_frames = positions.shape[0]
    frames = np.arange(n_frames)
    partial = np.flatnonzero(observed.any(axis=0) & ~observed.all(axis=0))
    for k in partial:
        seen = observed[:, k]
        for axis in range(3):
            out[:, k, axis] = np.interp(frames, frames[seen], positions[seen, k, axis])
    out[:, ~observed.any(axis=0)] = 0.0
    return out


def normalise_to_skeleton(
    names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray, path: Path | str
) -> np.ndarray:
    """Scale so the shoulder width matches the skeleton's and put the shoulders' midpoint on the skeleton's.

    Per-frame centring removes camera-relative body sway, which the fixed
    spine of the skeleton cannot express anyway. Hand-only files are scaled by
    the palm length and put at the skeleton's wrist instead.
    """
    skeleton = signing_skeleton()
    rest = skeleton.rest_positions()
    index = {n: i for i, n in enumerate(names)}
    ls, rs = index.get(f"{POSE}.LEFT_SHOULDER"), index.get(f"{POSE}.RIGHT_SHOULDER")
    if ls is not None and rs is not None and observed[:, [ls, rs]].all(axis=1).any():
        both = observed[:, ls] & observed[:, rs]
        width = np.median(np.linalg.norm(positions[both, ls] - positions[both, rs], axis=-1))
        if not width > 1e-9:
            raise FileFormatError(path, "shoulders coincide: cannot scale the keypoints")
        scale = skeleton.shoulder_width() / width
        mid = 0.5 * (positions[:, ls] + positions[:, rs])
        target = 0.5 * (rest[skeleton.index("L_Shoulder")] + rest[skeleton.index("R_Shoulder")])
        return (positions - mid[:, None]) * scale + target
    for side, hand in SIDE_HAND.items():
        wrist, middle = index.get(f"{hand}.WRIST"), index.get(f"{hand}.MIDDLE_FINGER_MCP")
        if wrist is None or middle is None:
            continue
        both = observed[:, wrist] & observed[:, middle]
        if not both.any():
            continue
        palm = np.median(np.linalg.norm(positions[both, middle] - positions[both, wrist], axis=-1))
        if not palm > 1e-9:
            raise FileFormatError(path, "hand points coincide: cannot scale the keypoints")
        rest_palm = np.linalg.norm(rest[skeleton.index(f"{side}_Middle1")] - rest[skeleton.index(f"{side}_Wrist")])
        return (positions - positions[:, wrist][:, None]) * (rest_palm / palm) + rest[skeleton.index(f"{side}_Wrist")]
    raise FileFormatError(path, "neither both shoulders nor a hand are ever detected")


def _align_hand_depth(names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray) -> None:
    """Holistic hand z is relative to the hand's own wrist; shift it onto the body wrist's depth."""
    index = {n: i for i, n in enumerate(names)}
    for side, hand in SIDE_HAND.items():
        body_wrist = index.get(f"{POSE}.{SIDE_WORD[side]}_WRIST")
        hand_wrist = index.get(f"{hand}.WRIST")
        if body_wrist is None or hand_wrist is None:
            continue
        members = [i for n, i in index.items() if n.startswith(hand + ".")]
        both = observed[:, body_wrist] & observed[:, hand_wrist]
        shift = np.where(both, positions[:, body_wrist, 2] - positions[:, hand_wrist, 2], 0.0)
        positions[:, members, 2] += shift[:, None]


def repair_arm_depth(names: tuple[str, ...], positions: np.ndarray) -> None:
    """Re-derive the arms' depth from bone lengths, keeping only the depth *sign* of the detector.

    MediaPipe's pose z is far too large for the wrists (forearms come out
    pointing almost straight at the camera), while x and y are good. With the
    upper arm and forearm lengths known (the skeleton's, or longer if the
    signer's image-plane lengths exceed them), the depth offset of each joint
    from its parent is ``sqrt(L^2 - l_xy^2)``; the detector only says whether
    it is towards or away from the camera. Hands move with their wrist.
    """
    skeleton = signing_skeleton()
    index = {n: i for i, n in enumerate(names)}
    for side, word in SIDE_WORD.items():
        chain = [index.get(f"{POSE}.{word}_{j}") for j in ("SHOULDER", "ELBOW", "WRIST")]
        if None in chain:
            continue
        bones = (skeleton.offsets[skeleton.index(f"{side}_Elbow")], skeleton.offsets[skeleton.index(f"{side}_Wrist")])
        old_wrist_z = positions[:, chain[2], 2].copy()
        for (parent, child), rest in zip(itertools.pairwise(chain), bones, strict=True):
            delta = positions[:, child] - positions[:, parent]
            planar = np.linalg.norm(delta[:, :2], axis=-1)
            length = max(float(np.linalg.norm(rest)), float(np.percentile(planar, 99)))
            depth = np.sqrt(np.maximum(length**2 - planar**2, 0.0))
            positions[:, child, 2] = positions[:, parent, 2] + np.where(delta[:, 2] < 0, -depth, depth)
        hand = SIDE_HAND[side]
        members = [i for n, i in index.items() if n.startswith(hand + ".")]
        positions[:, members, 2] += (positions[:, chain[2], 2] - old_wrist_z)[:, None]


def keypoints_from_arrays(
    names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray, fps: float, path: Path | str,
    *, arm_depth_from_bones: bool = True,
) -> PoseKeypoints:
    """Shared tail of every reader: depth alignment, gap filling, normalisation (positions in skeleton axes)."""
    positions = np.array(positions, dtype=np.float64)
    observed = np.asarray(observed, dtype=bool)
    if positions.shape[0] == 0:
        raise FileFormatError(path, "the file has no frames")
    if not np.all(np.isfinite(positions[observed])):
        raise FileFormatError(path, "detected keypoints contain NaN or infinite values")
    positions[~observed] = 0.0
    _align_hand_depth(names, positions, observed)
    filled = fill_gaps(positions, observed)
    normalised = normalise_to_skeleton(names, filled, observed, path)
    if arm_depth_from_bones:
        repair_arm_depth(names, normalised)
    normalised[:, ~observed.any(axis=0)] = 0.0
    return PoseKeypoints(float(fps), names, normalised, observed, Path(path))


#: z spread below this fraction of the x spread means z is in MediaPipe's width-normalised units.
NORMALISED_Z_RATIO = 0.05


def z_looks_normalised(points: np.ndarray, observed: np.ndarray) -> bool:
    """True when x is in pixels but z is still normalised (spread of about one unit).

    Many files in the wild say ``depth=640`` yet store MediaPipe's normalised
    z (sometimes offset by half the width); trusting the header would flatten
    every arm into the image plane and flip forearm twists.
    """
    seen = points[observed]
    if seen.shape[0] < 2:
        return False
    x_spread = float(np.ptp(seen[:, 0]))
    z_spread = float(np.ptp(seen[:, 2]))
    return x_spread > 0 and z_spread < NORMALISED_Z_RATIO * x_spread


def read_pose_keypoints(path: str | Path) -> PoseKeypoints:
    """Read a MediaPipe-style ``.pose`` file; FileFormatError for anything we cannot interpret."""
    from pose_format import Pose

    path = Path(path)
    raw = read_file_bytes(path)
    try:
        pose = Pose.read(raw)
        data = np.ma.getdata(pose.body.data)
        mask = np.ma.getmaskarray(pose.body.data)
        confidence = np.asarray(pose.body.confidence)
    except Exception as exc:  # pose-format raises many types on truncated/corrupt input
        raise FileFormatError(path, f"not a readable .pose file (truncated or malformed: {exc})") from exc
    header = pose.header
    fps = float(pose.body.fps)
    if not (np.isfinite(fps) and 1.0 <= fps <= 1000.0):
        raise FileFormatError(path, f"invalid frame rate {pose.body.fps} (expected 1 to 1000 frames per second)")
    names: list[str] = []
    columns: list[int] = []
    offset = 0
    for component in header.components:
        if component.name in KNOWN_COMPONENTS:
            for j, point in enumerate(component.points):
                names.append(f"{component.name}.{point}")
                columns.append(offset + j)
        offset += len(component.points)
    if data.ndim != 4 or offset != data.shape[2]:
        raise FileFormatError(path, f"header lists {offset} points but the body has shape {data.shape}")
    has_body = {f"{POSE}.LEFT_SHOULDER", f"{POSE}.RIGHT_SHOULDER"} <= set(names)
    has_hand = any(all(f"{h}.{p}" in names for p in HAND_POINTS) for h in (LEFT_HAND, RIGHT_HAND))
    if not (has_body or has_hand):
        found = ", ".join(f"{c.name}({len(c.points)})" for c in header.components)
        raise FileFormatError(path, f"unknown point layout: components {found}; expected MediaPipe holistic "
                                    "(POSE_LANDMARKS with shoulders) or hand landmarks")
    if data.ndim != 4 or data.shape[-1] != 3:
        raise FileFormatError(path, f"expected 3D keypoints (frames, people, points, 3), got shape {data.shape}")
    if data.shape[1] < 1:
        raise FileFormatError(path, "the file has no person")
    person = data[:, 0][:, columns].astype(np.float64)
    conf = confidence[:, 0][:, columns]
    observed = (conf > 0) & ~mask[:, 0][:, columns].any(axis=-1)
    if not np.all(np.isfinite(person[observed])):
        raise FileFormatError(path, "keypoints contain NaN or infinite values")
    if header.dimensions.depth == 0 or z_looks_normalised(person, observed):
        person[..., 2] *= float(header.dimensions.width)
    # MediaPipe image axes (x right = signer's left, y down, z away) -> skeleton axes.
    person[..., 1] *= -1.0
    person[..., 2] *= -1.0
    return keypoints_from_arrays(tuple(names), person, observed, fps, path)
