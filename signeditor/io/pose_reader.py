"""Read ``.pose`` keypoint files (MediaPipe holistic, reduced holistic, hand-only) into the skeleton frame.

Points are addressed by ``"COMPONENT.POINT"`` names taken from the file's
header, never by offsets, because the layouts in the wild (543/576-point
holistic, the 178-point reduced holistic, single hands) order and subset
points differently. The result is already in the skeleton frame and scale so
IK, evaluation and the corpus all compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.lifting import LENGTH_PERCENTILE, LiftReport, depth_is_real, lift_depth
from signeditor.core.skeleton import signing_skeleton
from signeditor.io.errors import FileFormatError, read_file_bytes

POSE = "POSE_LANDMARKS"
FACE = "FACE_LANDMARKS"
LEFT_HAND = "LEFT_HAND_LANDMARKS"
RIGHT_HAND = "RIGHT_HAND_LANDMARKS"
POSE_WORLD = "POSE_WORLD_LANDMARKS"
#: Components we map; world landmarks only lend their depth to the lifting, others are ignored.
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
    #: How depth was recovered (lifted from foreshortening, world landmarks, real depth kept); None if not lifted.
    lifting: LiftReport | None = None
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
        scale = skeleton.shoulder_width() / width * _arm_length_correction(index, positions, observed, scale_hint=
                                                                          skeleton.shoulder_width() / width)
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


#: How far the arm lengths may move the camera scale away from the shoulder-width one. Real recordings in
#: ../shared/signdata need 0.86-1.21 (10th-90th percentile); a figure filmed by our exporter signing with its arms
#: forward throughout needs up to about 1.7 (the detector's shoulders widen as the arms rise), and allowing 1.6
#: brought the video round trip's worst group from 0.28 to 0.21 shoulder widths (bench video, default avatar).
ARM_SCALE_RANGE = (0.8, 1.6)


def _arm_length_correction(
    index: dict[str, int], positions: np.ndarray, observed: np.ndarray, scale_hint: float
) -> float:
    """Factor on the shoulder-width scale that gives the arms the skeleton's length where they are longest.

    Depth is recovered from foreshortening against the skeleton's bone
    lengths, so the camera scale must make the signer's arms as long as the
    skeleton's: shoulder width alone misjudges it (a turned torso, detectors
    that put the shoulders inside the joints, signers' own proportions). An
    arm's longest image length over a clip (a high percentile; arms hang in
    the image plane at rest) is its length; with real depth, its 3D length. The factor is kept within
    ``ARM_SCALE_RANGE`` of the shoulder-width scale, for clips whose arms are
    never seen stretched out.
    """
    skeleton = signing_skeleton()
    ratios = []
    for side, word in SIDE_WORD.items():
        for parent, child, joint in (("SHOULDER", "ELBOW", "Elbow"), ("ELBOW", "WRIST", "Wrist")):
            a, b = index.get(f"{POSE}.{word}_{parent}"), index.get(f"{POSE}.{word}_{child}")
            if a is None or b is None:
                continue
            seen = observed[:, a] & observed[:, b]
            if seen.sum() < 5:
                continue
            real = depth_is_real(positions[seen, a], positions[seen, b])
            axes = slice(0, 3) if real else slice(0, 2)  # with real depth the 3D length is the length
            planar = np.linalg.norm(positions[seen, b, axes] - positions[seen, a, axes], axis=-1) * scale_hint
            rest = float(np.linalg.norm(skeleton.offsets[skeleton.index(f"{side}_{joint}")]))
            ratios.append(rest / max(float(np.percentile(planar, LENGTH_PERCENTILE)), 1e-9))
    return float(np.clip(np.median(ratios), *ARM_SCALE_RANGE)) if ratios else 1.0


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


def keypoints_from_arrays(
    names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray, fps: float, path: Path | str,
    *, lift: bool = True, world_depth: np.ndarray | None = None,
) -> PoseKeypoints:
    """Shared tail of every reader: depth alignment, gap filling, normalisation, depth lifting.

    ``world_depth`` (T, K): depth of the same points from world landmarks in
    any metric unit (skeleton axes, NaN where absent), used as evidence for
    the lifting's depth signs. ``lift=False`` keeps the given depth as it is
    (sources whose 3D is already consistent).
    """
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
    report = None
    if lift:
        if world_depth is not None:
            world_depth = _fill_depth(world_depth, observed)
        report = lift_depth(names, normalised, observed, world_depth)
    normalised[:, ~observed.any(axis=0)] = 0.0
    return PoseKeypoints(float(fps), names, normalised, observed, Path(path), lifting=report)


def _fill_depth(depth: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Interpolate world depths over frames where they are missing (NaN stays for never-seen points)."""
    valid = np.isfinite(depth) & observed
    out = np.full_like(depth, np.nan)
    frames = np.arange(depth.shape[0])
    for k in np.flatnonzero(valid.any(axis=0)):
        out[:, k] = np.interp(frames, frames[valid[:, k]], depth[valid[:, k], k])
    return out


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
    world_columns: dict[str, int] = {}
    offset = 0
    for component in header.components:
        if component.name in KNOWN_COMPONENTS:
            for j, point in enumerate(component.points):
                names.append(f"{component.name}.{point}")
                columns.append(offset + j)
        elif component.name == POSE_WORLD:
            world_columns.update({f"{POSE}.{point}": offset + j for j, point in enumerate(component.points)})
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
    world_depth = _world_depth(data[:, 0], confidence[:, 0], names, world_columns)
    return keypoints_from_arrays(tuple(names), person, observed, fps, path, world_depth=world_depth)


def _world_depth(
    data: np.ndarray, confidence: np.ndarray, names: list[str], world_columns: dict[str, int],
) -> np.ndarray | None:
    """Depth (skeleton axes, +z towards the camera, metres) of each pose point from MediaPipe's world landmarks.

    pose-format stores world x and y multiplied by the image size like image
    points, and z in metres; only z is taken, as evidence for the lifting.
    """
    if not world_columns:
        return None
    depth = np.full((data.shape[0], len(names)), np.nan)
    for k, name in enumerate(names):
        column = world_columns.get(name)
        if column is not None:
            values = -data[:, column, 2].astype(np.float64)
            depth[:, k] = np.where((confidence[:, column] > 0) & np.isfinite(values), values, np.nan)
    return depth if np.isfinite(depth).any() else None
