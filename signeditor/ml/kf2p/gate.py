"""The residual gate: how much of KF2P's departure from the plain cubic in-between to keep, by context.

The network beats Catmull-Rom by a wide margin across long gaps (isolated signs and letters with FAST's
onset / middle / offset keys, leaving and returning to rest) but not across short ones (keys every 8 frames,
continuous signing), where the spline is already good. So the gate is a table over what the generator sees at
inference, never over what kind of signing a clip is: gap kind (rest gap: next to a clip-end anchor where the
signer is at rest; signing gap: any other) × gap length in frames (2-3 buckets) × stream (the jaw follows
the body, the two hands share a value). It is chosen after training on the validation clips, with the keyframe
layouts the product uses (FAST's and every 8 frames): among the candidate tables (bucket edges from
``GAP_EDGE_CANDIDATES``, values from ``GATE_CANDIDATES``) under which no kind of signing is worse than cubic on
hands or body with either layout, on all validation clips and on each half of them (a guard against a table
that only fits these clips), the one with the lowest mean error ratio to cubic. Gate 0 everywhere is always
admissible (it *is* cubic), so a model that cannot beat the spline anywhere degrades to the spline.

Stored in the checkpoint's meta as ``residual_gate`` (flat: [rest, signing] × bucket × [body, left hand, right
hand, jaw]) and ``residual_gate_gap_edges`` (frames), and applied after sampling by
:func:`signeditor.ml.kf2p.representation.apply_residual_gate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from signeditor.core.kinematics import forward_kinematics, shoulder_width
from signeditor.core.motion import STREAMS
from signeditor.core.skeleton import BODY_POINT_INDICES, HAND_POINT_INDICES
from signeditor.ml.kf2p.api import Generator
from signeditor.ml.kf2p.representation import (
    blend_streams,
    gap_lengths,
    plain_cubic,
    rest_gaps,
    stream_mask_from_columns,
)
from signeditor.ml.kf2p.training import TrainClip, clip_keyframes

GATE_CANDIDATES = (0.0, 0.5, 1.0)
#: Gap-length bucket edges tried (frames at 25 fps; bucket k: ``edges[k-1] < gap <= edges[k]``). 8 is the
#: regular layout's spacing, so "short" holds every regular gap.
GAP_EDGE_CANDIDATES: tuple[tuple[int, ...], ...] = ((), (8,), (12,), (8, 12), (8, 16), (8, 24), (12, 24))
#: The regular keyframe layout scored beside FAST's (the issue's "every 8 frames"; eval kf2p --keyframes every8).
REGULAR_EVERY = 8
_HANDS = np.array(HAND_POINT_INDICES)
_BODY = np.array(BODY_POINT_INDICES)
#: (body, hands) shares tried per table cell; the jaw follows the body, both hands share one value.
_SHARES = list(itertools.product(GATE_CANDIDATES, GATE_CANDIDATES))
_CHUNK = 20000


@dataclass
class _Rows:
    """The scored frames of every validation case: per frame its context and its (hands, body) error for each
    (body, hands) share in ``_SHARES``, so any table is scored without re-running forward kinematics."""

    errors: np.ndarray  # (len(_SHARES), N, 2) MPJPE in shoulder widths
    rest: np.ndarray  # (N,) True in a rest gap
    gap: np.ndarray  # (N,) the body anchors' spacing around the frame
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


def _errors(features: np.ndarray, truth: np.ndarray, scale: np.ndarray) -> np.ndarray:
    err = np.linalg.norm(forward_kinematics(features) / scale[:, None, None] - truth, axis=-1)
    return np.stack([err[:, _HANDS].mean(axis=1), err[:, _BODY].mean(axis=1)], axis=1)


def _validation_rows(generator: Generator, clips: list[TrainClip]) -> _Rows:
    names = ("generated", "plain", "rest", "gap", "truth", "scale", "case")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
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
            parts["generated"].append(generated[between])
            parts["plain"].append(plain_cubic(values, stream_mask)[between])
            parts["rest"].append(rest_gaps(stream_mask, values)[between])
            parts["gap"].append(gap_lengths(stream_mask)[between, STREAMS.index("body")])
            parts["truth"].append(truth[between] / scale)
            parts["scale"].append(np.full(len(between), scale))
            parts["case"].append(np.full(len(between), len(groups)))
            groups.append(f"{_group(clip)}/{layout}")
    rows = {k: np.concatenate(v) for k, v in parts.items()}
    n = len(rows["case"])
    errors = np.stack([_errors(blend_streams(rows["generated"], rows["plain"], np.tile([b, h, h, b], (n, 1))),
                               rows["truth"], rows["scale"]) for b, h in _SHARES])
    return _Rows(errors, rows["rest"], rows["gap"], rows["case"], groups)


def _group_weights(case_group: list[str], part: int | None = None) -> tuple[list[str], np.ndarray]:
    """(groups, G × cases) averaging per-case errors into per-group means; ``part`` 0 / 1 keeps alternate
    cases of each group (the two halves of validation)."""
    groups = sorted(set(case_group))
    weights = np.zeros((len(groups), len(case_group)))
    for i, g in enumerate(groups):
        cases = [c for c, name in enumerate(case_group) if name == g]
        weights[i, cases if part is None else cases[part::2]] = 1.0
    return groups, weights / np.maximum(weights.sum(axis=1, keepdims=True), 1.0)


def _fit_edges(rows: _Rows, edges: tuple[int, ...]) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The best admissible table for one set of bucket edges: (score, share index per cell, ratios G × 2)."""
    n_buckets = len(edges) + 1
    cell = np.where(rows.rest, 0, n_buckets) + np.searchsorted(np.asarray(edges, dtype=np.int64), rows.gap)
    n_cells, n_cases = 2 * n_buckets, len(rows.case_group)
    counts = np.maximum(np.bincount(rows.case, minlength=n_cases), 1)
    # per cell, share and case: that cell's contribution to the case's mean (hands, body) error
    contrib = np.zeros((n_cells, len(_SHARES), n_cases, 2))
    for c in range(n_cells):
        in_cell = cell == c
        for k in range(len(_SHARES)):
            for j in range(2):
                contrib[c, k, :, j] = np.bincount(rows.case[in_cell], rows.errors[k, in_cell, j],
                                                  minlength=n_cases) / counts
    _, full = _group_weights(rows.case_group)
    weightings = [full, _group_weights(rows.case_group, 0)[1], _group_weights(rows.case_group, 1)[1]]
    cubic = [w @ contrib[:, 0].sum(axis=0) for w in weightings]
    best = None
    tables = np.array(list(itertools.product(range(len(_SHARES)), repeat=n_cells)))
    for start in range(0, len(tables), _CHUNK):
        chunk = tables[start:start + _CHUNK]
        per_case = sum(contrib[c, chunk[:, c]] for c in range(n_cells))  # (M, cases, 2)
        ratios = [np.einsum("gc,mcj->mgj", w, per_case) / np.maximum(cub, 1e-12)
                  for w, cub in zip(weightings, cubic, strict=True)]
        admissible = np.all([r.reshape(len(chunk), -1).max(axis=1) <= 1.0 + 1e-6 for r in ratios], axis=0)
        score = np.where(admissible, ratios[0].reshape(len(chunk), -1).mean(axis=1), np.inf)
        i = int(score.argmin())
        if best is None or score[i] < best[0] - 1e-12:
            best = (float(score[i]), chunk[i], ratios[0][i])
    return best


