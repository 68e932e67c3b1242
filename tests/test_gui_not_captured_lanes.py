""""Not captured" per stream on the timeline (issue #23): a hand lost while the arm was tracked shades only that
hand's row, over only its frames, and says which stream it is; the curve lane and the other rows stay clear."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from conftest import recorded_project
from gui_helpers import view_point
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.motion import STREAMS
from signeditor.core.recording import Recording
from signeditor.gui.timeline_layout import TRACK_Y

#: The hand-built gaps: (stream, first frame, frame after the last).
GAPS = (("left_hand", 10, 20), ("jaw", 30, 40))
LANES = ("right_hand", "left_hand", "body", "jaw")


def gapped_project():
    project = recorded_project(150)  # anchors at 10, 40, 70, 80, 110 and 140
    stream_filled = np.zeros((150, len(STREAMS)), bool)
    for stream, lo, hi in GAPS:
        stream_filled[lo:hi, STREAMS.index(stream)] = True
    project.motion = replace(project.motion, filled=stream_filled.any(axis=1), stream_filled=stream_filled)
    project.recording = Recording.of(project.motion, project.anchors)
    return project


def test_each_stream_is_shaded_on_its_own_row_over_its_own_frames(qtbot, make_window) -> None:
    win = make_window(gapped_project())
    win.resize(1200, 760)
    qtbot.waitExposed(win)
    qtbot.wait(50)  # laid out at its final size
    timeline = win.timeline
    regions = timeline.not_captured_regions
    assert sorted((r.stream, r.lo, r.hi) for r in regions) == sorted(GAPS), "one region a run, on its own lane"
    for frame, lane, tip in ((15, "left_hand", "left hand not captured: generated, or the hand was not detected"),
                             (35, "jaw", "face not captured: generated, or the face was not detected")):
        point = view_point(timeline, timeline.track_box.mapViewToScene(QtCore.QPointF(frame, TRACK_Y[lane] + 0.2)))
        QtWidgets.QApplication.sendEvent(timeline.viewport(), QtGui.QHelpEvent(
            QtCore.QEvent.Type.ToolTip, point.toPoint(), timeline.viewport().mapToGlobal(point.toPoint())))
        assert QtWidgets.QToolTip.text().startswith(tip), QtWidgets.QToolTip.text()

    image = timeline.grab().toImage()
    ratio = image.devicePixelRatio()

    def colour(frame: float, lane: str) -> np.ndarray:  # above the row's centre: clear of the anchor markers
        point = view_point(timeline, timeline.track_box.mapViewToScene(QtCore.QPointF(frame, TRACK_Y[lane] + 0.3)))
        c = QtGui.QColor(image.pixel(int(point.x() * ratio), int(point.y() * ratio)))
        return np.array([c.red(), c.green(), c.blue()], float)

    frames = (7, 12, 19, 22, 26, 32, 38, 44, 55)
    for lane in LANES:
        clear = colour(60, lane)  # no gap on any lane there
        for frame in frames:
            expected = any(stream == lane and lo <= frame < hi for stream, lo, hi in GAPS)
            shaded = np.abs(colour(frame, lane) - clear).sum() > 20
            assert shaded == expected, f"{lane} at frame {frame}: shaded {shaded}, expected {expected}"

