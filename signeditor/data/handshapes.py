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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.handshapes import Handshape, HandshapeLibrary, library_arrays
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
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
    return _library(letters)


def _library(letters: dict[tuple[str, str], _LetterFrames]) -> HandshapeLibrary:
    handshapes = []
    for (language, letter), pooled in letters.items():
        two_handed = pooled.two_handed_clips * 2 > pooled.clips
        handshapes.append(Handshape(
            language, letter, medoid(np.concatenate(pooled.dominant)).astype(np.float32),
            medoid(np.concatenate(pooled.other)).astype(np.float32) if two_handed else None, pooled.clips,
        ))
    return HandshapeLibrary(handshapes)


def read_raw_hands(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, float]:
    """(point names, (T, K, 3) points in skeleton axes with the detector's own depth, (T, K) observed, fps).

    The hand model's relative depth is kept as detected (scaled like x), not lifted: a fist's fingers
    then curl as the clip shows them.
    """
    from pose_format import Pose

    from signeditor.io.errors import FileFormatError, read_file_bytes
    from signeditor.io.pose_reader import z_looks_normalised

    try:
        pose = Pose.read(read_file_bytes(path))
        data = np.ma.getdata(pose.body.data)[:, 0].astype(np.float64)
        observed = (np.asarray(pose.body.confidence)[:, 0] > 0) & ~np.ma.getmaskarray(pose.body.data)[:, 0].any(-1)
    except FileFormatError:
        raise
    except Exception as exc:  # pose-format raises many types on damaged input
        raise FileFormatError(path, f"not a readable .pose file ({exc})") from exc
    names = [f"{c.name}.{p}" for c in pose.header.components for p in c.points]
    if pose.header.dimensions.depth == 0 or z_looks_normalised(data, observed):
        data[..., 2] *= float(pose.header.dimensions.width)
    data[..., 1:] *= -1.0  # image axes (y down, z away) -> skeleton axes
    return names, data, observed, float(pose.body.fps)


def fit_hand(names: list[str], points: np.ndarray, observed: np.ndarray, fps: float, side: str,
             path: Path) -> np.ndarray:
    """(T, 90) finger rotations of one hand fitted to its own keypoints alone (scaled by its palm, so the
    skeleton's hand reaches every finger point whatever the signer's hand size), in that hand's stream."""
    from signeditor.core.ik import fit_features
    from signeditor.io.pose_reader import keypoints_from_arrays

    columns = _hand_points(names, side)
    keypoints = keypoints_from_arrays(tuple(names[c] for c in columns), points[:, columns], observed[:, columns],
                                      fps, path, lift=False)
    features, _filled = fit_features(keypoints)
    return features[:, STREAM_SLICES["right_hand" if side == "RIGHT" else "left_hand"]]


def lexicon_clip_hand_frames(path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Like :func:`clip_hand_frames`, from a lexicon clip's raw keypoints: (dominant frames (N, 90) in the right
    hand's frame, other-hand frames or None), None when no hand is seen. The letter is held in the middle half
    of the frames where the dominant hand is seen."""
    names, points, observed, fps = read_raw_hands(path)
    seen = {side: observed[:, _hand_points(names, side)].mean(1) >= _SEEN_FRACTION for side in ("RIGHT", "LEFT")}
    if not (seen["RIGHT"].any() or seen["LEFT"].any()):
        return None
    has_body = all(f"POSE_LANDMARKS.{p}" in names for p in ("LEFT_HIP", "RIGHT_HIP", "LEFT_SHOULDER",
                                                             "RIGHT_SHOULDER"))
    height = {side: _relative_height(points[seen[side]], names, _hand_points(names, side)[0])
              if seen[side].any() and has_body else -np.inf for side in ("RIGHT", "LEFT")}
    dominant = max(("RIGHT", "LEFT"), key=lambda side: (seen[side].mean(), height[side]))
    other = "LEFT" if dominant == "RIGHT" else "RIGHT"
    frames = middle_frames(np.zeros(len(points), np.int8), ~seen[dominant])

    def hand(side: str) -> np.ndarray:
        fitted = fit_hand(names, points, observed, fps, side, path)[frames][seen[side][frames]]
        return fitted if side == "RIGHT" else hand_pose_mirrored(fitted)

    other_frames = None
    if seen[other][frames].mean() >= _SEEN_FRACTION and height[other] >= _RAISED_HEIGHT:
        other_frames = fit_hand(names, points, observed, fps, other, path)[frames][seen[other][frames]]
        other_frames = other_frames if other == "LEFT" else hand_pose_mirrored(other_frames)
    return hand(dominant), other_frames


def build_handshape_library_from_lexicon(folder: str | Path, log: Callable[[str], None] | None = None,
                                         ) -> HandshapeLibrary:
    """One handshape per (signed language, letter) from the letters of a fingerspelling lexicon folder
    (``index.csv`` and its ``.pose`` clips), each hand fitted to its own keypoints: handshapes that match
    their names (S a fist, B a flat hand), where the whole-body fit's lifted finger depth gave loose claws."""
    from signeditor.io.errors import FileFormatError
    from signeditor.io.lexicon import read_lexicon

    letters: dict[tuple[str, str], _LetterFrames] = defaultdict(_LetterFrames)
    for entry in read_lexicon(folder).entries:
        if not entry.is_letter:
            continue
        try:
            frames = lexicon_clip_hand_frames(entry.path)
        except FileFormatError as exc:  # one damaged clip must not stop the library
            if log is not None:
                log(f"skipped: {exc}")
            continue
        if frames is None or not len(frames[0]):
            continue
        pooled = letters[(entry.signed_language, entry.words.strip())]
        pooled.clips += 1
        pooled.dominant.append(frames[0])
        if frames[1] is not None and len(frames[1]):
            pooled.two_handed_clips += 1
            pooled.other.append(frames[1])
    return _library(letters)


def write_handshape_library(library: HandshapeLibrary, path: str | Path) -> Path:
    """Write the library ``.npz`` atomically (compressed: a few hundred KB for ~600 letters)."""
    path = Path(path)
    with atomic_writer(path) as handle:
        np.savez_compressed(handle, **library_arrays(library))
    return path
