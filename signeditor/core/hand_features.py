"""Per-hand feature streams for segmentation: hand pose, wrist place and wrist motion.

Only the arm chains matter for where the wrists are, so this runs forward
kinematics on the collar-shoulder-elbow-wrist chain alone; it gives the same
wrist and shoulder positions as ``kinematics.forward_kinematics`` (a test
checks it) at a fraction of the cost, which is what lets the segmenter run at
tens of thousands of frames per second.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from signeditor.core import rotations
from signeditor.core.motion import IDENTITY_6D, STREAM_SLICES
from signeditor.core.skeleton import BODY_JOINTS, signing_skeleton

SIDES: tuple[str, ...] = ("L", "R")
_HAND_STREAM = {"L": "left_hand", "R": "right_hand"}
#: 90 hand rotations + 6 wrist world orientation + 3 wrist position + 3 wrist velocity + 1 speed.
HAND_FEATURE_DIM: int = 90 + 6 + 3 + 3 + 1
_CHAIN: tuple[str, ...] = ("Collar", "Shoulder", "Elbow", "Wrist")


@lru_cache(maxsize=1)
def _chain_constants() -> dict[str, np.ndarray | float]:
    """Rest offsets along each arm chain and the shoulder frame used for normalising."""
    skeleton = signing_skeleton()
    rest = skeleton.rest_positions()
    constants: dict[str, np.ndarray | float] = {}
    for side in SIDES:
        collar = skeleton.index(f"{side}_Collar")
        constants[f"{side}_collar_pos"] = rest[collar]
        for joint in _CHAIN[1:]:
            constants[f"{side}_{joint}_offset"] = skeleton.offsets[skeleton.index(f"{side}_{joint}")]
    constants["shoulder_width"] = skeleton.shoulder_width()
    return constants


def _body_column(side: str, joint: str) -> slice:
    index = BODY_JOINTS.index(f"{side}_{joint}")
    return slice(STREAM_SLICES["body"].start + 6 * index, STREAM_SLICES["body"].start + 6 * index + 6)


def _chain_columns(side: str) -> np.ndarray:
    return np.concatenate([np.arange(_body_column(side, j).start, _body_column(side, j).stop) for j in _CHAIN])


def arm_chain(features: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shoulder position, wrist position (T, 3) and wrist world rotation (T, 3, 3) for one side."""
    c = _chain_constants()
    n = features.shape[0]
    local = rotations.rot6d_to_matrix(features[:, _chain_columns(side)].reshape(n, len(_CHAIN), 6))
    world = local[:, 0]
    shoulder = c[f"{side}_collar_pos"] + world @ c[f"{side}_Shoulder_offset"]
    world = world @ local[:, 1]
    elbow = shoulder + world @ c[f"{side}_Elbow_offset"]
    world = world @ local[:, 2]
    wrist = elbow + world @ c[f"{side}_Wrist_offset"]
    world = world @ local[:, 3]
    return shoulder, wrist, world


def hand_feature_streams(features: np.ndarray, fps: float = 25.0) -> np.ndarray:
    """(2, T, HAND_FEATURE_DIM) float32 for the left and right hand.

    Positions are relative to the mid-shoulder point in shoulder widths, and
    velocities in shoulder widths per second, so signers of any size and
    clips at any frame rate look alike to the model.
    """
    return hand_feature_streams_many([features], fps)[0]


def hand_feature_streams_many(clips: list[np.ndarray], fps: float = 25.0) -> list[np.ndarray]:
    """``hand_feature_streams`` of several clips, computed in one pass over all their frames (much faster
    for many short clips, since the per-call overhead of the rotation maths dominates there)."""
    return hand_features_and_wrists_many(clips, fps)[0]


def hand_features_and_wrists_many(clips: list[np.ndarray],
                                  fps: float = 25.0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`hand_feature_streams_many` and each clip's :func:`wrist_positions` (the same numbers), from one pass
    of the arm chains: the segmenter's decoder needs both, and the chains are most of the cost."""
    lengths = [len(c) for c in clips]
    features = np.concatenate([np.asarray(c, dtype=np.float32) for c in clips]) if clips else np.zeros((0, 246))
    n = features.shape[0]
    width = float(_chain_constants()["shoulder_width"])
    chains = {side: arm_chain(features, side) for side in SIDES}
    centre = 0.5 * (chains["L"][0] + chains["R"][0])
    out = np.empty((2, n, HAND_FEATURE_DIM), dtype=np.float32)
    wrists = np.empty((n, 2, 3))
    bounds = np.cumsum([0, *lengths])
    for k, side in enumerate(SIDES):
        _, wrist, wrist_rot = chains[side]
        position = (wrist - centre) / width
        wrists[:, k] = position
        velocity = np.zeros_like(position)
        if n > 1:
            velocity[1:] = np.diff(position, axis=0) * fps
        for a, b in itertools.pairwise(bounds):
            # The first frame of each clip has no predecessor in it: copy the next frame's velocity.
            if b > a:
                velocity[a] = velocity[a + 1] if b - a > 1 else 0.0
        hand = features[:, STREAM_SLICES[_HAND_STREAM[side]]] - np.tile(IDENTITY_6D, 15)
        out[k, :, :90] = hand
        out[k, :, 90:96] = rotations.matrix_to_rot6d(wrist_rot).reshape(n, 6) - IDENTITY_6D
        out[k, :, 96:99] = position
        out[k, :, 99:102] = velocity
        out[k, :, 102] = np.linalg.norm(velocity, axis=1)
    spans = list(itertools.pairwise(bounds))
    return [out[:, a:b] for a, b in spans], [wrists[a:b] for a, b in spans]


def wrist_positions(features: np.ndarray) -> np.ndarray:
    """(T, 2, 3) left and right wrist positions relative to the mid-shoulder point, in shoulder widths."""
    chains = {side: arm_chain(np.asarray(features, dtype=np.float32), side) for side in SIDES}
    centre = 0.5 * (chains["L"][0] + chains["R"][0])
    width = float(_chain_constants()["shoulder_width"])
    return np.stack([(chains[s][1] - centre) / width for s in SIDES], axis=1)


def track_speed(positions: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame speed of point tracks (T, ..., 3) -> (T, ...); the first frame repeats the second's speed."""
    positions = np.asarray(positions)
    if len(positions) < 2:
        return np.zeros(positions.shape[:-1])
    speed = np.linalg.norm(np.diff(positions, axis=0), axis=-1) * fps
    return np.concatenate([speed[:1], speed])
