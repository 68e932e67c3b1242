"""The batch manifest: one JSON line per finished task, so a rerun resumes and failures keep their reason.

A line is written (and flushed to disk) as each task finishes, so a batch
killed half-way leaves a manifest of everything done before; a torn last line
from a crash is ignored when read back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_NAME = "batch-manifest.jsonl"
DONE, FAILED = "done", "failed"


@dataclass
class TaskRecord:
    input: str
    output: str
    status: str
    seconds: float
    error: str | None = None
    #: host:pid of the worker process that ran it.
    worker: str = ""
    #: Whether this task loaded the task's models (once per worker: the first task it ran).
    loaded_models: bool = False
    #: What the output was made from (``driver.job_stamp``: the task, its options, the input's size and time): a
    #: rerun with other options or after the input changed redoes the task. Empty in manifests from before.
    stamp: str = ""


class Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, TaskRecord]:
        """The last record of each output (later lines win: a retried failure that succeeded is done).

        Keyed by output, not input: one input may feed several batches (segment, export) into one folder."""
        records: dict[str, TaskRecord] = {}
        if not self.path.exists():
            return records
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = TaskRecord(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a line torn by a crash, or not ours
            records[record.output] = record
        return records

    def finished(self, stamps: Mapping[str, str]) -> set[str]:
        """Outputs whose task is done, which are still there and were made from what ``stamps`` (output -> the
        job's stamp now) says: a rerun skips them."""
        return {key for key, r in self.read().items()
                if r.status == DONE and Path(r.output).exists() and r.stamp and r.stamp == stamps.get(key)}

    def append(self, record: TaskRecord) -> None:
        """Add one line (flushed to disk); a torn last line left by a crash is ended first, so this record is not
        glued onto it and lost with it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(asdict(record), sort_keys=True) + "\n").encode("utf-8")
        with self.path.open("a+b") as handle:
            if handle.seek(0, os.SEEK_END):
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = b"\n" + line
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
