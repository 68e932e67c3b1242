"""Batch throughput: files/s with 1 and 2 workers for segment and export, speed-up and per-task overhead.

Inputs are made here (synthetic signing: .pose recordings for segment, which
run IK then FAST; projects for export), so the figures need no data. Each
worker gets one untimed file first, so model loading and process start-up are
reported separately (``startup_s``) and not as throughput. The machine this
project runs on is shared, so each figure is the best of ``--rounds`` runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from signeditor.batch.driver import plan_jobs
from signeditor.batch.runners import Runner, make_runner, ray_available
from signeditor.batch.tasks import TASKS
from signeditor.batch.worker import Job

#: Seconds of signing per input file.
CLIP_SECONDS = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=24, help="input files per task")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per setting (the best is reported)")
    parser.add_argument("--local", action="store_true", help="process pool even when Ray is installed")
    parser.add_argument("--export-format", default="glb", help="format of the export task")


def _make_inputs(folder: Path, n_files: int) -> tuple[list[Path], list[Path]]:
    from signeditor.core.motion import Motion
    from signeditor.core.project import Project
    from signeditor.io.pose_export import write_pose
    from signeditor.io.project_file import save_project
    from signeditor.ml.fast.synthetic import synthetic_motion

    rng = np.random.default_rng(0)
    poses, projects = [], []
    for i in range(n_files):
        parts = []
        while sum(len(p) for p in parts) < CLIP_SECONDS * 25:
            parts.append(synthetic_motion(rng, 4)[0].features)
        motion = Motion(25.0, np.concatenate(parts)[: CLIP_SECONDS * 25])
        poses.append(folder / f"clip{i:03d}.pose")
        write_pose(motion, poses[-1])
        projects.append(folder / f"clip{i:03d}.signproj")
        save_project(Project(motion=motion), projects[-1])
    return poses, projects


def _timed(runner: Runner, jobs: list[Job]) -> tuple[float, float]:
    """Wall seconds for the jobs and the seconds the tasks themselves took."""
    began = time.perf_counter()
    records = list(runner.results(jobs))
    wall = time.perf_counter() - began
    failed = [r.error for r in records if r.status != "done"]
    if failed:
        raise RuntimeError(f"batch bench task failed: {failed[0]}")
    return wall, sum(r.seconds for r in records)


def _measure(runner: Runner, workers: int, jobs: list[Job], warmup: list[Job], rounds: int) -> dict:
    startup, _ = _timed(runner, warmup)
    wall, busy = min(_timed(runner, jobs) for _ in range(rounds))
    return {"files_per_s": round(len(jobs) / wall, 2), "startup_s": round(startup, 2),
            "task_ms": round(1000 * busy / len(jobs), 1),
            # What a task costs beyond its own work: scheduling, transfer, the driver's loop, idle workers.
            "overhead_ms_per_task": round(1000 * (wall * workers - busy) / len(jobs), 1)}


def run(args: argparse.Namespace) -> dict:
    load_before = round(os.getloadavg()[0], 2)
    result: dict = {"runner": "ray" if ray_available() and not args.local else "process pool",
                    "files": args.files, "clip_seconds": CLIP_SECONDS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        poses, projects = _make_inputs(folder, args.files)
        tasks = {"segment": (poses, {"weights": None, "policy": "onset_middle_offset", "every": 8,
                                     "suffix": ".json"}),
                 "export": (projects, {"format": args.export_format, "avatar": ""})}
        for name, (inputs, options) in tasks.items():
            for workers in (1, 2):
                out = folder / f"{name}_{workers}"
                jobs = plan_jobs(TASKS[name], inputs, out, options)
                out.mkdir()
                warmup = [Job(j.task, j.input, j.output + ".warmup", j.options) for j in jobs[:workers]]
                runner = make_runner(workers, None, use_ray=not args.local)
                try:
                    figures = _measure(runner, workers, jobs, warmup, args.rounds)
                finally:
                    runner.close()
                result.update({f"{name}_{workers}w_{key}": value for key, value in figures.items()})
            speedup = result[f"{name}_2w_files_per_s"] / result[f"{name}_1w_files_per_s"]
            result[f"{name}_speedup_2_workers"] = round(speedup, 2)
    result["target_segment_speedup_2_workers"] = 1.7
    # Two workers can only be twice as fast on two idle cores: the load says how idle they were.
    result["load_average_1min_before"] = load_before
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    result["cpu_count"] = os.cpu_count()
    return result
