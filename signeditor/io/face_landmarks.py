"""Face-mesh landmarks from the face channel, for keypoint export (the inverse of core.face's fit).

A neutral face is laid out in the head's frame (metres, inter-ocular distance 6 cm), and each parameter moves
the landmarks the fit reads by the amount the fit turns back into that parameter (its dead band plus its full
scale), so exported ``.pose`` files re-import with the same face. Visemes become the mouth shapes the fit reads
(opening, width, rounding).
"""

from __future__ import annotations

import numpy as np

from signeditor.core.face import DEAD_BAND, FACE_INDEX, FULL_SCALE

_IOD = 0.06
#: Neutral landmarks (MediaPipe face-mesh index -> head-frame offset, metres): x the signer's left, y up, z forward.
NEUTRAL_FACE: dict[int, tuple[float, float, float]] = {
    1: (0.0, 0.03, 0.115), 10: (0.0, 0.14, 0.09), 152: (0.0, -0.065, 0.085),
    33: (-0.045, 0.065, 0.085), 133: (-0.015, 0.065, 0.09), 263: (0.045, 0.065, 0.085), 362: (0.015, 0.065, 0.09),
    159: (-0.03, 0.0695, 0.092), 158: (-0.025, 0.0695, 0.092), 160: (-0.035, 0.0695, 0.09),
    145: (-0.03, 0.0605, 0.09), 144: (-0.035, 0.0605, 0.088), 153: (-0.025, 0.0605, 0.09),
    386: (0.03, 0.0695, 0.092), 385: (0.025, 0.0695, 0.092), 387: (0.035, 0.0695, 0.09),
    374: (0.03, 0.0605, 0.09), 373: (0.035, 0.0605, 0.088), 380: (0.025, 0.0605, 0.09),
    70: (-0.05, 0.085, 0.08), 63: (-0.04, 0.09, 0.088), 105: (-0.03, 0.092, 0.093), 66: (-0.02, 0.09, 0.096),
    107: (-0.012, 0.087, 0.098), 300: (0.05, 0.085, 0.08), 293: (0.04, 0.09, 0.088), 334: (0.03, 0.092, 0.093),
    296: (0.02, 0.09, 0.096), 336: (0.012, 0.087, 0.098),
    0: (0.0, 0.002, 0.105), 13: (0.0, -0.005, 0.1), 14: (0.0, -0.007, 0.099), 17: (0.0, -0.022, 0.098),
    61: (-0.025, -0.012, 0.09), 291: (0.025, -0.012, 0.09), 234: (-0.075, 0.04, 0.01), 454: (0.075, 0.04, 0.01),
}
_BROWS = {"r": (70, 63, 105, 66, 107), "l": (300, 293, 334, 296, 336)}
_UPPER_LIDS = {"r": (159, 158, 160), "l": (386, 385, 387)}
_LOWER_LIDS = {"r": (145, 144, 153), "l": (374, 373, 380)}
_INNER_BROW = {"r": 107, "l": 336}
_SIDE_SIGN = {"r": -1.0, "l": 1.0}
#: Viseme -> the mouth shape the fit reads it from (opening, stretch, pucker).
_VISEME_SHAPES = {"viseme_aa": (0.8, 0.2, 0.0), "viseme_oh": (0.5, 0.0, 0.5), "viseme_ou": (0.1, 0.0, 0.8),
                  "viseme_ee": (0.1, 0.7, 0.0), "viseme_ih": (0.3, 0.3, 0.0), "viseme_fv": (0.1, 0.0, 0.0),
                  "viseme_th": (0.2, 0.0, 0.0), "viseme_s": (0.05, 0.3, 0.0), "viseme_mbp": (0.0, 0.0, 0.0)}


def _shift(weight: np.ndarray, unit: str) -> np.ndarray:
    """Metres a measure moves for a parameter weight (0 stays inside the fit's dead band)."""
    return np.where(weight > 1e-4, (DEAD_BAND[unit] * 1.2 + FULL_SCALE[unit] * weight) * _IOD, 0.0)


def face_landmark_offsets(face: np.ndarray) -> dict[int, np.ndarray]:
    """Head-frame landmark offsets (T, 3) per face-mesh index for face parameters (T, FACE_DIM)."""
    face = np.asarray(face, np.float64)
    n = len(face)
    points = {k: np.tile(np.asarray(v), (n, 1)) for k, v in NEUTRAL_FACE.items()}

    def w(name: str) -> np.ndarray:
        return face[:, FACE_INDEX[name]]

    opening, stretch, pucker = w("mouth_open"), w("lip_stretch"), w("lip_pucker")
    for viseme, (o, s, p) in _VISEME_SHAPES.items():
        opening = np.maximum(opening, o * w(viseme))
        stretch = np.maximum(stretch, s * w(viseme))
        pucker = np.maximum(pucker, p * w(viseme))
    for side in "lr":
        raise_up, furrow = _shift(w(f"brow_raise_{side}"), "brow"), _shift(w(f"brow_furrow_{side}"), "brow")
        for k in _BROWS[side]:
            points[k][:, 1] += raise_up - furrow
        points[_INNER_BROW[side]][:, 0] -= _SIDE_SIGN[side] * 0.5 * _shift(w(f"brow_furrow_{side}"), "furrow_gap")
        gap = NEUTRAL_FACE[_UPPER_LIDS[side][0]][1] - NEUTRAL_FACE[_LOWER_LIDS[side][0]][1]
        for k in _UPPER_LIDS[side]:
            points[k][:, 1] -= gap * np.clip(w(f"eye_close_{side}"), 0, 1)
        for k in _LOWER_LIDS[side]:
            points[k][:, 1] += np.minimum(_shift(w(f"squint_{side}"), "brow"), gap * 0.5)
        corner = 61 if side == "r" else 291
        points[corner][:, 1] += _shift(w(f"smile_{side}"), "corner") - _shift(w(f"frown_{side}"), "corner")
        points[corner][:, 0] += _SIDE_SIGN[side] * 0.5 * (_shift(stretch, "width") - _shift(pucker, "width"))
        cheek = 234 if side == "r" else 454
        points[cheek][:, 0] += _SIDE_SIGN[side] * _shift(w("cheek_puff"), "cheek")
    drop = _shift(opening, "mouth")
    points[14][:, 1] -= drop
    points[17][:, 1] -= drop
    return points
