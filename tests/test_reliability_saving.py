"""Nothing lost: a save that fails part way (at any byte, at fsync, at the rename) leaves the old file intact."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from signeditor.core.anchors import Anchor
from signeditor.io import atomic
from signeditor.io.project_file import load_project, project_to_bytes, save_project
from signeditor.reliability.fuzz_targets import seed_project


class DiskFull(OSError):
    pass


class FailingHandle(io.RawIOBase):
    """Wraps the temporary file: writes ``budget`` bytes, then fails like a full disk."""

    def __init__(self, handle: io.BufferedWriter, budget: int) -> None:
        self.handle = handle
        self.budget = budget

    def write(self, data: bytes) -> int:
        if len(data) > self.budget:
            self.handle.write(bytes(data[: self.budget]))
            self.handle.flush()
            self.budget = 0
            raise DiskFull(28, "No space left on device")
        self.budget -= len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()

    def fileno(self) -> int:
        return self.handle.fileno()

    def __enter__(self) -> FailingHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "work.signproj"
    save_project(seed_project(), path)
    return path, path.read_bytes()


def _edited():
    project = seed_project()
    project.anchors = project.anchors.added(Anchor(4, project.motion.features[4], label="new"))
    project.text = "changed"
    return project


def _assert_old_file_intact(path: Path, old: bytes) -> None:
    assert path.read_bytes() == old
    assert load_project(path).text == seed_project().text
    leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_a_save_failing_at_any_byte_keeps_the_old_file(saved, monkeypatch):
    path, old = saved
    new = project_to_bytes(_edited())
    offsets = sorted({0, 1, 2, len(new) - 1, *np.linspace(0, len(new) - 1, 60).astype(int).tolist()})
    real_fdopen = os.fdopen
    for offset in offsets:
        monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode, b=offset: FailingHandle(real_fdopen(fd, mode), b))
        with pytest.raises(DiskFull):
            save_project(_edited(), path)
        _assert_old_file_intact(path, old)
    monkeypatch.setattr(atomic.os, "fdopen", real_fdopen)
    save_project(_edited(), path)
    assert load_project(path).text == "changed", "with a working disk the new project is saved"


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_save_failing_at_fsync_or_rename_keeps_the_old_file(saved, monkeypatch, step):
    path, old = saved

    def fail(*_args: object) -> None:
        raise DiskFull(5, f"I/O error in {step}")

    monkeypatch.setattr(atomic.os, step, fail)
    with pytest.raises(DiskFull):
        save_project(_edited(), path)
    monkeypatch.undo()
    _assert_old_file_intact(path, old)


def test_a_failed_autosave_keeps_the_previous_recovery_file(qtbot, tmp_path, monkeypatch, make_window):
    """The window's autosave goes through the same atomic path: a crash while autosaving loses nothing older."""

    from signeditor.gui import commands, main_window

    recovery = tmp_path / "recovery.signproj"
    monkeypatch.setattr(main_window, "recovery_path", lambda: recovery)
    window = make_window(seed_project(), regenerate=lambda m, a, r, t="", s="": m, show=False)
    window.push(commands.insert_anchor(window.document, 3, label="first"))
    assert window.autosave() == recovery
    before = recovery.read_bytes()
    window.push(commands.insert_anchor(window.document, 5, label="second"))
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: FailingHandle(real_fdopen(fd, mode), 100))
    assert window.autosave() is None, "the failure is reported in the status bar, not raised into Qt"
    assert "autosave failed" in window.statusBar().currentMessage()
    assert recovery.read_bytes() == before
    assert "first" in [a.label for a in main_window.load_document_file(recovery).anchors]
    window.regenerator.shutdown()
