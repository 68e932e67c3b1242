"""The face channel: named, avatar-independent face parameters, and their fit from face landmarks (numpy only).

Every parameter is a weight in [0, 1] (0 = neutral); ``_l``/``_r`` are the signer's left and right, and so are
gaze directions (``gaze_left`` looks towards the signer's left). Head rotation is not here: the body stream's Neck
and Head joints carry it. Avatars turn the parameters into their own morph targets and eye bones
(render.avatars.face_rig), exports into shape-key weights. The landmark fit leaves gaze neutral (the layouts
have no irises).

The fit reads MediaPipe face-mesh landmarks (points addressed by their mesh index, e.g. ``"159"``), measures
distances in the face's own frame divided by the inter-ocular distance (so head size, camera distance and head
turns matter little), and subtracts a neutral level estimated per clip (the face at rest is what most frames
show: the median, or a percentile for measures whose rest is an extreme, such as closed lips or open eyes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

FACE_PARAMETERS: tuple[str, ...] = (
    "brow_raise_l", "brow_raise_r", "brow_furrow_l", "brow_furrow_r",
    "eye_close_l", "eye_close_r", "squint_l", "squint_r", "gaze_left", "gaze_right", "gaze_up", "gaze_down",
    "mouth_open", "smile_l", "smile_r", "frown_l", "frown_r", "lip_pucker", "lip_stretch", "cheek_puff",
    "viseme_aa", "viseme_ee", "viseme_ih", "viseme_oh", "viseme_ou", "viseme_mbp", "viseme_fv", "viseme_th",
    "viseme_s",
)
FACE_DIM = len(FACE_PARAMETERS)
FACE_INDEX: dict[str, int] = {n: i for i, n in enumerate(FACE_PARAMETERS)}

# MediaPipe face-mesh indices (subject's left/right), all present in the 128-point reduced holistic layout.
EYE_POINTS = {
    "r": {"outer": "33", "inner": "133", "upper": ("159", "158", "160"), "lower": ("145", "144", "153")},
    "l": {"outer": "263", "inner": "362", "upper": ("386", "385", "387"), "lower": ("374", "373", "380")},
}
BROW_POINTS = {"r": ("70", "63", "105", "66", "107"), "l": ("300", "293", "334", "296", "336")}
_INNER_BROW = {"r": "107", "l": "336"}
_MOUTH = {"upper_inner": "13", "lower_inner": "14", "upper_outer": "0", "lower_outer": "17",
          "corner_r": "61", "corner_l": "291"}
_FOREHEAD, _CHIN, _CHEEK = "10", "152", {"r": "234", "l": "454"}
#: Every landmark the fit needs.
FACE_LANDMARKS: tuple[str, ...] = tuple(sorted(
    {v for side in EYE_POINTS.values() for k, v in side.items() if isinstance(v, str)}
    | {p for side in EYE_POINTS.values() for k in ("upper", "lower") for p in side[k]}
    | {p for b in BROW_POINTS.values() for p in b} | set(_MOUTH.values()) | {_FOREHEAD, _CHIN, *_CHEEK.values()}))

#: Measure change (in inter-ocular distances) that makes a parameter 1, and the change ignored as landmark jitter
#: (about the 90th percentile of frame-to-frame noise on the shared data's still faces).
FULL_SCALE = {"brow": 0.07, "furrow_gap": 0.08, "mouth": 0.30, "corner": 0.06, "width": 0.12, "cheek": 0.10}
DEAD_BAND = {"brow": 0.008, "furrow_gap": 0.01, "mouth": 0.02, "corner": 0.01, "width": 0.02, "cheek": 0.03}


def face_measures(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-frame face measures in inter-ocular distances, from landmark positions (T, 3) by mesh index.

    Brow height and lip gap are distances, which a tilted head leaves unchanged (and which a hand near the face
    disturbs less than a projection on a face axis would); lip corners and lower lids are heights along the
    face's up axis (chin to forehead, made orthogonal to the eye line). Only image-plane coordinates are used:
    landmark depth is a monocular estimate, and with it the brow fit followed the source brows far less
    (correlation 0.48 instead of 0.83 on the DGS sentences).
    """
    points = {k: np.asarray(v, np.float64)[..., :2] for k, v in points.items()}
    eye_centre = {s: np.mean([points[EYE_POINTS[s]["outer"]], points[EYE_POINTS[s]["inner"]]], axis=0) for s in "lr"}
    across = eye_centre["l"] - eye_centre["r"]
    iod = np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)  # 0 where a lost frame's points coincide
    x_axis = across / iod
    up = points[_FOREHEAD] - points[_CHIN]
    up = up - np.sum(up * x_axis, axis=-1, keepdims=True) * x_axis
    up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)

    def height(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sum((a - b) * up, axis=-1) / iod[..., 0]

    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.linalg.norm(a - b, axis=-1) / iod[..., 0]

    measures: dict[str, np.ndarray] = {}
    mouth_centre = 0.5 * (points[_MOUTH["upper_outer"]] + points[_MOUTH["lower_outer"]])
    for s in "lr":
        eye = EYE_POINTS[s]
        brow = np.mean([points[p] for p in BROW_POINTS[s]], axis=0)
        measures[f"brow_{s}"] = distance(brow, eye_centre[s])
        upper = np.mean([points[p] for p in eye["upper"]], axis=0)
        lower = np.mean([points[p] for p in eye["lower"]], axis=0)
        measures[f"lid_gap_{s}"] = height(upper, lower) / np.maximum(distance(points[eye["outer"]],
                                                                              points[eye["inner"]]), 1e-6)
        measures[f"lower_lid_{s}"] = height(lower, eye_centre[s])
        measures[f"corner_{s}"] = height(points[_MOUTH[f"corner_{s}"]], mouth_centre)
        measures[f"cheek_{s}"] = distance(points[_CHEEK[s]], 0.5 * (points[_CHEEK["l"]] + points[_CHEEK["r"]]))
    measures["brow_gap"] = distance(points[_INNER_BROW["l"]], points[_INNER_BROW["r"]])
    measures["mouth_gap"] = distance(points[_MOUTH["upper_inner"]], points[_MOUTH["lower_inner"]])
    measures["mouth_width"] = distance(points[_MOUTH["corner_l"]], points[_MOUTH["corner_r"]])
    return measures


def fit_face_parameters(points: Mapping[str, np.ndarray], observed: np.ndarray | None = None) -> np.ndarray:
    """Face parameters (T, FACE_DIM) in [0, 1] from landmark positions (T, 3) by mesh index.

    ``observed`` (T,) marks frames whose face was detected; the neutral levels come from those only, and
    undetected frames get the neutral face (zeros).
    """
    missing = [p for p in FACE_LANDMARKS if p not in points]
    if missing:
        raise KeyError(f"face landmarks missing: {', '.join(missing)}")
    m = face_measures(points)
    n = len(next(iter(m.values())))
    seen = np.ones(n, bool) if observed is None else np.asarray(observed, bool)
    if not seen.any():
        return np.zeros((n, FACE_DIM), np.float32)

    m = {k: _smooth(v, seen) for k, v in m.items()}

    def rel(name: str, rest_percentile: float = 50.0) -> np.ndarray:
        """Change from the clip's neutral level."""
        return m[name] - np.percentile(m[name][seen], rest_percentile)

    def scaled(change: np.ndarray, unit: str) -> np.ndarray:
        """Signed change in parameter units, with the jitter band around neutral removed."""
        return np.sign(change) * np.maximum(np.abs(change) - DEAD_BAND[unit], 0.0) / FULL_SCALE[unit]

    out = np.zeros((n, FACE_DIM))

    def put(name: str, value: np.ndarray) -> None:
        out[:, FACE_INDEX[name]] = value

    gap = scaled(rel("brow_gap"), "furrow_gap")
    for s in "lr":
        brow = scaled(rel(f"brow_{s}"), "brow")
        put(f"brow_raise_{s}", brow)
        put(f"brow_furrow_{s}", 0.5 * (-brow) + 0.5 * (-gap))
        lid = m[f"lid_gap_{s}"] / max(float(np.percentile(m[f"lid_gap_{s}"][seen], 75)), 1e-6)
        put(f"eye_close_{s}", (0.8 - lid) / 0.6)
        put(f"squint_{s}", scaled(rel(f"lower_lid_{s}"), "brow"))
        corner = scaled(rel(f"corner_{s}"), "corner")
        put(f"smile_{s}", corner)
        put(f"frown_{s}", -corner)
    width = scaled(rel("mouth_width"), "width")
    put("mouth_open", scaled(rel("mouth_gap", 10.0), "mouth"))
    put("lip_stretch", width)
    put("lip_pucker", -width)
    put("cheek_puff", scaled(0.5 * (rel("cheek_l") + rel("cheek_r")), "cheek"))
    out = np.clip(out, 0.0, 1.0)
    # Visemes from the mouth's shape: open and wide "aa", open and round "oh"/"ou", closed and wide "ee".
    opened, stretched, rounded = out[:, FACE_INDEX["mouth_open"]], out[:, FACE_INDEX["lip_stretch"]], \
        out[:, FACE_INDEX["lip_pucker"]]
    put("viseme_aa", np.clip(opened * (1.0 - rounded), 0, 1))
    put("viseme_oh", np.clip(opened * rounded * 2.0, 0, 1))
    put("viseme_ou", np.clip((1.0 - opened) * rounded, 0, 1))
    put("viseme_ee", np.clip((1.0 - opened) * stretched, 0, 1))
    out[~seen] = 0.0
    return out.astype(np.float32)


def face_by_name(values: np.ndarray, names: list[str] | None) -> np.ndarray:
    """Face values (T, k) stored under ``names`` (a file's list; None: ours) rearranged into our parameters.

    Files keep the names next to the values, so a later parameter list still reads older files (unknown names
    are dropped, missing ones are neutral).
    """
    values = np.asarray(values, np.float32)
    names = list(FACE_PARAMETERS) if names is None else [str(n) for n in names]
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(f"face values {values.shape} do not match {len(names)} face parameter names")
    out = np.zeros((len(values), FACE_DIM), np.float32)
    for k, name in enumerate(names):
        if name in FACE_INDEX:
            out[:, FACE_INDEX[name]] = values[:, k]
    return out


def _smooth(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Three-frame moving average over detected frames (landmark jitter), undetected frames left as they are."""
    out = values.copy()
    if len(values) >= 3:
        ok = np.r_[seen[0], seen, seen[-1]].astype(float)
        # Undetected frames may hold anything, NaN too (0/0 where all their points coincide): never read them.
        padded = np.where(ok > 0, np.r_[values[0], values, values[-1]], 0.0)
        total = padded[:-2] * ok[:-2] + padded[1:-1] * ok[1:-1] + padded[2:] * ok[2:]
        count = ok[:-2] + ok[1:-1] + ok[2:]
        out[seen] = (total / np.maximum(count, 1))[seen]
    return out


def neutral_face(n_frames: int) -> np.ndarray:
    return np.zeros((n_frames, FACE_DIM), np.float32)


def interpolate_face(frames: np.ndarray, values: np.ndarray, n_frames: int) -> np.ndarray:
    """Face parameters at every frame from keys (K,) frames and (K, FACE_DIM) values.

    Monotone cubic (PCHIP) between keys: smooth, and never overshoots past the keys, so weights stay in [0, 1];
    held before the first and after the last key.
    """
    from scipy.interpolate import PchipInterpolator

    frames = np.asarray(frames, np.float64)
    values = np.asarray(values, np.float64)
    if len(frames) == 0:
        return neutral_face(n_frames)
    order = np.argsort(frames, kind="stable")
    frames, values = frames[order], values[order]
    keep = np.r_[np.diff(frames) > 0, True]  # the last key on a frame wins
    frames, values = frames[keep], values[keep]
    t = np.clip(np.arange(n_frames, dtype=np.float64), frames[0], frames[-1])
    if len(frames) == 1:
        return np.repeat(values[:1], n_frames, axis=0).astype(np.float32)
    return np.clip(PchipInterpolator(frames, values, axis=0)(t), 0.0, 1.0).astype(np.float32)


class FaceKeypoints(Protocol):
    """What the face fit needs from a keypoint source (``signeditor.io.pose_reader.PoseKeypoints`` has it)."""

    @property
    def n_frames(self) -> int: ...

    def has(self, *names: str) -> bool: ...

    def point(self, name: str) -> np.ndarray: ...

    def group_seen(self, names: list[str] | tuple[str, ...]) -> np.ndarray: ...


FACE_COMPONENT = "FACE_LANDMARKS"


def face_from_keypoints(keypoints: FaceKeypoints) -> np.ndarray | None:
    """Face parameters fitted from a keypoint file's face landmarks, or None when it has no usable face."""
    names = [f"{FACE_COMPONENT}.{p}" for p in FACE_LANDMARKS]
    if not keypoints.has(*names):
        return None
    seen = keypoints.group_seen(names)
    if seen.sum() < 2:
        return None
    return fit_face_parameters({p: keypoints.point(n) for p, n in zip(FACE_LANDMARKS, names, strict=True)}, seen)
