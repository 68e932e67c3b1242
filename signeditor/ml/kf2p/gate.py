"""The residual gate: per stream, how much of KF2P's departure from the plain cubic in-between to keep.

The network (and its tensioned base spline) beats Catmull-Rom by a wide margin where a signer leaves or
returns to rest (isolated signs, letters), but between signs (continuous signing) it has been worse than the
spline. So the gate has one value per stream for rest gaps and one for signing gaps. The gate is chosen after
training on the validation clips, with the keyframe layouts the product uses (FAST's onset / middle / offset
and regular keyframes every 8 frames): among the candidates under which no kind of signing is worse than
cubic on hands or body with either layout, the one with the lowest mean error ratio to cubic. Gate 0
everywhere is always admissible (it *is* cubic), so a model that cannot beat the spline anywhere degrades to the spline.

Stored in the checkpoint's meta as ``residual_gate`` (eight floats: body, left hand, right hand, jaw for rest
gaps, then the same for signing gaps) and applied after sampling by
:func:`signeditor.ml.kf2p.representation.apply_residual_gate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from signeditor.core.kinematics import forward_kinematics, shoulder_width
from signeditor.core.skeleton import BODY_POINT_INDICES, HAND_POINT_INDICES
from signeditor.ml.kf2p.api import Generator
from signeditor.ml.kf2p.representation import blend_streams, gate_weights, plain_cubic, stream_mask_from_columns
from signeditor.ml.kf2p.training import TrainClip, clip_keyframes

GATE_CANDIDATES = (0.0, 0.5, 1.0)
#: The regular keyframe layout scored beside FAST's (the issue's "every 8 frames"; eval kf2p --keyframes every8).
REGULAR_EVERY = 8
_HANDS = np.array(HAND_POINT_INDICES)
_BODY = np.array(BODY_POINT_INDICES)


@dataclass
class _Rows:
    """The scored frames of every validation case, stacked so one forward-kinematics call scores a gate."""

    generated: np.ndarray  # (N, 246) the model's output on those frames
    plain: np.ndarray  # (N, 246) the plain cubic
    rest: np.ndarray  # (N,) 1 in a rest gap (gate row 0), 0 in a signing gap (row 1)
    truth: np.ndarray  # (N, J, 3) in shoulder widths
    scale: np.ndarray  # (N,) the clip's shoulder width
    case: np.ndarray  # (N,) which case (clip and layout) the frame belongs to
    case_group: list[str]


def _layouts(clip: TrainClip) -> list[tuple[str, np.ndarray]]:
    n = len(clip.features)
    layouts = [("every8", np.unique(np.r_[np.arange(0, n, REGULAR_EVERY), n - 1]))]
    whole = clip_keyframes(clip)
    if whole is not None:
        layouts.append(("fast", whole))
    return layouts


def _group(clip: TrainClip) -> str:
    return "natural_continuous" if clip.natural_continuous else clip.kind or "other"


def _validation_rows(generator: Generator, clips: list[TrainClip]) -> _Rows:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("generated", "plain", "rest", "truth", "scale", "case")}
    groups: list[str] = []
    for clip in clips:
        truth = forward_kinematics(clip.features)
        scale = shoulder_width(truth[0])
        for layout, frames in _layouts(clip):
            between = np.setdiff1d(np.arange(frames[0] + 1, frames[-1]), frames)
            if clip.stitched is not None:
                between = between[~clip.stitched[between]]
            if len(between) < 3:
                continue
            mask = np.zeros_like(clip.features)
            mask[frames] = 1.0
            values = clip.features * mask
            generated = generator.generate_features(values, mask, text=clip.text, signed_language=clip.signed_language)
            stream_mask = stream_mask_from_columns(mask)
            rest = gate_weights(np.array([[1.0] * 4, [0.0] * 4]), stream_mask, values)[:, 0]
            parts["generated"].append(generated[between])
            parts["plain"].append(plain_cubic(values, stream_mask)[between])
            parts["rest"].append(rest[between])
            parts["truth"].append(truth[between] / scale)
            parts["scale"].append(np.full(len(between), scale))
            parts["case"].append(np.full(len(between), len(groups)))
            groups.append(f"{_group(clip)}/{layout}")
    return _Rows(**{k: np.concatenate(v) for k, v in parts.items()}, case_group=groups)


def _group_errors(features: np.ndarray, rows: _Rows) -> dict[str, np.ndarray]:
    """Per group, the mean over its cases of each case's (hands, body) MPJPE in shoulder widths."""
    err = np.linalg.norm(forward_kinematics(features) / rows.scale[:, None, None] - rows.truth, axis=-1)
    counts = np.bincount(rows.case)
    per_case = np.stack([np.bincount(rows.case, err[:, _HANDS].mean(axis=1)) / counts,
                         np.bincount(rows.case, err[:, _BODY].mean(axis=1)) / counts], axis=1)
    groups = np.array(rows.case_group)
    return {g: per_case[groups == g].mean(axis=0) for g in sorted(set(rows.case_group))}


def _gated(rows: _Rows, gate: np.ndarray) -> np.ndarray:
    rest = rows.rest[:, None]
    return blend_streams(rows.generated, rows.plain, rest * gate[0] + (1.0 - rest) * gate[1])


def fit_residual_gate(generator: Generator, clips: list[TrainClip],
                      log: Callable[[str], None] | None = None) -> tuple[list[float], dict]:
    """The gate chosen on ``clips``: 8 floats, (body, left hand, right hand, jaw) for rest gaps then for signing
    gaps (``representation.gate_weights``); the jaw follows the body, the two hands share one value. Returns it
    with a report: each group's hands / body error ratio to cubic under it, per layout ("group/layout")."""
    saved = generator.residual_gate
    generator.residual_gate = None
    try:
        rows = _validation_rows(generator, clips)
    finally:
        generator.residual_gate = saved
    cubic = _group_errors(rows.plain, rows)
    best: tuple[float, list[float], dict] | None = None
    for rest_body, rest_hands, body, hands in itertools.product(*[GATE_CANDIDATES] * 4):
        gate = np.array([[rest_body, rest_hands, rest_hands, rest_body], [body, hands, hands, body]])
        errors = _group_errors(_gated(rows, gate), rows)
        ratios = {g: {"hands": float(e[0] / cubic[g][0]), "body": float(e[1] / cubic[g][1])} for g, e in errors.items()}
        values = [r for group in ratios.values() for r in group.values()]
        score = float(np.mean(values)) if values else 1.0
        admissible = max(values, default=1.0) <= 1.0 + 1e-6
        if log is not None:
            log(f"residual gate {gate.ravel().tolist()}: mean ratio to cubic {score:.4f}"
                + ("" if admissible else "; worse than cubic: " + ", ".join(
                    f"{g} {k} {r:.3f}" for g, v in ratios.items() for k, r in v.items() if r > 1.0 + 1e-6)))
        if admissible and (best is None or score < best[0] - 1e-12):
            best = (score, gate.ravel().tolist(), ratios)
    assert best is not None  # gate 0 everywhere equals cubic, so it is always admissible
    return best[1], {"mean_ratio_to_cubic": best[0], "ratios_to_cubic": best[2], "cases": len(rows.case_group)}
