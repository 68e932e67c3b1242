"""Run a batch: expand inputs, skip what the manifest says is done, run the rest, record every result."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from signeditor.batch.manifest import DONE, FAILED, MANIFEST_NAME, Manifest, TaskRecord
from signeditor.batch.runners import Runner
from signeditor.batch.tasks import BatchTask, Options
from signeditor.batch.worker import Job


@dataclass
class BatchSummary:
    runner: str
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    records: list[TaskRecord] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"runner": self.runner, "done": self.done, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3),
                "failures": {r.input: r.error for r in self.records if r.status == FAILED}}


def expand_inputs(inputs: Iterable[Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files as given; folders become their files with the task's suffixes (recursively, sorted)."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes))
        else:
            files.append(path)
    return list(dict.fromkeys(p.resolve() for p in files))


def job_stamp(task: BatchTask, source: Path, options: Options) -> str:
    """What a job's output is made from: the task, its options and the input's size and modification time (empty
    when the input cannot be read). The manifest keeps it with each result: a done task whose stamp differs now
    (other options, an edited input) is out of date and runs again."""
    try:
        info = os.stat(source)
    except OSError:
        return ""
    made_from = json.dumps([task.name, options, info.st_size, info.st_mtime_ns], sort_keys=True, default=str)
    return hashlib.sha256(made_from.encode("utf-8")).hexdigest()[:20]


def plan_jobs(task: BatchTask, inputs: list[Path], output_dir: Path, options: Options) -> list[Job]:
    """One job per input; two inputs that would write the same output are refused before anything runs."""
    jobs = [Job(task.name, str(p), str(task.output_for(p, output_dir, options).resolve()), options,
                job_stamp(task, p, options)) for p in inputs]
    seen: dict[str, str] = {}
    for job in jobs:
        if job.output in seen:
            raise ValueError(f"{job.input} and {seen[job.output]} would both write {job.output}")
        seen[job.output] = job.input
    return jobs


def run_batch(task: BatchTask, jobs: list[Job], output_dir: Path, runner: Runner,
              manifest_path: Path | None = None, progress: bool = True) -> BatchSummary:
    """Run the jobs ``plan_jobs`` made that the manifest does not list as done from the same stamp (task,
    options, input); record each as it finishes."""
    output_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(manifest_path or output_dir / MANIFEST_NAME)
    finished = manifest.finished({job.output: job.stamp for job in jobs})
    todo = [job for job in jobs if job.output not in finished]
    summary = BatchSummary(runner.description, skipped=len(jobs) - len(todo))
    began = time.perf_counter()
    with tqdm(total=len(todo), desc=f"batch {task.name}", unit="file", disable=not progress,
              file=sys.stderr) as bar:
        for record in runner.results(todo):
            manifest.append(record)
            summary.records.append(record)
            if record.status == DONE:
                summary.done += 1
            else:
                summary.failed += 1
                bar.write(f"failed: {record.input}: {record.error}", file=sys.stderr)
            bar.update(1)
    summary.seconds = time.perf_counter() - began
    return summary