def fit_residual_gate(generator: Generator, clips: list[TrainClip],
                      log: Callable[[str], None] | None = None) -> tuple[list[float], dict]:
    """The gate chosen on ``clips``: flat floats, [rest, signing gap] × gap-length bucket × (body, left hand,
    right hand, jaw) (``representation.gate_table``). Returns it with a report: the bucket edges
    (``gap_edges``), each group's hands / body error ratio to cubic under it, per layout ("group/layout")."""
    saved = generator.residual_gate
    generator.residual_gate = None
    try:
        rows = _validation_rows(generator, clips)
    finally:
        generator.residual_gate = saved
    groups = sorted(set(rows.case_group))
    best: tuple[float, tuple[int, ...], np.ndarray, np.ndarray] | None = None
    for edges in GAP_EDGE_CANDIDATES:
        found = _fit_edges(rows, edges)
        if found is None:
            continue
        score, cells, ratios = found
        if log is not None:
            log(f"gap edges {list(edges)}: mean ratio to cubic {score:.4f}, (body, hands) per cell "
                f"{[_SHARES[k] for k in cells]}")
        if best is None or score < best[0] - 1e-12:
            best = (score, edges, cells, ratios)
    assert best is not None and np.isfinite(best[0])  # gate 0 everywhere equals cubic, so it is always admissible
    score, edges, cells, ratios = best
    gate = [v for k in cells for v in (_SHARES[k][0], _SHARES[k][1], _SHARES[k][1], _SHARES[k][0])]
    report = {g: {"hands": float(ratios[i, 0]), "body": float(ratios[i, 1])} for i, g in enumerate(groups)}
    return gate, {"mean_ratio_to_cubic": score, "ratios_to_cubic": report, "gap_edges": list(edges),
                  "cases": len(rows.case_group)}
