"""Synthetic signing-like motions with known segments, for tests, benchmarks and smoke training.

A "sign" raises one or both arms from rest, holds a random handshape with a
small movement, and returns or goes straight into the next sign; this has
the structure the segmenter must find (rest, transition, sign) without
needing the research-licensed corpus.
"""

from __future__ import annotations

import numpy as np

from signeditor.core import rotations
from signeditor.core.motion import STREAM_SLICES, Motion, identity_features
from signeditor.core.segments import Segment, labels_from_segments
from signeditor.core.skeleton import BODY_JOINTS

_BODY = STREAM_SLICES["body"].start


def _set_joint(features: np.ndarray, joint: str, axis_angle: np.ndarray) -> None:
    col = _BODY + 6 * BODY_JOINTS.index(joint)
    features[:, col : col + 6] = rotations.axis_angle_to_rot6d(axis_angle).reshape(len(features), 6)


def _pose_track(n: int, arm_raise: np.ndarray, elbow_bend: np.ndarray, curls: np.ndarray, side_active: tuple[bool, bool]
                ) -> np.ndarray:
    """Features for ``n`` frames from per-frame arm raise / elbow bend (0 rest .. 1 signing) and finger curls."""
    features = identity_features(n)
    for side, sign_x, active in (("L", -1.0, side_active[0]), ("R", 1.0, side_active[1])):
        lift = arm_raise if active else np.zeros(n)
        bend = elbow_bend if active else np.zeros(n)
        shoulder = np.zeros((n, 3))
        shoulder[:, 2] = sign_x * (1.25 - 0.8 * lift)  # arms hang down at rest, come up to sign
        shoulder[:, 1] = -sign_x * 0.4 * lift
        elbow = np.zeros((n, 3))
        elbow[:, 1] = -sign_x * (0.2 + 1.6 * bend)
        _set_joint(features, f"{side}_Shoulder", shoulder)
        _set_joint(features, f"{side}_Elbow", elbow)
        hand = STREAM_SLICES["left_hand" if side == "L" else "right_hand"]
        finger = np.zeros((n, 15, 3))
        finger[:, :, 2] = sign_x * curls * (lift[:, None] if active else 0.2)
        features[:, hand] = rotations.axis_angle_to_rot6d(finger).reshape(n, 90)
    return features


def synthetic_motion(
    rng: np.random.Generator, n_signs: int = 4, fps: float = 25.0, rest_between: bool | None = None
) -> tuple[Motion, list[Segment]]:
    """A motion of ``n_signs`` signs with rest or direct transitions between them, and its true segments."""
    lifts: list[np.ndarray] = []
    bends: list[np.ndarray] = []
    curl_rows: list[np.ndarray] = []
    actives: list[tuple[bool, bool]] = []
    segments: list[Segment] = []
    frame = 0

    def add(n: int, lift: np.ndarray, bend: np.ndarray, curls: np.ndarray, active: tuple[bool, bool]) -> None:
        nonlocal frame
        lifts.append(lift)
        bends.append(bend)
        curl_rows.append(np.repeat(curls[None], n, axis=0))
        actives.extend([active] * n)
        frame += n

    rest_curls = np.full(15, 0.2)
    lead = int(rng.integers(5, 15))
    add(lead, np.zeros(lead), np.zeros(lead), rest_curls, (False, False))
    previous_up = False
    for k in range(n_signs):
        active = (bool(rng.random() < 0.3), True)
        curls = rng.uniform(0.0, 1.4, 15)
        rest = rest_between if rest_between is not None else bool(rng.random() < 0.5)
        if not previous_up:
            up = int(rng.integers(4, 8))
            ramp = np.sin(np.linspace(0, np.pi / 2, up)) ** 2
            add(up, ramp, ramp, rest_curls, active)
        else:
            tr = int(rng.integers(2, 4))
            add(tr, np.ones(tr), np.ones(tr), curls * 0.5, active)
        length = int(rng.integers(8, 20))
        wiggle = 0.85 + 0.15 * np.sin(np.linspace(0, rng.uniform(2, 6) * np.pi, length))
        segments.append(Segment(frame, frame + length, gloss=f"SIGN{k + 1}"))
        add(length, wiggle, np.ones(length) * rng.uniform(0.7, 1.0), curls, active)
        last = k == n_signs - 1
        if rest or last:
            down = int(rng.integers(4, 8))
            ramp = np.cos(np.linspace(0, np.pi / 2, down)) ** 2
            add(down, ramp, ramp, rest_curls, active)
            hold = int(rng.integers(4, 12))
            add(hold, np.zeros(hold), np.zeros(hold), rest_curls, (False, False))
            previous_up = False
        else:
            previous_up = True
    n = frame
    features = identity_features(n)
    lift = np.concatenate(lifts)
    bend = np.concatenate(bends)
    curls_all = np.concatenate(curl_rows)
    for i in range(n):
        features[i] = _pose_track(1, lift[i : i + 1], bend[i : i + 1], curls_all[i], actives[i])[0]
    features += rng.normal(0, 0.003, features.shape).astype(np.float32)
    features = rotations.orthonormalize_rot6d(features.reshape(n, -1, 6)).reshape(n, -1).astype(np.float32)
    return Motion(fps, features), segments


def synthetic_labels(segments: list[Segment], n_frames: int) -> np.ndarray:
    return np.asarray(labels_from_segments(segments, n_frames), dtype=np.int8)
