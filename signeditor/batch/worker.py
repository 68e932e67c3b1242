"""The code that runs inside each batch worker process (a Ray actor or a process-pool worker)."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signeditor.batch.manifest import DONE, FAILED, TaskRecord
from signeditor.batch.tasks import TASKS, Options


@dataclass(frozen=True)
class Job:
    task: str
    input: str
    output: str
    options: Options
    #: What the output is made from (``driver.job_stamp``), recorded in the manifest with the result.
    stamp: str = ""


class BatchWorker:
    """Keeps each task's models for the life of the process: loaded by the first file, reused by the rest."""

    def __init__(self, threads: int = 1) -> None:
        # One thread a worker: workers already use every core, and more threads per worker only contend.
        # The models run through ONNX Runtime, whose sessions take their thread count from this variable
        # (signeditor.ml.onnx_session); numpy's BLAS reads it too.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self._loaded: dict[str, Any] = {}
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, job: Job) -> TaskRecord:
        """Run one job; any error fails this job only and is returned with its reason."""
        began = time.perf_counter()
        task = TASKS[job.task]
        key = json.dumps([job.task, job.options], sort_keys=True, default=str)
        loaded_now = key not in self._loaded
        try:
            if loaded_now:
                self._loaded[key] = task.load(job.options)
            task.run(self._loaded[key], Path(job.input), Path(job.output), job.options)
        except Exception as exc:  # a bad file fails its own task, never the batch
            return TaskRecord(job.input, job.output, FAILED, time.perf_counter() - began,
                              f"{type(exc).__name__}: {exc}", self.name, loaded_now, job.stamp)
        return TaskRecord(job.input, job.output, DONE, time.perf_counter() - began, None, self.name, loaded_now,
                          job.stamp)


#: The pool worker's own BatchWorker (one per process, made by the pool's initializer).
_process_worker: BatchWorker | None = None


def init_process_worker(threads: int) -> None:
    """Runs first in each pool process, before numpy or torch load, so their thread pools get ``threads``
    (Ray does the same for its actors by setting OMP_NUM_THREADS to the actor's CPUs)."""
    global _process_worker
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    _process_worker = BatchWorker(threads)


def run_in_process_worker(job: Job) -> TaskRecord:
    assert _process_worker is not None, "init_process_worker was not called in this process"
    return _process_worker.run(job)
