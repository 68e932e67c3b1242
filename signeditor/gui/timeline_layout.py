"""Geometry of the timeline's track view: its rows, what lies under a point, and where sign labels fit.

Shared by the timeline widget and its sign gestures (sign_timeline.py), so
neither reaches into the other's attributes. Coordinates: x in frames, y in
rows (``TRACK_Y``), as in the track view; label room in pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui

from signeditor.core.segments import Segment

#: Rows of the track view, top to bottom (y coordinate = index from the bottom).
TRACKS: tuple[str, ...] = ("sign", "right_hand", "left_hand", "body", "jaw")
TRACK_LABELS: dict[str, str] = {
    "sign": "Signs", "right_hand": "Right hand", "left_hand": "Left hand", "body": "Body", "jaw": "Face",
}
TRACK_Y: dict[str, float] = {name: float(len(TRACKS) - 1 - i) for i, name in enumerate(TRACKS)}
#: Smallest height of one lane (pixels), so the lane labels never overlap at the default window size.
MIN_LANE_PIXELS = 22
#: How close (pixels) a press must be to a marker or boundary to grab it.
GRAB_PIXELS = 8.0
#: How far (rows) from a row's centre a point still belongs to it.
ROW_HALF_HEIGHT = 0.45
#: Pixels kept free between one sign's label and the next bar.
LABEL_GAP = 4.0


def track_at(view_y: float) -> str | None:
    """The row at height ``view_y``, or None between rows."""
    track = min(TRACKS, key=lambda t: abs(TRACK_Y[t] - view_y))
    return track if abs(TRACK_Y[track] - view_y) <= ROW_HALF_HEIGHT else None


def sign_index_at(segments: Sequence[Segment], view_x: float) -> int | None:
    """The sign whose bar covers frame position ``view_x`` (bars run from start - 0.5 to end - 0.5)."""
    return next((i for i, s in enumerate(segments) if s.start - 0.5 <= view_x < s.end - 0.5), None)


def boundary_near(segments: Sequence[Segment], view_x: float, tolerance: float) -> tuple[int, str] | None:
    """The (sign index, "start" | "end") edge nearest ``view_x`` within ``tolerance`` frames, or None."""
    best: tuple[float, int, str] | None = None
    for i, segment in enumerate(segments):
        for side, x in (("start", segment.start - 0.5), ("end", segment.end - 0.5)):
            distance = abs(x - view_x)
            if distance <= tolerance and (best is None or distance < best[0]):
                best = (distance, i, side)
    return None if best is None else (best[1], best[2])


def fitted_labels(labels: Sequence[str], lefts: Sequence[float], right_edge: float, metrics: QtGui.QFontMetricsF,
                  padding: float) -> list[str]:
    """Each label elided to the room from its bar's left edge to the next bar's (``lefts``, pixels, in order),
    so no two labels overlap; a label with no room for even one letter and "…" is left out ("")."""
    fitted = []
    for i, text in enumerate(labels):
        end = lefts[i + 1] if i + 1 < len(lefts) else right_edge
        room = end - lefts[i] - LABEL_GAP - 2 * padding
        elided = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, max(room, 0.0))
        fitted.append(elided if len(elided) >= 2 or elided == text else "")
    return fitted
