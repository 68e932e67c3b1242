"""Evaluate KF2P in-betweening against slerp and cubic on held-out clips (positions after forward kinematics).

Every metric leaves out the inserted straight-line transitions of stitched files (the DGS sentences): there
the ground truth *is* an interpolation, which would reward the splines. Natural continuous signing (How2Sign,
PHOENIX: ``NATURAL_CONTINUOUS_DATASETS``) is reported as its own group, ``natural_continuous``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.kinematics import forward_kinematics, shoulder_width
from signeditor.core.motion import Motion
from signeditor.core.protocols import Segmenter
from signeditor.core.segments import segments_from_labels
from signeditor.core.skeleton import HAND_POINT_INDICES
from signeditor.evaluation.pose_alignment_metrics import BODY_POINTS, dtw_mean_cost, paper_metrics, translation_cost
from signeditor.io.errors import FileFormatError
from signeditor.ml.kf2p.keyframe_sampling import onset_middle_offset

HAND_JOINTS = np.array(HAND_POINT_INDICES)
#: "base": KF2P's base spline alone (the network's residual left out), to show what the network adds.
METHODS = ("kf2p", "base", "slerp", "cubic")
FALLBACK_EVERY = 12
#: ``--keyframes every8``: regular keyframes, one every this many frames (and the last frame).
REGULAR_EVERY = 8
#: The group of natural continuous signing, reported beside the per-dataset groups.
NATURAL_GROUP = "natural_continuous"
#: Metrics also reported per kind of signing (corpus dataset): continuous signing and isolated signs differ.
GROUPED_METRICS = ("mpjpe_hands", "mpjpe_body", "dtw_jpe_hands", "dtw_jpe_body")
#: Metrics whose KF2P-to-slerp ratio and reductions are reported (the issue's targets and the paper's table).
RATIO_METRICS = ("mpjpe_hands", "mpjpe_body", "dtw_jpe_hands", "dtw_jpe_body", "dtw_pa_jpe_hands", "dtw_pa_jpe_body")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None, help="folder of .pose clips to evaluate")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder; evaluates its held-out split")
    parser.add_argument("--split", default="val", choices=("val", "test"), help="held-out corpus split")
    parser.add_argument("--weights", type=Path, default=None, help="KF2P weights (default: shipped)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise-scale", type=float, default=None, help="override the model's sampling noise scale")
    parser.add_argument("--max-clips", type=int, default=None)
    parser.add_argument("--keyframes", default="fast", choices=("fast", "labels", "every8"),
                        help="onset/middle/offset keyframes from FAST (the editor's layout) or from the corpus "
                             f"labels, or regular keyframes every {REGULAR_EVERY} frames")


def _dtw_mje(pred: np.ndarray, real: np.ndarray) -> float:
    """Mean error of every joint, unaligned, along the dynamic-time-warping path (tolerates timing differences)."""
    return dtw_mean_cost(translation_cost(pred, real))


def clip_metrics(pred: np.ndarray, real: np.ndarray, keyframes: np.ndarray, fps: float,
                 natural: np.ndarray | None = None) -> dict[str, float] | None:
    """Metrics in shoulder widths: MPJPE on frames strictly between the first and last keyframe; the DTW metrics
    (ours and the paper's DTW-JPE / DTW-PA-JPE) and acceleration on the span from the first to the last keyframe.

    ``natural`` (T,) False on inserted stitched frames: those are left out of every metric (the DTW ones see
    the span's natural frames only, acceleration only second differences of three natural frames)."""
    if len(keyframes) < 2:
        return None
    natural = np.ones(len(real), dtype=bool) if natural is None else np.asarray(natural, dtype=bool)
    p_all, r_all = forward_kinematics(pred), forward_kinematics(real)
    scale = shoulder_width(r_all[0])
    lo, hi = int(keyframes[0]), int(keyframes[-1])
    between = np.setdiff1d(np.arange(lo + 1, hi), keyframes)
    between = between[natural[between]]
    if len(between) < 3:
        return None
    p, r = p_all / scale, r_all / scale
    err = np.linalg.norm(p - r, axis=-1)
    span = np.arange(lo, hi + 1)
    p_win, r_win = p[span[natural[span]]], r[span[natural[span]]]
    steady = natural[lo:hi - 1] & natural[lo + 1:hi] & natural[lo + 2:hi + 1]
    acc_p = np.linalg.norm(np.diff(p[lo:hi + 1], 2, axis=0), axis=-1)[steady].mean() * fps**2
    acc_r = np.linalg.norm(np.diff(r[lo:hi + 1], 2, axis=0), axis=-1)[steady].mean() * fps**2
    return {
        **paper_metrics(p_win, r_win),
        "mpjpe_hands": float(err[between][:, HAND_JOINTS].mean()),
        "mpjpe_body": float(err[between][:, BODY_POINTS].mean()),
        "dtw_mje": _dtw_mje(p_win[::2], r_win[::2]),
        "keyframe_err": float(err[keyframes].mean()),
        "accel_err": float(abs(acc_p - acc_r)),
    }


def _fast_segmenter() -> Segmenter | None:
    try:
        from signeditor.ml.fast.api import load_segmenter

        return load_segmenter()
    except Exception:  # FAST absent or its weights unusable: fall back to labels / fixed spacing.
        return None


def regular_keyframes(n_frames: int, every: int = REGULAR_EVERY) -> np.ndarray:
    """Every ``every`` frames from the first, and the last frame."""
    return np.unique(np.r_[np.arange(0, n_frames, every), n_frames - 1]) if n_frames else np.zeros(0, np.int64)


def keyframes_for(motion: Motion, labels: np.ndarray | None, segmenter: Segmenter | None,
                  layout: str = "fast") -> tuple[np.ndarray, str]:
    """Onset/middle/offset keyframes: from FAST when given one, else labels, else every ``FALLBACK_EVERY`` frames;
    ``layout="every8"``: regular keyframes every ``REGULAR_EVERY`` frames."""
    n = motion.n_frames
    if layout == "every8":
        return regular_keyframes(n), "every8"
    if segmenter is not None:
        frames = onset_middle_offset(segmenter.segment(motion), n)
        if len(frames) >= 2:
            return frames, "fast"
    if labels is not None and (labels >= 0).all():
        frames = onset_middle_offset(segments_from_labels(labels), n)
        if len(frames) >= 2:
            return frames, "labels"
    return np.arange(0, n, FALLBACK_EVERY), "every_n"


@dataclass
class Sample:
    name: str
    motion: Motion
    labels: np.ndarray | None
    text: str
    language: str
    groups: tuple[str, ...]  # its dataset, and NATURAL_GROUP for natural continuous signing
    natural: np.ndarray  # (T,) False on inserted stitched transition frames


def _pose_file_natural(path: Path, n_frames: int) -> np.ndarray:
    """False on the frames of ``path`` (resampled to 25 fps) that are inserted straight-line transitions."""
    from signeditor.data.build import stitched_frames_at
    from signeditor.data.sources import read_raw_pose_points

    return ~stitched_frames_at(read_raw_pose_points(path), n_frames)[1]


def _samples(args: argparse.Namespace) -> list[Sample]:
    """One sample per clip; a corpus clip's group is its dataset (and natural_continuous where it is)."""
    samples = []
    if args.corpus is not None:
        from signeditor.data.corpus import clips_for_split, load_corpus

        for record in clips_for_split(load_corpus(args.corpus), args.split):
            arrays = record.load()
            motion = Motion(25.0, arrays["features"])
            text = " ".join([record.text, *record.glosses]).strip()
            groups = (record.dataset, NATURAL_GROUP) if record.natural_continuous else (record.dataset,)
            samples.append(Sample(record.id, motion, arrays.get("labels"), text, record.signed_language, groups,
                                  ~arrays["stitched"].astype(bool)))
    if args.data is not None:
        from signeditor.io.pose_import import motion_from_pose_file

        for path in sorted(Path(args.data).glob("*.pose")):
            try:
                motion = motion_from_pose_file(path)
                samples.append(Sample(path.name, motion, None, "", "", ("pose files",),
                                      _pose_file_natural(path, motion.n_frames)))
            except FileFormatError as exc:  # one unusable clip (e.g. 2D OpenPose) should not end the evaluation
                print(f"skipping {exc}", file=sys.stderr)
    return samples[: args.max_clips] if args.max_clips else samples


def run(args: argparse.Namespace) -> dict:
    from signeditor.ml.kf2p.api import load_generator

    if args.data is None and args.corpus is None:
        raise SystemExit("give --data DIR (.pose clips) and/or --corpus DIR (held-out split)")
    generator = load_generator(args.weights)
    if args.noise_scale is not None:
        generator.noise_scale = args.noise_scale
    segmenter = _fast_segmenter() if args.keyframes == "fast" else None
    stitched_frames = 0
    per_method: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
    sources: dict[str, int] = {}
    by_group: dict[str, dict[str, dict[str, list[float]]]] = {key: {} for key in GROUPED_METRICS}
    for sample in _samples(args):
        motion, text, language = sample.motion, sample.text, sample.language
        frames, source = keyframes_for(motion, sample.labels, segmenter, args.keyframes)
        anchors = AnchorSet(Anchor(int(f), motion.features[f]) for f in frames)
        preds = {
            "kf2p": generator.regenerate_between_anchors(motion, anchors, steps=args.steps, seed=args.seed,
                                                         text=text, signed_language=language).features,
            "base": generator.base_features(*anchors.keyframes(motion.n_frames)),
            "slerp": interpolate_between_anchors(motion.n_frames, anchors, "slerp", motion.fps),
            "cubic": interpolate_between_anchors(motion.n_frames, anchors, "cubic", motion.fps),
        }
        scored = {m: clip_metrics(p, motion.features, frames, motion.fps, sample.natural) for m, p in preds.items()}
        metrics = {m: v for m, v in scored.items() if v is not None}
        if len(metrics) < len(METHODS):
            continue
        sources[source] = sources.get(source, 0) + 1
        stitched_frames += int((~sample.natural).sum())
        for m in METHODS:
            per_method[m].append(metrics[m])
            for key in GROUPED_METRICS:
                for group in sample.groups:
                    by_group[key].setdefault(group, {}).setdefault(m, []).append(metrics[m][key])
    result: dict = {"clips": len(per_method["kf2p"]), "keyframe_source": sources, "model_version": generator.version,
                    "steps": args.steps or generator.default_steps, "noise_scale": generator.noise_scale,
                    "keyframes": args.keyframes, "stitched_frames_excluded": stitched_frames,
                    "residual_gate": generator.residual_gate.tolist() if generator.residual_gate is not None else None,
                    "residual_gate_gap_edges": list(generator.residual_gate_edges)}
    for m in METHODS:
        if per_method[m]:
            for key in per_method[m][0]:
                result[f"{m}_{key}"] = float(np.mean([d[key] for d in per_method[m]]))
    # Continuous signing and isolated signs behave differently; the mean over clips hides that.
    for key, groups in by_group.items():
        result[f"{key}_by_group"] = {g: {"clips": len(v["kf2p"]), **{m: float(np.mean(x)) for m, x in v.items()}}
                                     for g, v in sorted(groups.items())}
    if per_method["kf2p"]:
        result.update(method_ratios(result))
    return result


def method_ratios(result: dict) -> dict[str, float]:
    """KF2P's error as a share of slerp's (the paper's ratio) and its reduction against slerp and cubic."""
    ratios = {}
    for key in RATIO_METRICS:
        ratios[f"{key}_ratio_kf2p_to_slerp"] = result[f"kf2p_{key}"] / result[f"slerp_{key}"]
        for base in ("slerp", "cubic"):
            ratios[f"{key}_reduction_vs_{base}"] = 1.0 - result[f"kf2p_{key}"] / result[f"{base}_{key}"]
    return ratios
