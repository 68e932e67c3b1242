"""The residual gate: per stream, how much of KF2P's departure from the plain cubic in-between to keep.

The network (and its tensioned base spline) beats Catmull-Rom by a wide margin on isolated signs and
letters, but on continuous signing it has at times been worse than the spline. The gate is chosen after
training on the validation clips, with the keyframe layouts the product uses (FAST's onset / middle / offset
and regular keyframes every 8 frames): among the candidates under which no kind of signing is worse than
cubic on hands or body, the one with the lowest mean error ratio to cubic. Gate 0 everywhere is always
admissible (it *is* cubic), so a model that cannot beat the spline anywhere degrades to the spline.

Stored in the checkpoint's meta as ``residual_gate`` (four floats: body, left hand, right hand, jaw) and
applied after sampling by :func:`signeditor.ml.kf2p.representation.apply_residual_gate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from signeditor.core.kinematics import forward_kinematics, shoulder_width
from signeditor.core.skeleton import BODY_POINT_INDICES, HAND_POINT_INDICES
from signeditor.ml.kf2p.api import Generator
from signeditor.ml.kf2p.representation import apply_residual_gate, plain_cubic, stream_mask_from_columns
from signeditor.ml.kf2p.training import TrainClip, clip_keyframes

GATE_CANDIDATES = (0.0, 0.5, 1.0)
REGULAR_EVERY = 8
_HANDS = np.array(HAND_POINT_INDICES)
_BODY = np.array(BODY_POINT_INDICES)


@dataclass
class _Case:
    """One validation clip under one keyframe layout: the model's output, the plain cubic, the truth."""

    group: str
    generated: np.ndarray
    plain: np.ndarray
    stream_mask: np.ndarray
    truth: np.ndarray  # (T, J, 3) positions in shoulder widths
    scale: float  # the clip's shoulder width
    between: np.ndarray  # natural frames strictly between keyframes


def _layouts(clip: TrainClip) -> list[np.ndarray]:
    n = len(clip.features)
    layouts = [np.unique(np.r_[np.arange(0, n, REGULAR_EVERY), n - 1])]
    whole = clip_keyframes(clip)
    if whole is not None:
        layouts.append(whole)
    return layouts


def _group(clip: TrainClip) -> str:
    return "natural_continuous" if clip.natural_continuous else clip.kind or "other"


def _errors(features: np.ndarray, case: _Case) -> tuple[float, float]:
    positions = forward_kinematics(features)[case.between] / case.scale
    err = np.linalg.norm(positions - case.truth[case.between], axis=-1)
    return float(err[:, _HANDS].mean()), float(err[:, _BODY].mean())


def fit_residual_gate(generator: Generator, clips: list[TrainClip],
                      log: Callable[[str], None] | None = None) -> tuple[list[float], dict]:
    """The gate chosen on ``clips``: 8 floats, (body, left hand, right hand, jaw) for edge gaps then for interior
    gaps (``representation.gate_weights``); the jaw follows the body, the two hands share one value. Returns it
    with a report: each group's hands / body error ratio to cubic under it."""
    saved = generator.residual_gate
    generator.residual_gate = None
    cases: list[_Case] = []
    try:
        for clip in clips:
            truth = forward_kinematics(clip.features)
            scale = shoulder_width(truth[0])
            for frames in _layouts(clip):
                between = np.setdiff1d(np.arange(frames[0] + 1, frames[-1]), frames)
                if clip.stitched is not None:
                    between = between[~clip.stitched[between]]
                if len(between) < 3:
                    continue
                mask = np.zeros_like(clip.features)
                mask[frames] = 1.0
                values = clip.features * mask
                generated = generator.generate_features(values, mask, text=clip.text,
                                                        signed_language=clip.signed_language)
                stream_mask = stream_mask_from_columns(mask)
                cases.append(_Case(_group(clip), generated, plain_cubic(values, stream_mask), stream_mask,
                                   truth / scale, scale, between))
    finally:
        generator.residual_gate = saved
    cubic = [_errors(c.plain, c) for c in cases]
    best: tuple[float, list[float], dict] | None = None
    for edge_body, edge_hands, body, hands in itertools.product(*[GATE_CANDIDATES] * 4):
        gate = np.array([[edge_body, edge_hands, edge_hands, edge_body], [body, hands, hands, body]])
        sums: dict[str, np.ndarray] = {}
        for case, (cubic_hands, cubic_body) in zip(cases, cubic, strict=True):
            gated = apply_residual_gate(case.generated, case.plain, gate, case.stream_mask)
            hands_err, body_err = _errors(gated, case)
            sums.setdefault(case.group, np.zeros(4))
            sums[case.group] += (hands_err, body_err, cubic_hands, cubic_body)
        ratios = {g: {"hands": float(v[0] / v[2]), "body": float(v[1] / v[3])} for g, v in sorted(sums.items())}
        values = [r for group in ratios.values() for r in group.values()]
        score = float(np.mean(values)) if values else 1.0
        admissible = max(values, default=1.0) <= 1.0 + 1e-6
        if log is not None and admissible:
            log(f"residual gate {gate.ravel().tolist()}: mean ratio to cubic {score:.4f}")
        if not admissible:
            continue
        if best is None or score < best[0] - 1e-12:
            best = (score, gate.ravel().tolist(), ratios)
    assert best is not None  # gate 0 everywhere equals cubic, so it is always admissible
    return best[1], {"mean_ratio_to_cubic": best[0], "ratios_to_cubic": best[2], "cases": len(cases)}
