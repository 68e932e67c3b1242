"""Edit > Align glosses…: lay a known gloss list on the recording as exactly that many named signs.

The user types the glosses (or reads them from an ELAN gloss tier); the
segmenters run on a worker (loading FAST takes seconds), and the result is
one undoable command that replaces the signs and moves the sign anchors onto
the new signs (``core.keyframes.anchors_following_signs``). Bad input (an
empty list, more glosses than frames, an ELAN file without a gloss tier)
is said in the dialog and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from signeditor.core.gloss_alignment import gloss_list_problem, parse_glosses
from signeditor.core.keyframes import anchors_following_signs
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment
from signeditor.gui.commands import SetAnchorsCommand
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread
from signeditor.io.errors import FileFormatError

if TYPE_CHECKING:
    from signeditor.gui.main_window import MainWindow
    from signeditor.ml.fast_tracks.guided import GlossAligner

#: Builds the aligner in the worker thread (tests may choose the probability source).
AlignerFactory = Callable[[], "GlossAligner"]


def _shipped_aligner() -> GlossAligner:
    from signeditor.ml.fast_tracks.guided import load_gloss_aligner

    return load_gloss_aligner()


class AlignmentWorker(LatestRequestWorker):
    """Lives in the worker thread; keeps the loaded segmenters between requests."""

    aligned = QtCore.Signal(int, object)  # generation, list[Segment]
    failed = QtCore.Signal(int, str)

    def __init__(self, factory: AlignerFactory) -> None:
        super().__init__()
        self.factory = factory
        self._aligner: GlossAligner | None = None

    @QtCore.Slot(int, object, object)
    def align(self, generation: int, motion: Motion, glosses: list[str]) -> None:
        if self.should_stop(generation):
            return
        with self.working_on(generation):
            try:
                if self._aligner is None:
                    self._aligner = self.factory()
                segments = self._aligner.align(motion, glosses)
            except Exception as exc:  # a failed alignment is a message, never a crash
                self.failed.emit(generation, str(exc))
                return
        self.aligned.emit(generation, segments)


class GlossDialog(QtWidgets.QDialog):
    """The gloss list: typed, or read from an ELAN file's gloss tier; problems show in the dialog."""

    def __init__(self, parent: QtWidgets.QWidget, glosses: str, n_frames: int) -> None:
        super().__init__(parent)
        self.n_frames = n_frames
        self.setWindowTitle("Align glosses")
        self.text = QtWidgets.QLineEdit(glosses)
        self.text.setPlaceholderText("the glosses signed, in order: IX-1P SEE JOHN")
        self.from_elan = QtWidgets.QPushButton("From ELAN file…")
        self.from_elan.clicked.connect(self._read_elan)
        self.problem = QtWidgets.QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Glosses, in the order they are signed:"))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.text, 1)
        row.addWidget(self.from_elan)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _read_elan(self) -> None:
        from signeditor.io.elan import read_gloss_sequence

        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Gloss tier from ELAN", "", "ELAN (*.eaf)")
        if not path:
            return
        try:
            self.text.setText(" ".join(read_gloss_sequence(path)))
            self.problem.setText("")
        except FileFormatError as exc:
            self.problem.setText(str(exc))

    def glosses(self) -> list[str]:
        return parse_glosses(self.text.text())

    def accept(self) -> None:
        """A list that cannot be aligned keeps the dialog open, the typing kept and the problem said in it."""
        problem = gloss_list_problem(len(self.glosses()), self.n_frames)
        if problem:
            self.problem.setText(problem)
            return
        super().accept()


class GlossAlignment(QtCore.QObject):
    """Owns the Edit > Align glosses… action, its dialog and its worker (started on first use)."""

    _request = QtCore.Signal(int, object, object)

    def __init__(self, window: MainWindow, factory: AlignerFactory = _shipped_aligner) -> None:
        super().__init__(window)
        self.window = window
        self.factory = factory
        self.generation = 0
        self.dialog: GlossDialog | None = None
        self._thread: WorkerThread | None = None
        self._pending: tuple[int, list[str]] | None = None
        window.menu("edit").addSeparator()
        self.action = window.add_action("edit", "Align &glosses…", self.ask, "Ctrl+Shift+G")

    def ask(self) -> None:
        """Open the gloss dialog (window-modal, not blocking); prefilled with the signs' glosses when all have one."""
        segments = sorted(self.window.document.project.segments, key=lambda s: s.start)
        known = " ".join(s.gloss for s in segments) if segments and all(s.gloss for s in segments) else ""
        self.dialog = GlossDialog(self.window, known, self.window.document.project.motion.n_frames)
        self.dialog.accepted.connect(self._submit)
        self.dialog.open()

    def _submit(self) -> None:
        if self.dialog is not None:  # the dialog accepts only a list it can align
            self.request(self.dialog.glosses())

    def request(self, glosses: list[str]) -> int:
        """Align ``glosses`` to the current motion on the worker; the newest request wins."""
        if self._thread is None:
            self._thread = WorkerThread(AlignmentWorker(self.factory), "gloss-alignment", self)
            self._request.connect(self._thread.worker.align)
            self._thread.worker.aligned.connect(self._apply)
            self._thread.worker.failed.connect(self._failed)
        self.generation += 1
        self._thread.worker.note_latest(self.generation)
        self._pending = (self.document_version(), glosses)
        self._say(f"aligning {len(glosses)} glosses…")
        self._request.emit(self.generation, self.window.document.project.motion.copy(), glosses)
        return self.generation

    def document_version(self) -> int:
        return int(self.window.document.motion_version)

    @QtCore.Slot(int, object)
    def _apply(self, generation: int, segments: list[Segment]) -> None:
        if generation != self.generation or self._pending is None:
            return
        version, glosses = self._pending
        self._pending = None
        document = self.window.document
        if version != self.document_version():
            self._say("Align glosses: the motion changed meanwhile; run it again")
            return
        anchors = anchors_following_signs(document.anchors, document.project.motion, segments)
        self.window.push(SetAnchorsCommand(document, anchors, f"Align {len(glosses)} glosses", segments=segments))
        self._say(f"aligned {len(glosses)} glosses")

    @QtCore.Slot(int, str)
    def _failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self._pending = None
            self._say(f"Align glosses: {message}; nothing changed")

    def _say(self, message: str) -> None:
        self.window.say(message, 6000)

    def shutdown(self) -> None:
        self.generation += 1
        if self._thread is not None:
            self._thread.shutdown()

