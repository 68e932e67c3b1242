"""IK and depth-lifting benchmark on every clip of the shared sign data, per corpus folder.

Plausibility (from forward kinematics of the fitted motion): raised-hand
frames with the wrist behind the shoulders' plane, frames with a hand joint
inside the body capsules, joint-limit violations; faithfulness: the 2D
reprojection error of elbows, wrists and fingertips (shoulder widths); speed:
frames per second of lifting plus IK (file parsing excluded). Bone direction
errors are kept: most bones are aimed exactly, the palm bones carry the
skeleton-versus-signer hand shape error.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "signdata"
TARGETS = {"behind_body_rate": "<= 0.03 per folder", "inside_body_rate": "<= 0.01 per folder",
           "reprojection_err_median": "<= 0.03", "reprojection_err_p95": "<= 0.08", "ik_frames_per_s": ">= 5000"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="sign data folder (default ../shared/signdata)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips per dataset (0 = all)")


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


class _Folder:
    """Accumulates one corpus folder's figures."""

    def __init__(self) -> None:
        from signeditor.core.plausibility import Plausibility

        self.plausibility = Plausibility(0, 0, 0, 0, 0, 0)
        self.reprojection: list[np.ndarray] = []
        self.bones: list[np.ndarray] = []
        self.palm: list[np.ndarray] = []
        self.paths: dict[str, int] = defaultdict(int)
        self.frames, self.seconds, self.cpu_seconds, self.clips = 0, 0.0, 0.0, 0

    def summary(self) -> dict:
        reprojection = np.concatenate(self.reprojection) if self.reprojection else np.zeros(0)
        bones = np.concatenate(self.bones) if self.bones else np.zeros(0)
        palm = np.concatenate(self.palm) if self.palm else np.zeros(0)
        p = self.plausibility
        return {
            "clips": self.clips, "frames": self.frames,
            "behind_body_rate": p.behind_body_rate, "inside_body_rate": p.inside_body_rate,
            "joint_limit_violations": p.joint_limit_violation_rate,
            "reprojection_err_median": _percentile(reprojection, 50),
            "reprojection_err_p95": _percentile(reprojection, 95),
            "ik_frames_per_s": self.frames / self.seconds if self.seconds > 0 else float("nan"),
            # CPU time of this process: the same figure on a machine other jobs share.
            "ik_frames_per_cpu_s": self.frames / self.cpu_seconds if self.cpu_seconds > 0 else float("nan"),
            "bone_dir_err_deg_median": _percentile(bones, 50), "bone_dir_err_deg_p95": _percentile(bones, 95),
            "palm_bone_dir_err_deg_median": _percentile(palm, 50), "palm_bone_dir_err_deg_p95": _percentile(palm, 95),
            "lifting_paths": dict(self.paths),
        }

    def merge(self, other: _Folder) -> None:
        self.plausibility = self.plausibility + other.plausibility
        self.reprojection += other.reprojection
        self.bones += other.bones
        self.palm += other.palm
        for key, count in other.paths.items():
            self.paths[key] += count
        self.frames += other.frames
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        self.clips += other.clips


def run(args: argparse.Namespace) -> dict:
    from signeditor.core.ik import bone_direction_errors_by_bone, fit_features, reprojection_errors
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.plausibility import plausibility
    from signeditor.core.skeleton import signing_skeleton
    from signeditor.data.sources import all_sources
    from signeditor.io import pose_reader
    from signeditor.io.errors import FileFormatError

    data = Path(args.data)
    if not data.is_dir():
        return {"error": f"sign data folder not found: {data}"}
    skeleton = signing_skeleton()
    folders: dict[str, _Folder] = defaultdict(_Folder)
    skipped = 0
    lift_seconds = [0.0, 0.0]  # wall, CPU
    original_lift = pose_reader.lift_depth

    def timed_lift(*a: object, **k: object) -> object:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return original_lift(*a, **k)  # type: ignore[arg-type]
        finally:
            lift_seconds[0] += time.perf_counter() - start
            lift_seconds[1] += time.process_time() - cpu

    pose_reader.lift_depth = timed_lift  # type: ignore[assignment]
    try:
        for source in all_sources(data):
            folder = folders[source.dataset]
            if args.limit and folder.clips >= args.limit:
                continue
            lift_seconds[:] = [0.0, 0.0]
            try:
                keypoints = source.load()
            except FileFormatError:
                skipped += 1
                continue
            start, cpu = time.perf_counter(), time.process_time()
            features, _ = fit_features(keypoints, skeleton)
            folder.seconds += time.perf_counter() - start + lift_seconds[0]
            folder.cpu_seconds += time.process_time() - cpu + lift_seconds[1]
            positions = np.asarray(forward_kinematics(features, skeleton))
            folder.frames += keypoints.n_frames
            folder.clips += 1
            folder.plausibility = folder.plausibility + plausibility(positions)
            folder.reprojection.append(reprojection_errors(keypoints, positions, skeleton))
            by_bone = bone_direction_errors_by_bone(keypoints, features, skeleton)
            folder.bones += list(by_bone.values())
            folder.palm += [e for (a, _), e in by_bone.items() if a.endswith("_Wrist")]
            lifting = getattr(keypoints, "lifting", None)
            folder.paths[lifting.path if lifting else "not_lifted"] += 1
    finally:
        pose_reader.lift_depth = original_lift
    overall = _Folder()
    for folder in folders.values():
        overall.merge(folder)
    per_dataset = {name: folders[name].summary() for name in sorted(folders)}
    worst = {key: max((s[key] for s in per_dataset.values()), default=float("nan"))
             for key in ("behind_body_rate", "inside_body_rate")}
    return {**overall.summary(), "worst_folder": worst, "skipped": skipped, "per_dataset": per_dataset,
            "targets": TARGETS}
