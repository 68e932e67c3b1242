"""How well the fitted face channel follows the source landmarks (``signeditor eval face``).

For every clip with face landmarks, the fitted brow signal (raise minus furrow, both sides) is compared with the
source's raw brow height (distance of the brows from the eyes in the image plane) and the fitted mouth
opening with the raw inner-lip gap; each raw measure is taken relative to its clip median (the neutral face)
and all frames are pooled. Pearson correlation per measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core.face import _BROW, _EYE, FACE_COMPONENT, FACE_INDEX, face_from_keypoints


def _raw_measures(keypoints: object) -> tuple[np.ndarray, np.ndarray]:
    def point(index: str) -> np.ndarray:
        return keypoints.point(f"{FACE_COMPONENT}.{index}")[:, :2]  # the image plane, as the detector sees it

    brow = []
    for side in "lr":
        brows = np.mean([point(p) for p in _BROW[side]], axis=0)
        eyes = np.mean([point(_EYE[side]["outer"]), point(_EYE[side]["inner"])], axis=0)
        brow.append(np.linalg.norm(brows - eyes, axis=-1))
    mouth = np.linalg.norm(point("13") - point("14"), axis=-1)
    return np.mean(brow, axis=0), mouth


def face_fit_correlations(paths: list[Path]) -> dict[str, float | int]:
    """Pooled correlations of fitted brow / mouth parameters with the raw landmark measures over ``paths``."""
    from signeditor.io.pose_reader import read_pose_keypoints

    fitted_brow, fitted_mouth, raw_brow, raw_mouth = [], [], [], []
    clips = 0
    for path in paths:
        keypoints = read_pose_keypoints(path)
        face = face_from_keypoints(keypoints)
        if face is None:
            continue
        seen = keypoints.group_seen([f"{FACE_COMPONENT}.{p}" for p in ("13", "14", *_BROW["l"], *_BROW["r"])])
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
