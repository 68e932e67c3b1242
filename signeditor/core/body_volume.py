"""The signer's body as capsules, and the plausibility figures measured against it.

Lifting keeps hands out of these volumes and the IK benchmark counts how
often they are entered. Sizes are those of the signing skeleton (the
``mannequin-x`` proportions, shoulder width 0.316 m), in the skeleton frame:
metres, +y up, +z forward, +x the signer's left. Keypoints are normalised to
this frame before lifting, so one body serves every signer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signeditor.core.skeleton import JOINT_INDEX, signing_skeleton

#: Penetration (metres) above which a point counts as inside the body.
INSIDE_TOLERANCE = 0.005


@dataclass(frozen=True)
class Capsule:
    """A segment ``a``-``b`` swept by a sphere of ``radius``."""

    name: str
    a: np.ndarray
    b: np.ndarray
    radius: float


def _capsules() -> tuple[Capsule, ...]:
    """Torso (two side-by-side capsules: a chest is wider than deep), neck and head, from the rest skeleton."""
    rest = signing_skeleton().rest_positions()
    neck, head = rest[JOINT_INDEX["Neck"]], rest[JOINT_INDEX["Head"]]
    pelvis = rest[JOINT_INDEX["Pelvis"]]
    torso_top = np.array([0.0, neck[1] - 0.06, -0.015])
    torso_bottom = np.array([0.0, pelvis[1] + 0.05, -0.015])
    side = np.array([0.065, 0.0, 0.0])
    return (
        Capsule("torso_left", torso_bottom + side, torso_top + side, 0.095),
        Capsule("torso_right", torso_bottom - side, torso_top - side, 0.095),
        Capsule("neck", neck + np.array([0.0, -0.03, 0.0]), head, 0.055),
        Capsule("head", head + np.array([0.0, 0.03, 0.02]), head + np.array([0.0, 0.1, 0.02]), 0.09),
    )


BODY_CAPSULES: tuple[Capsule, ...] = _capsules()
_STARTS = np.stack([c.a for c in BODY_CAPSULES])
_AXES = np.stack([c.b - c.a for c in BODY_CAPSULES])
_RADII = np.array([c.radius for c in BODY_CAPSULES])


def body_penetration(points: np.ndarray) -> np.ndarray:
    """Deepest penetration (metres) of each point (..., 3) into any body capsule (all capsules at once)."""
    relative = points[..., None, :] - _STARTS
    t = np.clip(np.einsum("...ck,ck->...c", relative, _AXES) / np.einsum("ck,ck->c", _AXES, _AXES), 0.0, 1.0)
    offset = relative - t[..., None] * _AXES
    distance = np.sqrt(np.einsum("...ck,...ck->...c", offset, offset))
    return np.maximum(_RADII - distance, 0.0).max(axis=-1)


def shoulder_plane_z() -> float:
    """Depth of the shoulders' frontal plane: a raised hand behind it is reaching backwards."""
    rest = signing_skeleton().rest_positions()
    return float(0.5 * (rest[JOINT_INDEX["L_Shoulder"], 2] + rest[JOINT_INDEX["R_Shoulder"], 2]))


def chest_level_y() -> float:
    """Height above which a wrist counts as raised (a quarter shoulder width below the shoulders)."""
    skeleton = signing_skeleton()
    rest = skeleton.rest_positions()
    return float(rest[JOINT_INDEX["L_Shoulder"], 1] - 0.25 * skeleton.shoulder_width())
