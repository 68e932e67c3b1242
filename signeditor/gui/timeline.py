"""The timeline: sign segments, per-stream anchor tracks, a curve lane and the playhead.

It only *shows* the document and turns mouse gestures into signals; the main
window turns those into undoable commands. Keeping edits out of the widget
means every change goes through the undo stack and the regenerator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import HoverEvent, MouseClickEvent, MouseDragEvent
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.anchors import AnchorSet
from signeditor.core.hand_features import track_speed, wrist_positions
from signeditor.core.motion import STREAMS
from signeditor.core.recording import frame_runs
from signeditor.core.segments import Segment, segments_following
from signeditor.core.sign_names import anchor_role, sign_at
from signeditor.core.skeleton import signing_skeleton
from signeditor.gui.sign_timeline import SignGestures
from signeditor.gui.timeline_layout import (
    GRAB_PIXELS,
    MIN_LANE_PIXELS,
    TRACK_LABELS,
    TRACK_Y,
    TRACKS,
    boundary_near,
    fitted_labels,
    track_at,
)

_ANCHOR_BRUSH = pg.mkBrush(240, 170, 40)
_SELECTED_BRUSH = pg.mkBrush(80, 200, 255)
#: Signs lane colour by review status: draft blue, needs work orange-red, approved green.
SEGMENT_COLOURS: dict[str, tuple[int, int, int, int]] = {
    "draft": (90, 130, 200, 110), "needs work": (230, 90, 40, 150), "approved": (60, 180, 90, 140),
}
_GENERATED_BRUSH = pg.mkBrush(200, 120, 255, 70)
#: How far (rows) a "not captured" shading reaches above and below its row's centre.
NOT_CAPTURED_HALF_HEIGHT = 0.4
#: A selected sign is outlined in this colour: its fill keeps showing its review status.
SELECTED_SIGN_OUTLINE = (80, 200, 255)


@dataclass
class _Drag:
    """What the current left-drag grabbed: anchors (ids) or a segment boundary (segment index, side)."""

    kind: str
    start_frame: int
    anchor_ids: tuple[int, ...] = ()
    #: Frames of the dragged anchors when the drag began; the document may show previews meanwhile.
    base_frames: dict[int, int] = field(default_factory=dict)
    segment_index: int = -1
    side: str = ""
    delta: int = 0
    #: The anchor under the press: the playhead follows it on the drop, so the viewport shows its pose.
    grabbed: int = -1


class _TrackViewBox(pg.ViewBox):
    """A ViewBox that lets the timeline claim drags and clicks on its markers before panning."""

    def __init__(self, timeline: TimelineWidget) -> None:
        super().__init__(enableMenu=False)
        self._timeline = timeline
        self.setMouseEnabled(x=True, y=False)

    def mouseDragEvent(self, ev: MouseDragEvent, axis: int | None = None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self._timeline._handle_drag(ev):
            ev.accept()
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:
        if self._timeline._handle_click(ev):
            ev.accept()
            return
        super().mouseClickEvent(ev)

    def wheelEvent(self, ev: QtWidgets.QGraphicsSceneWheelEvent, axis: int | None = None) -> None:
        super().wheelEvent(ev, axis=0)  # zoom time only


class _Markers(pg.ScatterPlotItem):
    """Anchor markers; clicks on them are the ViewBox's business (selection, multi-drag), not the scatter's."""

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:
        ev.ignore()


class _Playhead(pg.InfiniteLine):
    """The playhead line, which lets a press on an anchor marker through: an anchor inserted at the playhead
    sits under the line and must still be draggable (the line is grabbed anywhere else)."""

    def __init__(self, timeline: TimelineWidget, **kwargs: object) -> None:  # InfiniteLine's options
        super().__init__(**kwargs)
        self._timeline = timeline

    def hoverEvent(self, ev: HoverEvent) -> None:
        if not ev.isExit() and self._timeline.anchors_at(ev.scenePos()):
            self.setMouseHover(False)  # and no drag claimed: the anchor gets it
            return
        super().hoverEvent(ev)

    def mouseDragEvent(self, ev: MouseDragEvent) -> None:
        if ev.isStart() and self._timeline.anchors_at(ev.buttonDownScenePos()):
            ev.ignore()
            return
        super().mouseDragEvent(ev)


class NotCapturedRegion(QtWidgets.QGraphicsRectItem):
    """Frames [lo, hi) of one stream's row where that stream is not captured; its tooltip names the stream."""

    def __init__(self, stream: str, lo: int, hi: int) -> None:
        y = TRACK_Y[stream]
        super().__init__(QtCore.QRectF(lo - 0.5, y - NOT_CAPTURED_HALF_HEIGHT, hi - lo, 2 * NOT_CAPTURED_HALF_HEIGHT))
        self.stream, self.lo, self.hi = stream, lo, hi
        self.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        self.setBrush(_GENERATED_BRUSH)
        self.setZValue(-1)  # under the anchor markers and the playhead
        part = TRACK_LABELS[stream].lower()
        self.setToolTip(f"{part} not captured: generated, or the {part.removeprefix('right ').removeprefix('left ')} "
                        "was not detected (Edit > Restore recording in span brings a regenerated capture back)")


