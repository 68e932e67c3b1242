"""Where batch tasks run: Ray actors (extra ``[cluster]``) or, without Ray, a local process pool.

Both keep one ``BatchWorker`` per worker process, so models load once per
worker, and both yield one ``TaskRecord`` per job as jobs finish.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from signeditor.batch.manifest import FAILED, TaskRecord
from signeditor.batch.worker import BatchWorker, Job, init_process_worker, run_in_process_worker

#: Jobs queued on each worker beyond the one it runs, so a worker never waits for the driver between files.
QUEUED_PER_WORKER = 1


class Runner(Protocol):
    description: str

    def results(self, jobs: Iterable[Job]) -> Iterator[TaskRecord]: ...

    def close(self) -> None: ...


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


class ProcessPoolRunner:
    """Local worker processes (spawned, so torch and Qt state are never forked)."""

    def __init__(self, workers: int, threads: int = 1) -> None:
        self.workers = workers
        self.description = f"local process pool, {workers} workers"
        self._threads = threads
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_process_worker, initargs=(self._threads,))

    def _submit(self, job: Job) -> Future:
        try:
            return self._pool.submit(run_in_process_worker, job)
        except BrokenProcessPool:  # a worker died (crash, out of memory): later files get a fresh pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(run_in_process_worker, job)

    def results(self, jobs: Iterable[Job]) -> Iterator[TaskRecord]:
        pending: dict[Future, Job] = {}
        queue = iter(jobs)
        limit = self.workers * (1 + QUEUED_PER_WORKER)
        while True:
            while len(pending) < limit and (job := next(queue, None)) is not None:
                pending[self._submit(job)] = job
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    # Every job in flight fails with the pool; which one crashed it is unknown. A rerun retries.
                    yield TaskRecord(job.input, job.output, FAILED, 0.0,
                                     "a worker process died while this or a concurrent file ran")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayRunner:
    """One Ray actor per worker; ``address=None`` starts (or joins an already started) local Ray."""

    def __init__(self, workers: int | None, address: str | None = None, threads: int = 1) -> None:
        import ray

        self._ray = ray
        self._started_ray = False
        if not ray.is_initialized():
            local = address is None
            ray.init(address=address, num_cpus=(workers or os.cpu_count()) if local else None,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
            self._started_ray = True
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if workers is not None and workers > cpus:
            # Each worker holds one CPU for the whole batch: more workers than CPUs would wait forever.
            print(f"Ray has {cpus} CPUs: using {cpus} workers, not {workers}", file=sys.stderr)
        workers = min(workers or cpus, cpus)
        self.workers = workers
        self._threads = threads
        self._actor_class = ray.remote(num_cpus=1)(BatchWorker)
        self._actors = [self._new_actor() for _ in range(workers)]
        where = address or "local"
        self.description = f"Ray ({where}), {workers} workers"

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self._threads)

    def results(self, jobs: Iterable[Job]) -> Iterator[TaskRecord]:
        ray = self._ray
        queue = iter(jobs)
        pending: dict[Any, tuple[Job, int, Any]] = {}

        def submit(slot: int) -> None:
            if (job := next(queue, None)) is not None:
                actor = self._actors[slot]
                pending[actor.run.remote(job)] = (job, slot, actor)

        for slot in range(len(self._actors)):
            for _ in range(1 + QUEUED_PER_WORKER):
                submit(slot)
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            job, slot, actor = pending.pop(ref)
            try:
                yield ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                # The worker process died (crash, out of memory): its job fails, a fresh worker takes its place.
                # Jobs already queued on the dead actor come back failed too and are reported the same way.
                if self._actors[slot] is actor:
                    self._actors[slot] = self._new_actor()
                reason = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
                yield TaskRecord(job.input, job.output, FAILED, 0.0, f"worker died: {reason}")
            except ray.exceptions.RayError as exc:
                yield TaskRecord(job.input, job.output, FAILED, 0.0, f"Ray task failed: {exc}")
            submit(slot)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._started_ray:
            self._ray.shutdown()


def make_runner(workers: int | None, address: str | None, use_ray: bool = True) -> Runner:
    """Ray when installed (and not refused), else the process pool; the runner says which in ``description``."""
    if use_ray and ray_available():
        return RayRunner(workers, address)
    if address is not None:
        raise RuntimeError("--address needs Ray: pip install 'signeditor[cluster]'")
    return ProcessPoolRunner(workers or os.cpu_count() or 1)
