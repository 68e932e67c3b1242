"""Small things a new user notices (issue #19): the speed lane of a still clip, the status bar after a project
change."""

from __future__ import annotations

from gui_helpers import HoldRegenerate, small_project
from PySide6 import QtCore

from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.gui.main_window import MainWindow


def make_window(qtbot, tmp_path, project: Project) -> MainWindow:
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(project, regenerate=HoldRegenerate(), settings=settings, with_viewport=False,
                     confirm_close=False)
    qtbot.addWidget(win)
    win.show()
    return win


def test_speed_lane_of_a_still_clip_has_a_plain_metre_scale(qtbot, tmp_path) -> None:
    win = make_window(qtbot, tmp_path, Project(Motion.rest(100)))
    qtbot.wait(50)  # the curve lane updates on the next idle turn
    plot = win.timeline.curve_plot
    axis = plot.getAxis("left")
    low, high = plot.viewRange()[1]
    assert low >= 0.0 and 0.4 <= high <= 1.0, "0 to about half a metre per second, not ±0.4 shown as ±400"
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0


def test_status_bar_forgets_the_last_export_when_another_project_opens(qtbot, tmp_path) -> None:
    win = make_window(qtbot, tmp_path, small_project()[0])
    assert win.export_to(tmp_path / "take.bvh", "bvh")
    assert win.statusBar().currentMessage().startswith("Exported")
    win.save_to(tmp_path / "other.signproj")
    assert win.open_file(tmp_path / "other.signproj")
    assert win.statusBar().currentMessage() == ""
