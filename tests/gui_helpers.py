"""Shared fixtures for the GUI tests: a small project, a fake regenerator and real mouse events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project

if TYPE_CHECKING:
    from signeditor.gui.document import Document


def raised_arm_pose() -> np.ndarray:
    """A pose clearly unlike rest: right elbow bent and right wrist turned."""
    axis_angle = np.zeros((41, 3))
    axis_angle[7] = [0.0, 0.0, -1.2]  # R_Elbow
    axis_angle[9] = [0.4, 0.3, 0.0]  # R_Wrist
    return rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32)


def small_project(n_frames: int = 60) -> tuple[Project, Anchor]:
    """Rest anchors at 10 and 50 and a distinctive anchor at 30 (returned too)."""
    motion = Motion.rest(n_frames)
    special = Anchor(30, raised_arm_pose(), label="special")
    anchors = AnchorSet([Anchor(10, motion.features[10]), special, Anchor(50, motion.features[50])])
    return Project(HoldRegenerate()(motion, anchors, None), anchors), special


class HoldRegenerate:
    """Fake regenerator: every frame holds the latest anchor pose at or before it (rest before the first).

    Deterministic and instant, so tests can check exactly which pose lands on which frame; it records
    every call's frame range so windowing can be asserted.
    """

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls: list[tuple[int, int] | None] = []
        self.delay_s = delay_s
        self.backend = "hold (test)"

    def __call__(self, motion: Motion, anchors: AnchorSet, frame_range: tuple[int, int] | None,
                 text: str = "", signed_language: str = "") -> Motion:
        import time

        self.calls.append(frame_range)
        if self.delay_s:
            time.sleep(self.delay_s)
        result = motion.copy()
        lo, hi = frame_range or (0, motion.n_frames)
        ordered = sorted(anchors, key=lambda a: a.frame)
        for frame in range(lo, hi):
            before = [a for a in ordered if a.frame <= frame]
            if before:
                result.features[frame] = before[-1].pose
        return result


def regenerating_document(project: Project) -> tuple[Document, HoldRegenerate]:
    """A bare Document whose regeneration requests are answered at once by :class:`HoldRegenerate` (no worker),
    so an undo test sees the motion an edit leads to as soon as the command is pushed."""
    from signeditor.gui.document import Document

    document = Document(project)
    regenerate = HoldRegenerate()

    def regenerate_now(lo: int, hi: int, _urgent: bool) -> None:
        if hi > lo:
            document.set_motion(regenerate(document.motion, document.anchors, (lo, hi)))

    document.regeneration_needed.connect(regenerate_now)
    return document, regenerate


class UndoStep(Protocol):
    """One command of a model-based undo test: the document's state before and after it."""

    before: tuple
    after: tuple


def undo_or_redo(action: str, document: Document, steps: Sequence[UndoStep], index: int,
                 state: Callable[[Document], tuple]) -> int:
    """Undo or redo on the document's stack where the model (``steps``, stack ``index``) allows it, checking that the
    document is back at the state the model recorded; returns the model's new index (unchanged when neither applies)."""
    stack = document.undo_stack
    if action == "undo" and index > 0:
        stack.undo()
        index -= 1
        assert state(document) == steps[index].before, f"undo of step {index}"
    elif action == "redo" and index < len(steps):
        stack.redo()
        assert state(document) == steps[index].after, f"redo of step {index}"
        index += 1
    return index


def send_mouse(widget: QtWidgets.QWidget, kind: QtCore.QEvent.Type, pos: QtCore.QPointF,
               button: QtCore.Qt.MouseButton = QtCore.Qt.MouseButton.LeftButton,
               buttons: QtCore.Qt.MouseButton | None = None,
               modifiers: QtCore.Qt.KeyboardModifier = QtCore.Qt.KeyboardModifier.NoModifier) -> None:
    """Deliver a real QMouseEvent (QTest.mouseMove cannot hold a button down, which drags need)."""
    held = buttons if buttons is not None else (
        QtCore.Qt.MouseButton.NoButton if kind == QtCore.QEvent.Type.MouseButtonRelease else button)
    event_button = QtCore.Qt.MouseButton.NoButton if kind == QtCore.QEvent.Type.MouseMove else button
    event = QtGui.QMouseEvent(kind, pos, widget.mapToGlobal(pos), event_button, held, modifiers)
    QtWidgets.QApplication.sendEvent(widget, event)


def drag(qtbot: object, view: QtWidgets.QGraphicsView, start: QtCore.QPointF, end: QtCore.QPointF,
         steps: int = 6, modifiers: QtCore.Qt.KeyboardModifier = QtCore.Qt.KeyboardModifier.NoModifier) -> None:
    """Press, move in steps (past pyqtgraph's rate limit) and release on a graphics view's viewport."""
    viewport = view.viewport()
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, start, modifiers=modifiers)
    qtbot.wait(20)
    for i in range(1, steps + 1):
        t = i / steps
        point = QtCore.QPointF(start.x() + (end.x() - start.x()) * t, start.y() + (end.y() - start.y()) * t)
        send_mouse(viewport, QtCore.QEvent.Type.MouseMove, point, buttons=QtCore.Qt.MouseButton.LeftButton,
                   modifiers=modifiers)
        qtbot.wait(20)
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, end, modifiers=modifiers)
    qtbot.wait(10)


def view_point(view: QtWidgets.QGraphicsView, scene_pos: QtCore.QPointF) -> QtCore.QPointF:
    return QtCore.QPointF(view.mapFromScene(scene_pos))
