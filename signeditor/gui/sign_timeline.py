"""Sign-level and per-lane gestures on the timeline: select, move and stretch a sign; one-lane anchors; drops.

The timeline hands every click and drag to :class:`SignGestures` first; what
it does not claim keeps the timeline's ordinary behaviour. Like the timeline,
it only emits signals: the main window turns them into undo commands.

- click a sign bar: select the sign (for Replace, Duplicate, Delete, Save);
- drag a sign bar: move the whole sign; Alt-drag its end edge: stretch or compress it;
- double-click a lane: an anchor on that lane only; Alt-drag an anchor: move that lane only;
- drop a lexicon entry (from the Sign library) on the timeline: insert it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui

from signeditor.gui.timeline_layout import TRACK_Y, sign_index_at

if TYPE_CHECKING:
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent, MouseDragEvent

    from signeditor.gui.timeline import TimelineWidget

#: Mime type of a lexicon entry dragged from the Sign library (payload: the entry's key, UTF-8).
SIGN_MIME = "application/x-signeditor-lexicon-entry"
_ALT = QtCore.Qt.KeyboardModifier.AltModifier


@dataclass
class _SignDrag:
    kind: str  # "move" | "stretch" | "lane"
    start_frame: int
    index: int = -1  # sign index (move, stretch)
    anchor_id: int = 0  # lane drag
    stream: str = ""
    delta: int = 0


class SignGestures:
    """Claims the sign-level and per-lane gestures of one timeline."""

    def __init__(self, timeline: TimelineWidget) -> None:
        self.timeline = timeline
        #: Index of the selected sign in the timeline's segments, or None.
        self.selected: int | None = None
        self._drag: _SignDrag | None = None

    # --- geometry ---------------------------------------------------------------------------------------------
    def sign_at(self, scene_pos: QtCore.QPointF) -> int | None:
        """The sign whose bar is under ``scene_pos`` (on the Signs row)."""
        if self.timeline.track_at(scene_pos) != "sign":
            return None
        return sign_index_at(self.timeline.segments, self.timeline.view_x(scene_pos))

    def sign_scene_pos(self, index: int, where: str = "middle") -> QtCore.QPointF:
        """Scene position of a sign bar's middle or end edge (tests drive real mouse events at it)."""
        segment = self.timeline.segments[index]
        x = {"middle": (segment.start + segment.end - 1) / 2, "end": segment.end - 0.5}[where]
        return self.timeline.track_box.mapViewToScene(QtCore.QPointF(x, TRACK_Y["sign"]))

    def select(self, index: int | None) -> None:
        changed = index != self.selected
        self.selected = index
        if changed:
            self.timeline.redraw_segments()
            self.timeline.sign_selected.emit(-1 if index is None else index)

    # --- gestures ---------------------------------------------------------------------------------------------
    def click(self, ev: MouseClickEvent) -> bool:
        """Selects the sign under a click (the timeline still moves the playhead); claims lane double-clicks."""
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return False
        pos = ev.scenePos()
        track = self.timeline.track_at(pos)
        if ev.double():
            if track not in (None, "sign") and not self.timeline.anchors_at(pos):
                self.timeline.lane_anchor_insert_requested.emit(self.timeline.frame_at(pos), track)
                return True
            return False
        if track == "sign":
            self.select(self.sign_at(pos))
        return False

    def drag(self, ev: MouseDragEvent) -> bool:
        """Handles a drag it claimed at its start; False lets the timeline handle it as before."""
        timeline = self.timeline
        if ev.isStart():
            self._drag = self._claim(ev.buttonDownScenePos(), ev.modifiers())
        if self._drag is None:
            return False
        drag = self._drag
        drag.delta = round(timeline.view_x(ev.scenePos())) - drag.start_frame
        if drag.kind in ("move", "stretch"):
            segment = timeline.segments[drag.index]
            bar = timeline.segment_bar(drag.index)
            if drag.kind == "move":
                bar.setRegion((segment.start + drag.delta - 0.5, segment.end + drag.delta - 0.5))
            else:
                bar.setRegion((segment.start - 0.5, max(segment.start + 2, segment.end + drag.delta) - 0.5))
        if ev.isFinish():
            self._drag = None
            if drag.kind == "move" and drag.delta:
                timeline.sign_moved.emit(drag.index, drag.delta)
            elif drag.kind == "stretch" and drag.delta:
                segment = timeline.segments[drag.index]
                timeline.sign_stretched.emit(drag.index, max(2, segment.length + drag.delta))
            elif drag.kind == "lane" and drag.delta:
                timeline.lane_anchor_moved.emit(drag.anchor_id, drag.stream, drag.delta)
            else:
                timeline.redraw_segments()  # dropped where it started: redraw the bar
        return True

    def _claim(self, press: QtCore.QPointF, modifiers: QtCore.Qt.KeyboardModifier) -> _SignDrag | None:
        timeline = self.timeline
        frame = round(timeline.view_x(press))
        alt = bool(modifiers & _ALT)
        track = timeline.track_at(press)
        if track == "sign":
            boundary = timeline.boundary_at(press)
            if boundary is not None:
                return _SignDrag("stretch", frame, index=boundary[0]) if alt and boundary[1] == "end" else None
            index = self.sign_at(press)
            if index is None:
                return None
            self.select(index)
            return _SignDrag("move", frame, index=index)
        if alt and track is not None:
            hits = timeline.anchors_at(press)
            if hits:
                return _SignDrag("lane", frame, anchor_id=hits[0], stream=track)
        return None

    # --- drops from the Sign library -----------------------------------------------------------------------------
    def accepts(self, event: QtGui.QDropEvent) -> bool:
        if event.mimeData().hasFormat(SIGN_MIME):
            event.acceptProposedAction()
            return True
        return False

    def drop(self, event: QtGui.QDropEvent) -> bool:
        if not event.mimeData().hasFormat(SIGN_MIME):
            return False
        key = bytes(event.mimeData().data(SIGN_MIME)).decode("utf-8")
        scene = self.timeline.mapToScene(event.position().toPoint())
        self.timeline.sign_dropped.emit(key, self.timeline.frame_at(scene))
        event.acceptProposedAction()
        return True
