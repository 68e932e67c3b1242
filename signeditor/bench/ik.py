"""IK speed and accuracy on every clip of the shared sign data (bone direction error after FK).

Accuracy is the angle between each fitted bone (forward kinematics of the
fitted rotations) and the same bone in the keypoints, over bones whose both
ends were observed; speed counts IK only, not file reading. Most bones are
aimed exactly by construction, so the overall median is near zero; the palm
bones (wrist to finger bases) are reported apart because they carry the real
fitting error (the skeleton's hand shape versus the signer's).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "signdata"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="sign data folder (default ../shared/signdata)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips per dataset (0 = all)")


def _summary(errors: list[np.ndarray], frames: int, seconds: float, palm: list[np.ndarray]) -> dict[str, float]:
    values = np.concatenate(errors) if errors else np.zeros(0)
    palm_values = np.concatenate(palm) if palm else np.zeros(0)
    return {
        "palm_bone_dir_err_deg_median": float(np.median(palm_values)) if palm_values.size else float("nan"),
        "palm_bone_dir_err_deg_p95": float(np.percentile(palm_values, 95)) if palm_values.size else float("nan"),
        "clips": len(errors), "frames": frames, "bones_measured": int(values.size),
        "ik_frames_per_s": frames / seconds if seconds > 0 else float("nan"),
        "bone_dir_err_deg_median": float(np.median(values)) if values.size else float("nan"),
        "bone_dir_err_deg_p95": float(np.percentile(values, 95)) if values.size else float("nan"),
        "bone_dir_err_deg_mean": float(np.mean(values)) if values.size else float("nan"),
    }


def run(args: argparse.Namespace) -> dict:
    from signeditor.core.ik import bone_direction_errors_by_bone, fit_features
    from signeditor.core.skeleton import signing_skeleton
    from signeditor.data.sources import all_sources
    from signeditor.io.errors import FileFormatError

    data = Path(args.data)
    if not data.is_dir():
        return {"error": f"sign data folder not found: {data}"}
    skeleton = signing_skeleton()
    errors: dict[str, list[np.ndarray]] = defaultdict(list)
    palm: dict[str, list[np.ndarray]] = defaultdict(list)
    frames: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    skipped = 0
    for source in all_sources(data):
        if args.limit and len(errors[source.dataset]) >= args.limit:
            continue
        try:
            keypoints = source.load()
        except FileFormatError:
            skipped += 1
            continue
        start = time.perf_counter()
        features, _ = fit_features(keypoints, skeleton)
        seconds[source.dataset] += time.perf_counter() - start
        frames[source.dataset] += keypoints.n_frames
        by_bone = bone_direction_errors_by_bone(keypoints, features, skeleton)
        values = list(by_bone.values())
        errors[source.dataset].append(np.concatenate(values) if values else np.zeros(0))
        palm[source.dataset] += [e for (a, _), e in by_bone.items() if a.endswith("_Wrist")]
    per_dataset = {d: _summary(errors[d], frames[d], seconds[d], palm[d]) for d in sorted(errors)}
    overall = _summary([e for d in errors for e in errors[d]], sum(frames.values()), sum(seconds.values()),
                       [e for d in palm for e in palm[d]])
    targets = {"ik_frames_per_s": ">= 5000", "bone_dir_err_deg_median": "<= 5", "bone_dir_err_deg_p95": "<= 15"}
    return {**overall, "skipped": skipped, "per_dataset": per_dataset, "targets": targets}
