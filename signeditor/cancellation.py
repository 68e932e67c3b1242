"""Cooperative stopping for long jobs, without threading a callback through every layer (a leaf module).

A worker runs a job inside ``stop_check(should_stop)``; deep inside, between two steps that are safe to abandon
(sampler steps, draft stages, import stages), the code calls :func:`raise_if_stopped`, which raises
:class:`Stopped` once the worker's request is superseded or cancelled. The check lives in a context variable,
so it belongs to the worker's thread only and costs nothing where no worker set one (the CLI).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

StopFn = Callable[[], bool]
_current: ContextVar[StopFn | None] = ContextVar("signeditor_stop_check", default=None)


class Stopped(Exception):
    """The job was superseded by a newer request or cancelled; its partial result must be dropped."""


@contextlib.contextmanager
def stop_check(should_stop: StopFn) -> Iterator[None]:
    token = _current.set(should_stop)
    try:
        yield
    finally:
        _current.reset(token)


def stop_requested() -> bool:
    check = _current.get()
    return check is not None and check()


def raise_if_stopped() -> None:
    if stop_requested():
        raise Stopped
