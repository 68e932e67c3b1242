"""Opening a keypoint file tells the user how its 3D was recovered and how plausible it is."""

from __future__ import annotations

from gui_helpers import HoldRegenerate
from PySide6 import QtCore

from signeditor.gui.main_window import MainWindow


def test_open_pose_shows_the_import_report(qtbot, tmp_path, monkeypatch, make_pose_file) -> None:
    monkeypatch.setattr("signeditor.gui.main_window.recovery_path", lambda: tmp_path / "recovery.signproj")
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(regenerate=HoldRegenerate(), settings=settings, with_viewport=False, confirm_close=False)
    qtbot.addWidget(window)
    window.show()
    path, _ = make_pose_file("flat.pose", n_frames=30, flat_depth=True)
    assert window.open_file(path)
    message = window.statusBar().currentMessage()
    assert "Imported 30 frames" in message and "depth: lifted" in message and "behind the body" in message
    window.close()
