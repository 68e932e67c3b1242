"""How well the fitted face channel follows the source landmarks (``signeditor eval face``).

For every clip with face landmarks, the fitted brow signal (raise minus furrow, both sides) is compared with the
source's raw brow height (distance of the brows from the eyes in the image plane) and the fitted mouth
opening with the raw inner-lip gap; each raw measure is taken relative to its clip median (the neutral face)
and all frames are pooled. Pearson correlation per measure.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from signeditor.core.face import (
    BROW_POINTS,
    EYE_POINTS,
    FACE_COMPONENT,
    FACE_INDEX,
    face_from_keypoints,
    interpolate_face,
)


def _keypoints(path: Path) -> object | None:
    """The file's keypoints, or None for layouts without MediaPipe faces (OpenPose, hand-only...)."""
    from signeditor.io.errors import FileFormatError
    from signeditor.io.pose_reader import read_pose_keypoints

    try:
        return read_pose_keypoints(path)
    except FileFormatError:
        return None


def _raw_measures(keypoints: object) -> tuple[np.ndarray, np.ndarray]:
    def point(index: str) -> np.ndarray:
        return keypoints.point(f"{FACE_COMPONENT}.{index}")[:, :2]  # the image plane, as the detector sees it

    brow = []
    for side in "lr":
        brows = np.mean([point(p) for p in BROW_POINTS[side]], axis=0)
        eyes = np.mean([point(EYE_POINTS[side]["outer"]), point(EYE_POINTS[side]["inner"])], axis=0)
        brow.append(np.linalg.norm(brows - eyes, axis=-1))
    mouth = np.linalg.norm(point("13") - point("14"), axis=-1)
    return np.mean(brow, axis=0), mouth


def face_fit_correlations(paths: list[Path]) -> dict[str, float | int]:
    """Pooled correlations of fitted brow / mouth parameters with the raw landmark measures over ``paths``."""
    fitted_brow, fitted_mouth, raw_brow, raw_mouth = [], [], [], []
    clips = 0
    for path in paths:
        keypoints = _keypoints(path)
        face = None if keypoints is None else face_from_keypoints(keypoints)
        if face is None:
            continue
        measured = ("13", "14", *BROW_POINTS["l"], *BROW_POINTS["r"])
        seen = keypoints.group_seen([f"{FACE_COMPONENT}.{p}" for p in measured])
        brow, mouth = _raw_measures(keypoints)
        clips += 1
        fitted_brow.append(0.5 * (face[seen, FACE_INDEX["brow_raise_l"]] + face[seen, FACE_INDEX["brow_raise_r"]]
                                  - face[seen, FACE_INDEX["brow_furrow_l"]] - face[seen, FACE_INDEX["brow_furrow_r"]]))
        fitted_mouth.append(face[seen, FACE_INDEX["mouth_open"]])
        raw_brow.append((brow - np.median(brow[seen]))[seen])
        raw_mouth.append((mouth - np.median(mouth[seen]))[seen])
    if not clips:
        return {"clips": 0}
    return {
        "clips": clips,
        "frames": int(sum(len(b) for b in raw_brow)),
        "brow_correlation": round(float(np.corrcoef(np.concatenate(fitted_brow), np.concatenate(raw_brow))[0, 1]), 3),
        "mouth_correlation": round(float(np.corrcoef(np.concatenate(fitted_mouth),
                                                     np.concatenate(raw_mouth))[0, 1]), 3),
    }


def face_interpolation_errors(paths: list[Path], key_every: int = 6) -> dict[str, float | int]:
    """Mean absolute error of face parameters rebuilt from keys every ``key_every`` frames, per method.

    The fitted face tracks of ``paths`` are the reference; keys are sampled from them, as a user's face keys or
    a preset would be, and the frames between are filled by holding, linear or monotone cubic interpolation.
    """
    errors: dict[str, list[np.ndarray]] = {"hold": [], "linear": [], "pchip": []}
    for path in paths:
        keypoints = _keypoints(path)
        face = None if keypoints is None else face_from_keypoints(keypoints)
        if face is None or len(face) < 2 * key_every:
            continue
        keys = np.r_[np.arange(0, len(face) - 1, key_every), len(face) - 1]
        frames = np.arange(len(face))
        hold = face[keys[np.searchsorted(keys, frames, side="right") - 1]]
        linear = np.stack([np.interp(frames, keys, face[keys, k]) for k in range(face.shape[1])], axis=1)
        between = ~np.isin(frames, keys)
        for name, rebuilt in (("hold", hold), ("linear", linear),
                              ("pchip", interpolate_face(keys, face[keys], len(face)))):
            errors[name].append(np.abs(rebuilt - face)[between])
    if not errors["hold"]:
        return {"clips": 0}
    return {"clips": len(errors["hold"]), "key_every": key_every,
            **{f"{name}_mae": round(float(np.concatenate(e).mean()), 4) for name, e in errors.items()}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder searched recursively for .pose files with faces")
    parser.add_argument("--key-every", type=int, default=6, help="frames between face keys for the fill measure")


def run(args: argparse.Namespace) -> dict:
    paths = sorted(Path(args.data).rglob("*.pose"))
    return {**face_fit_correlations(paths),
            "interpolation": face_interpolation_errors(paths, args.key_every)}