class TimelineWidget(pg.GraphicsLayoutWidget):
    """Tracks and a curve lane sharing one time axis (frames; seconds shown on the top axis)."""

    anchor_moved = QtCore.Signal(object, int)  # (anchor ids tuple, delta frames), on drop
    anchor_drag_preview = QtCore.Signal(object, int)  # while dragging, for live (debounced) regeneration
    anchor_drag_cancelled = QtCore.Signal()  # dropped where it started: previews must be undone
    anchor_insert_requested = QtCore.Signal(int)
    selection_changed = QtCore.Signal(object)  # tuple of selected anchor ids
    playhead_moved = QtCore.Signal(int)
    segment_boundary_moved = QtCore.Signal(int, str, int)  # (segment index, "start"|"end", new frame)
    # Sign-level and per-lane gestures (see sign_timeline.SignGestures).
    sign_selected = QtCore.Signal(int)  # sign index, -1 for none
    sign_moved = QtCore.Signal(int, int)  # (sign index, delta frames)
    sign_stretched = QtCore.Signal(int, int)  # (sign index, new length in frames)
    lane_anchor_insert_requested = QtCore.Signal(int, str)  # (frame, stream)
    lane_anchor_moved = QtCore.Signal(int, str, int)  # (anchor id, stream, delta frames)
    sign_dropped = QtCore.Signal(str, int)  # (lexicon entry key, frame)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.signs = SignGestures(self)
        self.setAcceptDrops(True)
        self._anchors = AnchorSet()
        self._segments: list[Segment] = []
        self._sign_labels: list[str] = []
        self.segment_bars: list[pg.LinearRegionItem] = []
        #: The sign names drawn on the Signs row, one per sign (hidden when there is no room for it).
        self.sign_label_items: list[pg.TextItem] = []
        self._label_names: list[str] = []  # each label's full name (the item shows it elided to fit)
        self._n_frames = 1
        self._fps = 25.0
        self._selected: set[int] = set()
        self._drag: _Drag | None = None
        self._theme = "dark"

        self.track_box = _TrackViewBox(self)
        self.tracks = pg.PlotItem(viewBox=self.track_box)
        self.tracks.hideButtons()
        self.tracks.showAxis("top")
        self.tracks.getAxis("top").setLabel("seconds")
        self.tracks.hideAxis("bottom")  # the curve lane below shows frames: the lanes keep that height
        left = self.tracks.getAxis("left")
        left.setTicks([[(TRACK_Y[t], TRACK_LABELS[t]) for t in TRACKS]])
        left.setWidth(80)
        self.track_box.setYRange(-0.6, len(TRACKS) - 0.4, padding=0)
        self.addItem(self.tracks, row=0, col=0)
        self.tracks.setMinimumHeight(len(TRACKS) * MIN_LANE_PIXELS + 45)  # + the seconds axis

        self.curve_plot = self.addPlot(row=1, col=0)
        self.curve_plot.setMaximumHeight(70)
        self.curve_plot.getAxis("bottom").setLabel("frame")
        self.setMinimumHeight(len(TRACKS) * MIN_LANE_PIXELS + 45 + 60)
        self.ci.layout.setRowStretchFactor(0, 4)
        self.ci.layout.setRowStretchFactor(1, 1)
        self.curve_plot.hideButtons()
        self.curve_plot.setMouseEnabled(x=True, y=False)
        self.curve_plot.getAxis("left").setWidth(80)
        self.curve_plot.getAxis("left").setLabel("wrist m/s")
        self.curve_plot.getAxis("left").enableAutoSIPrefix(False)  # no "(x0.001)" on a still clip
        self.curve_plot.setXLink(self.tracks)
        self.speed_curves = {
            "right": self.curve_plot.plot(pen=pg.mkPen((255, 120, 80), width=1.5), name="right wrist"),
            "left": self.curve_plot.plot(pen=pg.mkPen((80, 200, 120), width=1.5), name="left wrist"),
        }

        self.anchor_markers = _Markers(size=12, symbol="d", pen=pg.mkPen("k"))
        self.anchor_markers.setZValue(110)  # above the playhead line, so an anchor at the playhead stays visible
        self.tracks.addItem(self.anchor_markers)
        #: The selected anchor's name (its sign and role), shown above its marker.
        self.selection_label = pg.TextItem("", color=(80, 200, 255), anchor=(0.5, 1.0))
        self.selection_label.setZValue(120)
        self.tracks.addItem(self.selection_label, ignoreBounds=True)
        self._segment_items: list[pg.GraphicsObject] = []
        #: Shading on each stream's own row over the frames where that stream is not captured (one item a run).
        self.not_captured_regions: list[NotCapturedRegion] = []
        self._not_captured: np.ndarray | None = None  # the mask drawn, so an unchanged one is not drawn again

        self._band = QtWidgets.QGraphicsRectItem()
        self._band.setPen(pg.mkPen((80, 200, 255), width=1, style=QtCore.Qt.PenStyle.DashLine))
        self._band.setBrush(pg.mkBrush(80, 200, 255, 40))
        self._band.hide()
        self._band_origin = QtCore.QPointF()
        self.track_box.addItem(self._band, ignoreBounds=True)

        self.playhead = _Playhead(self, pos=0, angle=90, movable=True, pen=pg.mkPen((230, 60, 60), width=2))
        self.playhead.setZValue(100)
        self.tracks.addItem(self.playhead)
        self.curve_playhead = pg.InfiniteLine(pos=0, angle=90, movable=False, pen=pg.mkPen((230, 60, 60), width=1))
        self.curve_plot.addItem(self.curve_playhead)
        self.playhead.sigPositionChanged.connect(self._on_playhead_dragged)
        self.track_box.sigXRangeChanged.connect(self._update_seconds_axis)
        self.track_box.sigXRangeChanged.connect(self._fit_sign_labels)
        self.track_box.sigResized.connect(self._fit_sign_labels)

    # --- data in ---------------------------------------------------------------------------------------------
    def set_clip(self, n_frames: int, fps: float) -> None:
        self._n_frames = max(1, int(n_frames))
        self._fps = float(fps)
        self.track_box.setLimits(xMin=-5, xMax=self._n_frames + 5)
        self.track_box.setXRange(0, self._n_frames - 1, padding=0.02)
        self.playhead.setBounds((0, self._n_frames - 1))
        self._update_seconds_axis()

    def set_anchors(self, anchors: AnchorSet) -> None:
        self._anchors = anchors
        self._selected &= {a.id for a in anchors}
        self._redraw_anchors()

    def set_segments(self, segments: list[Segment], labels: list[str] | None = None) -> None:
        """Show the signs; ``labels`` names each bar (see core.sign_names), else its gloss."""
        self._segments = list(segments)
        if labels is not None and len(labels) == len(self._segments):
            self._sign_labels = list(labels)
        elif labels is not None or len(self._sign_labels) != len(self._segments):
            self._sign_labels = [s.gloss for s in self._segments]
        self._draw_segments(self._segments)

    @property
    def segments(self) -> list[Segment]:
        """The signs shown (a copy)."""
        return list(self._segments)

    @property
    def sign_names(self) -> list[str]:
        """Each sign's name as its bar shows it in full, in ``segments`` order (see core.sign_names)."""
        return list(self._sign_labels)

    def redraw_segments(self) -> None:
        """Draw the signs again where the document has them (after a previewed drag was dropped)."""
        self._draw_segments(self._segments)

    def segment_bar(self, index: int) -> pg.LinearRegionItem:
        """The bar of sign ``index`` (a gesture may move it as a preview)."""
        return self.segment_bars[index]

    def _draw_segments(self, segments: list[Segment]) -> None:
        for item in self._segment_items:
            self.tracks.removeItem(item)
        self._segment_items, self.segment_bars, self.sign_label_items = [], [], []
        self._label_names = []
        y = TRACK_Y["sign"]
        if self.signs.selected is not None and self.signs.selected >= len(self._segments):
            self.signs.selected = None
        color = (230, 230, 230) if self._theme == "dark" else (20, 20, 30)
        low, high = self.track_box.viewRange()[1]  # a bar's span is a fraction of the view's height
        bar_low, bar_high = ((y - 0.4 - low) / (high - low), (y + 0.4 - low) / (high - low))
        for i, segment in enumerate(segments):
            name = self._sign_labels[i] if i < len(self._sign_labels) else segment.gloss
            bar = pg.LinearRegionItem(
                values=(segment.start - 0.5, segment.end - 0.5), movable=False,
                brush=pg.mkBrush(*SEGMENT_COLOURS[segment.status]),
                span=(bar_low, bar_high),
            )
            bar.setToolTip(f"{name} (frames {segment.start}–{segment.end - 1}, {segment.status})")
            label = pg.TextItem(name, color=color, anchor=(0, 0.5))
            label.setPos(segment.start - 0.5, y)
            items = [bar, label]
            if i == self.signs.selected:  # an outline: the fill keeps showing the review colour
                rect = QtCore.QRectF(segment.start - 0.5, y - 0.4, segment.length, 0.8)
                outline = QtWidgets.QGraphicsRectItem(rect)
                pen = pg.mkPen(SELECTED_SIGN_OUTLINE, width=3)
                pen.setCosmetic(True)
                outline.setPen(pen)
                outline.setZValue(bar.zValue() + 1)
                items.append(outline)
            for item in items:
                self.tracks.addItem(item)
                self._segment_items.append(item)
            self.segment_bars.append(bar)
            self.sign_label_items.append(label)
            self._label_names.append(name)
        self._fit_sign_labels()

    def _fit_sign_labels(self) -> None:
        """Elide each sign's name to the room before the next bar, so names never overlap (at any zoom)."""
        items = self.sign_label_items
        if not items:
            return
        names = self._label_names
        lefts = [self.frame_scene_x(item.pos().x()) for item in items]
        right = self.frame_scene_x(self._n_frames + 5)  # the view's right limit
        metrics = QtGui.QFontMetricsF(items[0].textItem.font())
        padding = items[0].textItem.document().documentMargin()
        for item, text in zip(items, fitted_labels(names, lefts, right, metrics, padding), strict=True):
            item.setText(text)
            item.setVisible(bool(text))

    def set_not_captured(self, missing: np.ndarray | None) -> None:
        """Shade each stream's row where that stream is not captured: ``missing`` is (frames, STREAMS) bool (True:
        generated, or a gap the importer filled), None without a recording. A hand lost while the arm was tracked
        shades only that hand's row. Runs of frames are one item each; an unchanged mask is not drawn again."""
        if missing is not None and self._not_captured is not None and np.array_equal(missing, self._not_captured):
            return
        self._not_captured = None if missing is None else np.array(missing, dtype=bool)
        for region in self.not_captured_regions:
            self.track_box.removeItem(region)
        self.not_captured_regions = []
        if self._not_captured is None:
            return
        for column, stream in enumerate(STREAMS):
            for lo, hi in frame_runs(self._not_captured[:, column]):
                region = NotCapturedRegion(stream, lo, hi)
                self.track_box.addItem(region, ignoreBounds=True)
                self.not_captured_regions.append(region)

    def set_speed_curves(self, right: np.ndarray, left: np.ndarray) -> None:
        frames = np.arange(len(right))
        self.speed_curves["right"].setData(frames, right)
        self.speed_curves["left"].setData(frames, left)
        # Speeds are never negative, and a still clip keeps a readable 0-0.5 m/s scale instead of a tiny one.
        peak = float(np.nanmax(np.concatenate([right, left]))) if len(right) else 0.0
        self.curve_plot.setYRange(0.0, max(0.5, peak * 1.05), padding=0)

    def set_playhead(self, frame: int) -> None:
        """Move the playhead without emitting ``playhead_moved`` (the document already knows)."""
        blocker = QtCore.QSignalBlocker(self.playhead)
        self.playhead.setValue(frame)
        del blocker
        self.curve_playhead.setValue(frame)

    @property
    def playhead_frame(self) -> int:
        return round(self.playhead.value())

    @property
    def selected_ids(self) -> tuple[int, ...]:
        return tuple(a.id for a in self._anchors if a.id in self._selected)

    def select(self, ids: tuple[int, ...] | list[int]) -> None:
        self._selected = set(ids)
        self._redraw_anchors()
        self.selection_changed.emit(self.selected_ids)

    def zoom(self, factor: float) -> None:
        """Show ``factor`` times as many frames, around the playhead (the keys' way to do what the wheel does)."""
        lo, hi = self.track_box.viewRange()[0]
        centre = self.playhead_frame if lo <= self.playhead_frame <= hi else (lo + hi) / 2
        half = min(max((hi - lo) * factor / 2, 5.0), (self._n_frames + 10) / 2)
        self.track_box.setXRange(centre - half, centre + half, padding=0)

    def set_theme(self, theme: str) -> None:
        self._theme = theme
        self.setBackground("#1e1e22" if theme == "dark" else "#f4f4f6")
        self.redraw_segments()

    # --- drops from the Sign library -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if not self.signs.accepts(event):
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        if not self.signs.accepts(event):
            super().dragMoveEvent(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        if not self.signs.drop(event):
            super().dropEvent(event)

    # --- geometry helpers --------------------------------------------------------------------------------------
    def anchor_scene_pos(self, anchor_id: int, track: str | None = None) -> QtCore.QPointF:
        """Scene position of an anchor's marker (tests drive real mouse events at it)."""
        anchor = self._anchors.by_id(anchor_id)
        track = track or next(t for t in TRACKS if t in anchor.streams)
        return self.track_box.mapViewToScene(QtCore.QPointF(anchor.frame, TRACK_Y[track]))

    def frame_scene_x(self, frame: float) -> float:
        return float(self.track_box.mapViewToScene(QtCore.QPointF(frame, 0)).x())

    def _pixels_per_frame(self) -> float:
        a = self.track_box.mapViewToScene(QtCore.QPointF(0, 0))
        b = self.track_box.mapViewToScene(QtCore.QPointF(1, 0))
        return max(abs(b.x() - a.x()), 1e-6)

    def anchors_at(self, scene_pos: QtCore.QPointF) -> list[int]:
        """Ids of the anchor markers under ``scene_pos`` on its lane, nearest first (hit test)."""
        view = self.track_box.mapSceneToView(scene_pos)
        track = track_at(view.y())
        if track in (None, "sign"):
            return []
        tolerance = GRAB_PIXELS / self._pixels_per_frame()
        hits = [(abs(a.frame - view.x()), a.id) for a in self._anchors if track in a.streams]
        hits = [h for h in hits if h[0] <= tolerance]
        return [anchor_id for _, anchor_id in sorted(hits)]

    def boundary_at(self, scene_pos: QtCore.QPointF) -> tuple[int, str] | None:
        """The sign edge (index, "start" | "end") under ``scene_pos`` on the Signs row (hit test)."""
        view = self.track_box.mapSceneToView(scene_pos)
        if track_at(view.y()) != "sign":
            return None
        return boundary_near(self._segments, view.x(), GRAB_PIXELS / self._pixels_per_frame())

    def track_at(self, scene_pos: QtCore.QPointF) -> str | None:
        """The row under ``scene_pos`` (see timeline_layout.TRACKS), or None (hit test)."""
        return track_at(self.track_box.mapSceneToView(scene_pos).y())

    def view_x(self, scene_pos: QtCore.QPointF) -> float:
        """The frame position (not rounded, not clamped) under ``scene_pos``."""
        return float(self.track_box.mapSceneToView(scene_pos).x())

    # --- gestures ----------------------------------------------------------------------------------------------
    def frame_at(self, scene_pos: QtCore.QPointF) -> int:
        """The frame under ``scene_pos``, inside the clip (hit test)."""
        frame = round(self.track_box.mapSceneToView(scene_pos).x())
        return min(max(frame, 0), self._n_frames - 1)

    def _handle_click(self, ev: MouseClickEvent) -> bool:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or self.signs.click(ev):
            return ev.button() == QtCore.Qt.MouseButton.LeftButton
        hits = self.anchors_at(ev.scenePos())
        if ev.double():
            if not hits:
                self.anchor_insert_requested.emit(self.frame_at(ev.scenePos()))
            return True
        additive = bool(ev.modifiers() & (QtCore.Qt.KeyboardModifier.ControlModifier
                                          | QtCore.Qt.KeyboardModifier.ShiftModifier))
        if hits:
            if additive:
                self._selected ^= {hits[0]}
            else:
                self._selected = {hits[0]}
            self._redraw_anchors()
            self.selection_changed.emit(self.selected_ids)
            if hits[0] in self._selected:  # show the selected anchor's pose: edits to it are then visible
                self._move_playhead(self._anchors.by_id(hits[0]).frame)
        else:  # moving the playhead keeps the selection (Escape clears it)
            self._move_playhead(self.frame_at(ev.scenePos()))
        return True

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:
        if ev.key() == QtCore.Qt.Key.Key_Escape and self._selected:
            self.select(())
            ev.accept()
            return
        super().keyPressEvent(ev)

    def _handle_drag(self, ev: MouseDragEvent) -> bool:
        if self.signs.drag(ev):
            return True
        if ev.isStart():
            press = ev.buttonDownScenePos()
            hits = self.anchors_at(press)
            boundary = self.boundary_at(press)
            if hits:
                if hits[0] not in self._selected:
                    self._selected = {hits[0]}
                ids = self.selected_ids
                self._drag = _Drag("anchors", self.frame_at(press), anchor_ids=ids,
                                   base_frames={i: self._anchors.by_id(i).frame for i in ids}, grabbed=hits[0])
                self.selection_changed.emit(self.selected_ids)
            elif boundary is not None:
                self._drag = _Drag("boundary", self.frame_at(press), segment_index=boundary[0], side=boundary[1])
            elif ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier:
                self._drag = _Drag("band", self.frame_at(press))
                self._band_origin = self.track_box.mapSceneToView(press)
                self._band.show()
            else:
                self._drag = None
                return False
        if self._drag is None:
            return False
        if self._drag.kind == "band":
            return self._drag_band(ev)
        frame = round(self.track_box.mapSceneToView(ev.scenePos()).x())
        delta = self._clamped_delta(frame - self._drag.start_frame)
        if self._drag.kind == "anchors":
            if delta != self._drag.delta:
                self._drag.delta = delta
                self._redraw_anchors()
                moves = {frame: frame + delta for frame in self._drag.base_frames.values()}
                self._draw_segments(segments_following(self._segments, moves, self._n_frames))  # bars follow
                self.anchor_drag_preview.emit(self._drag.anchor_ids, delta)
        else:
            self._drag.delta = delta
        if ev.isFinish():
            drag, self._drag = self._drag, None
            if drag.kind == "anchors":
                self._redraw_anchors()
                if drag.delta:
                    self.anchor_moved.emit(drag.anchor_ids, drag.delta)
                    self._move_playhead(drag.base_frames[drag.grabbed] + drag.delta)
                else:
                    self._draw_segments(self._segments)
                    self.anchor_drag_cancelled.emit()
            elif drag.delta:
                segment = self._segments[drag.segment_index]
                base = segment.start if drag.side == "start" else segment.end
                self.segment_boundary_moved.emit(drag.segment_index, drag.side, base + drag.delta)
        return True

    def _drag_band(self, ev: MouseDragEvent) -> bool:
        """Shift-drag on empty space: select every anchor marker inside the rectangle."""
        rect = QtCore.QRectF(self._band_origin, self.track_box.mapSceneToView(ev.scenePos())).normalized()
        self._band.setRect(rect)
        if ev.isFinish():
            self._drag = None
            self._band.hide()
            rows = [t for t in TRACKS[1:] if rect.top() <= TRACK_Y[t] <= rect.bottom()]
            self._selected = {a.id for a in self._anchors
                              if rect.left() <= a.frame <= rect.right() and any(t in a.streams for t in rows)}
            self._redraw_anchors()
            self.selection_changed.emit(self.selected_ids)
        return True

    def _clamped_delta(self, delta: int) -> int:
        """Keep dragged anchors inside the clip."""
        if self._drag is None or self._drag.kind != "anchors":
            return delta
        frames = list(self._drag.base_frames.values())
        return int(min(max(delta, -min(frames)), self._n_frames - 1 - max(frames)))

    def _move_playhead(self, frame: int) -> None:
        self.set_playhead(frame)
        self.playhead_moved.emit(frame)

    def _on_playhead_dragged(self) -> None:
        frame = min(max(self.playhead_frame, 0), self._n_frames - 1)
        self.curve_playhead.setValue(frame)
        self.playhead_moved.emit(frame)

    # --- drawing -----------------------------------------------------------------------------------------------
    def _redraw_anchors(self) -> None:
        dragging = self._drag is not None and self._drag.kind == "anchors"
        base = self._drag.base_frames if dragging else {}
        spots = []
        for anchor in self._anchors:
            frame = base[anchor.id] + self._drag.delta if anchor.id in base else anchor.frame
            brush = _SELECTED_BRUSH if anchor.id in self._selected else _ANCHOR_BRUSH
            for track in TRACKS[1:]:
                if track in anchor.streams:
                    spots.append({"pos": (frame, TRACK_Y[track]), "brush": brush, "data": anchor.id})
        self.anchor_markers.setData(spots)
        self._update_selection_label(base)

    def _update_selection_label(self, dragged_from: dict[int, int]) -> None:
        """Name the selected anchor (or say how many) above its topmost marker."""
        selected = [a for a in self._anchors if a.id in self._selected]
        if not selected:
            self.selection_label.setText("")
            return
        first = selected[0]
        frame = dragged_from[first.id] + self._drag.delta if first.id in dragged_from else first.frame
        track = next(t for t in TRACKS[1:] if t in first.streams)
        in_sign = sign_at(first.frame, self._segments, self._sign_labels) is not None  # its bar names the sign
        caption = anchor_role(first.label) if in_sign else first.label
        text = (caption or f"frame {first.frame}") if len(selected) == 1 else f"{len(selected)} anchors"
        self.selection_label.setText(text)
        self.selection_label.setPos(frame, TRACK_Y[track] + 0.25)

    def _update_seconds_axis(self) -> None:
        """Top axis in seconds: tick labels are frame positions relabelled, so both axes stay aligned."""
        lo, hi = self.track_box.viewRange()[0]
        span_s = max((hi - lo) / self._fps, 1e-3)
        step = next((s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60) if span_s / s <= 12), 120)
        start = np.ceil(max(lo, 0) / self._fps / step) * step
        ticks = [(t * self._fps, f"{t:g}") for t in np.arange(start, hi / self._fps + 1e-9, step)]
        self.tracks.getAxis("top").setTicks([ticks])


def wrist_speeds(features: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Right and left wrist speed (m/s) per frame, for the curve lane (arm-only kinematics: cheap on long clips)."""
    metres = wrist_positions(features) * signing_skeleton().shoulder_width()  # (T, [left, right], 3)
    speed = track_speed(metres, fps)
    return speed[:, 1], speed[:, 0]
