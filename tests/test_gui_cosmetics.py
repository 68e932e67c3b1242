"""Small things a new user notices (issue #19): the speed lane of a still clip, the status bar after a project
change."""

from __future__ import annotations

from gui_helpers import small_project

from signeditor.core.motion import Motion
from signeditor.core.project import Project


def test_speed_lane_of_a_still_clip_has_a_plain_metre_scale(qtbot, make_window) -> None:
    win = make_window(Project(Motion.rest(100)))
    qtbot.wait(50)  # the curve lane updates on the next idle turn
    plot = win.timeline.curve_plot
    axis = plot.getAxis("left")
    low, high = plot.viewRange()[1]
    assert low >= 0.0 and 0.4 <= high <= 1.0, "0 to about half a metre per second, not ±0.4 shown as ±400"
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0


def test_status_bar_forgets_the_last_export_when_another_project_opens(make_window, tmp_path) -> None:
    win = make_window(small_project()[0])
    assert win.export_to(tmp_path / "take.bvh", "bvh")
    assert win.statusBar().currentMessage().startswith("Exported")
    win.save_to(tmp_path / "other.signproj")
    assert win.open_file(tmp_path / "other.signproj")
    assert win.statusBar().currentMessage() == ""
