"""The "Non-manuals" dock: Brows, Eyes and Mouth lanes with their own keys, their values, and presets.

Like the timeline it only shows the document and turns gestures into undo commands: double-click in a lane
inserts a key holding the face shown there, a drag moves a key, Delete removes it, the sliders set the selected
key's values (consecutive steps of one slider merge into one undo step), and a preset places its keys over the
span (the shaded region, which follows the anchors selected in the timeline).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent, MouseDragEvent
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.face import FACE_INDEX
from signeditor.core.nonmanual import (
    HEAD_FULL_TURN,
    LANES,
    PRESETS,
    FaceKey,
    face_with_keys,
    grammar_keys,
    head_turns,
    place_preset,
    preset_keys,
)
from signeditor.gui.document import Document

LANE_Y: dict[str, float] = {lane: float(len(LANES) - 1 - i) for i, lane in enumerate(LANES)}
GRAB_PIXELS = 8.0
_KEY_EDIT_ID = 1101


class SetFaceKeysCommand(QtGui.QUndoCommand):
    """Replace the non-manual keys; undo restores the keys from before."""

    def __init__(self, document: Document, keys: tuple[FaceKey, ...], text: str, merge_key: object = None) -> None:
        super().__init__(text)
        self.document = document
        self.before = document.project.face_keys
        self.after = tuple(keys)
        self.merge_key = merge_key

    def redo(self) -> None:
        self.document.set_face_keys(self.after)

    def undo(self) -> None:
        self.document.set_face_keys(self.before)

    def id(self) -> int:
        return _KEY_EDIT_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if not isinstance(other, SetFaceKeysCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True


class _LaneViewBox(pg.ViewBox):
    def __init__(self, panel: NonManualPanel) -> None:
        super().__init__(enableMenu=False)
        self._panel = panel
        self.setMouseEnabled(x=True, y=False)

    def mouseDragEvent(self, ev: MouseDragEvent, axis: int | None = None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self._panel._drag(ev):
            ev.accept()
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self._panel._click(ev)
            ev.accept()
            return
        super().mouseClickEvent(ev)


class _SpanItem(pg.LinearRegionItem):
    """The preset span; a drag that starts on a key is the key's, not the span's."""

    def __init__(self, panel: NonManualPanel) -> None:
        super().__init__((0, 25), brush=pg.mkBrush(90, 200, 120, 40))
        self._panel = panel
        # Above the view box (a negative z put it behind it, where the mouse never reached its edges), below keys.
        self.setZValue(0)

    def mouseDragEvent(self, ev: MouseDragEvent) -> None:
        if ev.isStart() and self._panel._key_near(ev.buttonDownScenePos()) is not None:
            ev.ignore()
            return
        super().mouseDragEvent(ev)


class NonManualPanel(QtWidgets.QWidget):
    """Lanes plot, the selected key's sliders and the preset controls."""

    command_ready = QtCore.Signal(object)  # a QUndoCommand for the main window's undo stack

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.selected_id: int | None = None
        self._dragged: tuple[int, int, int] | None = None  # key id, its frame at press, frame under the mouse
        self._time_linked = False
        self.plot = pg.PlotWidget(viewBox=_LaneViewBox(self))
        self.plot.setMinimumHeight(110)
        axis = self.plot.getAxis("left")
        axis.setTicks([[(y, lane) for lane, y in LANE_Y.items()]])
        self.plot.setYRange(-0.6, len(LANES) - 0.4, padding=0)
        self.plot.hideButtons()
        self.curves = {lane: self.plot.plot(pen=pg.mkPen(120, 160, 230, 160)) for lane in LANES}
        self.markers = pg.ScatterPlotItem(size=11, pen=pg.mkPen(30, 30, 30))
        self.plot.addItem(self.markers)
        self.playhead = pg.InfiniteLine(0, pen=pg.mkPen(230, 60, 60))
        self.plot.addItem(self.playhead)
        self.span = _SpanItem(self)
        self.plot.addItem(self.span)
        self.preset = QtWidgets.QComboBox()
        self.preset.addItems(list(PRESETS))
        self.word = QtWidgets.QLineEdit()
        self.word.setPlaceholderText("word to mouth")
        self.word.setMinimumWidth(110)
        self.word.setEnabled(False)
        self.preset.currentTextChanged.connect(lambda name: self.word.setEnabled(name == "mouthing"))
        self.apply_button = QtWidgets.QPushButton("Apply over span")
        self.apply_button.clicked.connect(self.apply_preset)
        self.from_text_button = QtWidgets.QPushButton("From text")
        self.from_text_button.setToolTip("Question brows from a final '?', negation from negation words")
        self.from_text_button.clicked.connect(self.apply_grammar)
        controls = QtWidgets.QHBoxLayout()
        for widget in (QtWidgets.QLabel("Preset"), self.preset, self.word, self.apply_button, self.from_text_button):
            controls.addWidget(widget)
        self.sliders_box = QtWidgets.QGroupBox("Selected key")
        self.sliders_layout = QtWidgets.QFormLayout(self.sliders_box)
        self.sliders: dict[str, QtWidgets.QSlider] = {}
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.plot.setFocusProxy(self)  # a click in the lanes gives the panel the keyboard (Delete)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.plot, 3)
        layout.addLayout(controls)
        layout.addWidget(self.sliders_box, 2)
        self._rebuild_sliders()

    # --- document ---------------------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        self.document = document
        self.selected_id = None
        document.face_keys_changed.connect(self.refresh)
        document.motion_changed.connect(self.refresh)
        document.frame_changed.connect(lambda frame: self.playhead.setValue(frame))
        if not self._time_linked:
            self.plot.setXRange(0, max(document.n_frames - 1, 1), padding=0.02)
        self.refresh()

    def link_time_axis(self, view_box: pg.ViewBox) -> None:
        """Follow the timeline's time axis: zooming or panning it shows the same frames in the lanes.

        (pyqtgraph's own view linking lines views up on one canvas; these are two widgets.)
        """
        self._time_linked = True
        view_box.sigXRangeChanged.connect(lambda _box, frames: self.plot.setXRange(*frames, padding=0))
        self.plot.setXRange(*view_box.viewRange()[0], padding=0)

    def set_span(self, start: int, end: int) -> None:
        self.span.setRegion((start, end))

    def span_frames(self) -> tuple[int, int]:
        lo, hi = self.span.getRegion()
        return round(lo), round(hi)

    def refresh(self) -> None:
        if self.document is None:
            return
        keys = self.document.project.face_keys
        if self.selected_id not in {k.id for k in keys}:
            self.selected_id = None
        spots = [{"pos": (k.frame, LANE_Y[k.lane]), "data": k.id,
                  "brush": pg.mkBrush(80, 200, 255) if k.id == self.selected_id else pg.mkBrush(240, 170, 40)}
                 for k in keys]
        self.markers.setData(spots)
        # The shown face, one curve per lane (its strongest parameter).
        frames = np.arange(self.document.n_frames)
        shown = face_with_keys(self.document.motion.face, keys, self.document.n_frames)
        turns = np.abs(head_turns(keys, self.document.n_frames)) / HEAD_FULL_TURN
        for lane, curve in self.curves.items():
            level = turns.max(axis=1) if lane == "Head" else shown[:, [FACE_INDEX[p] for p in LANES[lane]]].max(axis=1)
            curve.setData(frames, LANE_Y[lane] - 0.4 + 0.8 * level)
        self._rebuild_sliders()

    # --- gestures ---------------------------------------------------------------------------------------------
    def _key_near(self, scene_pos: QtCore.QPointF) -> FaceKey | None:
        if self.document is None:
            return None
        best, best_distance = None, GRAB_PIXELS
        for key in self.document.project.face_keys:
            point = self.plot.getViewBox().mapViewToScene(QtCore.QPointF(key.frame, LANE_Y[key.lane]))
            distance = np.hypot(point.x() - scene_pos.x(), point.y() - scene_pos.y())
            if distance <= best_distance:
                best, best_distance = key, distance
        return best

    def _view_pos(self, scene_pos: QtCore.QPointF) -> tuple[int, str | None]:
        point = self.plot.getViewBox().mapSceneToView(scene_pos)
        lane = min(LANE_Y, key=lambda name: abs(LANE_Y[name] - point.y()))
        return round(point.x()), lane if abs(LANE_Y[lane] - point.y()) < 0.5 else None

    def _click(self, ev: MouseClickEvent) -> None:
        key = self._key_near(ev.scenePos())
        if ev.double() and key is None:
            frame, lane = self._view_pos(ev.scenePos())
            if lane is not None and self.document is not None:
                self.insert_key(lane, frame)
            return
        self.selected_id = None if key is None else key.id
        self.refresh()

    def _drag(self, ev: MouseDragEvent) -> bool:
        if ev.isStart():
            key = self._key_near(ev.buttonDownScenePos())
            if key is None:
                return False
            self._dragged = (key.id, key.frame, key.frame)
            self.selected_id = key.id
            return True
        if self._dragged is None:
            return False
        key_id, start, _ = self._dragged
        frame, _ = self._view_pos(ev.scenePos())
        frame = min(max(frame, 0), self.document.n_frames - 1)
        self._dragged = (key_id, start, frame)
        key = next(k for k in self.document.project.face_keys if k.id == key_id)
        self.markers.setData([{"pos": (frame if s.id == key_id else s.frame, LANE_Y[s.lane]), "data": s.id}
                              for s in self.document.project.face_keys])
        if ev.isFinish():
            self._dragged = None
            if frame != start:
                moved = tuple(k.moved_to(frame) if k.id == key_id else k for k in self.document.project.face_keys)
                self.command_ready.emit(SetFaceKeysCommand(self.document, moved, f"Move {key.lane} key to {frame}"))
            else:
                self.refresh()
        return True

    def event(self, event: QtCore.QEvent) -> bool:
        """Delete on a selected key is the panel's, not the window's delete-anchors shortcut."""
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and self.selected_id is not None and \
                event.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace) and self.selected_id is not None:
            self.delete_selected()
            return
        super().keyPressEvent(event)

    # --- edits (each one undo command) ------------------------------------------------------------------------
    def insert_key(self, lane: str, frame: int) -> None:
        if lane == "Head":
            values = head_turns(self.document.project.face_keys, self.document.n_frames, np.array([frame]))[0]
            values = values / HEAD_FULL_TURN
        else:
            values = self.document.project.face_at(frame)[[FACE_INDEX[p] for p in LANES[lane]]]
        key = FaceKey(frame, lane, values)
        self.selected_id = key.id
        self.command_ready.emit(SetFaceKeysCommand(self.document, (*self.document.project.face_keys, key),
                                                   f"Insert {lane} key at {frame}"))

    def delete_selected(self) -> None:
        keys = tuple(k for k in self.document.project.face_keys if k.id != self.selected_id)
        self.selected_id = None
        self.command_ready.emit(SetFaceKeysCommand(self.document, keys, "Delete non-manual key"))

    def apply_preset(self) -> None:
        if self.document is None:
            return
        start, end = self.span_frames()
        start, end = max(start, 0), min(end, self.document.n_frames - 1)
        name = self.preset.currentText()
        try:
            new = preset_keys(name, start, end, self.word.text())
        except ValueError as exc:
            self.apply_button.setToolTip(str(exc))
            QtWidgets.QToolTip.showText(self.apply_button.mapToGlobal(QtCore.QPoint(0, 0)), str(exc))
            return
        keys = place_preset(self.document.project.face_keys, new, start, end)
        self.command_ready.emit(SetFaceKeysCommand(self.document, keys, f"{name.capitalize()} over {start}-{end}"))

    def apply_grammar(self) -> None:
        """The question and negation presets the project's text asks for, over its signs (one undo step)."""
        project = self.document.project
        new = grammar_keys(project.text, project.segments, self.document.n_frames, project.spoken_language)
        if not new:
            QtWidgets.QToolTip.showText(self.from_text_button.mapToGlobal(QtCore.QPoint(0, 0)),
                                        "the text has no question mark or negation word")
            return
        frames = [k.frame for k in new]
        keys = place_preset(project.face_keys, new, min(frames), max(frames))
        self.command_ready.emit(SetFaceKeysCommand(self.document, keys, "Non-manuals from the text"))

    def _set_value(self, parameter: str, value: int) -> None:
        key = next((k for k in self.document.project.face_keys if k.id == self.selected_id), None)
        if key is None:
            return
        values = key.values.copy()
        values[LANES[key.lane].index(parameter)] = value / 100.0
        edited = replace(key, values=values)
        keys = tuple(edited if k.id == key.id else k for k in self.document.project.face_keys)
        self.command_ready.emit(SetFaceKeysCommand(self.document, keys, f"Set {parameter.replace('_', ' ')}",
                                                   merge_key=(key.id, parameter)))

    def _rebuild_sliders(self) -> None:
        key = None
        if self.document is not None and self.selected_id is not None:
            key = next((k for k in self.document.project.face_keys if k.id == self.selected_id), None)
        wanted = LANES[key.lane] if key is not None else ()
        if tuple(self.sliders) != wanted:
            while self.sliders_layout.rowCount():
                self.sliders_layout.removeRow(0)
            self.sliders = {}
            for parameter in wanted:
                slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
                slider.setRange(-100 if key.lane == "Head" else 0, 100)
                slider.valueChanged.connect(lambda value, p=parameter: self._set_value(p, value))
                self.sliders[parameter] = slider
                self.sliders_layout.addRow(parameter.replace("_", " "), slider)
        self.sliders_box.setTitle(f"{key.lane} key at frame {key.frame}" if key is not None else "Selected key")
        for parameter, slider in self.sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(100 * float(key.values[LANES[key.lane].index(parameter)])))
            slider.blockSignals(False)
