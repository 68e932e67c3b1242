"""Run under a real X server (Xvfb): video export from the real main window with its GL viewport open.

Drives File > Export like a user (the save dialog answered, the options dialog clicked through, Cancel
pressed on the progress dialog) and prints a JSON report; the test reads the written files back with PyAV.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(out_dir: str, project_path: str) -> None:
    from PySide6 import QtCore, QtTest, QtWidgets

    from signeditor.gui.app import application
    from signeditor.gui.main_window import MainWindow
    from tests.gui_helpers import HoldRegenerate

    app = application()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = QtCore.QSettings(str(out / "probe.ini"), QtCore.QSettings.Format.IniFormat)
    # The lighting checks compare the figure's brightness from the front and from behind: the wooden mannequin is
    # one colour all round (the default human avatar wears dark clothes and shows a lit face only from the front).
    settings.setValue("avatar/choice", "mannequin")
    win = MainWindow(regenerate=HoldRegenerate(), settings=settings, confirm_close=False)
    win.show()
    # The camera checks count pixels of the viewport: give it the same size on any test screen (the window alone
    # would fit itself to pytest-xvfb's small 800x600 screen).
    win.resize(1280, 820)
    assert win.open_file(project_path)
    app.processEvents()
    report: dict[str, object] = {"errors": [], "suggested": []}
    QtWidgets.QMessageBox.critical = lambda _parent, title, text, *a: report["errors"].append(f"{title}: {text}")
    target: dict[str, str] = {}

    def save_name(_parent: object, _caption: str, suggested: str, _filter: str) -> tuple[str, str]:
        report["suggested"].append(suggested)
        return target["path"], ""

    QtWidgets.QFileDialog.getSaveFileName = save_name

    def answer_options(camera: str, size_row: int) -> None:
        """Click through the video options dialog as a user: camera, size, OK."""
        dialog = QtWidgets.QApplication.activeModalWidget()
        dialog.camera.setCurrentIndex(dialog.camera.findData(camera))
        dialog.size_choice.setCurrentIndex(size_row)
        report["reference_option_enabled"] = dialog.side_by_side.isEnabled()
        ok = dialog.findChild(QtWidgets.QDialogButtonBox).button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        QtTest.QTest.mouseClick(ok, QtCore.Qt.MouseButton.LeftButton)

    export_menu = next(a.menu() for a in win.menuBar().actions()[0].menu().actions() if a.text() == "&Export")
    actions = {a.text().split("(")[-1].rstrip(")…"): a for a in export_menu.actions()}

    def export(suffix: str, camera: str, size_row: int) -> None:
        target["path"] = str(out / f"take{suffix}")
        QtCore.QTimer.singleShot(0, lambda: answer_options(camera, size_row))
        actions[suffix].trigger()
        job = win.exporter.job
        while job.running:
            app.processEvents()
        report[suffix] = {"frames_rendered": job.done, "status": win.statusBar().currentMessage()}

    export(".mp4", "front", 0)
    export(".gif", "signer", 0)
    target_cancel = out / "cancelled.mp4"
    target_cancel.unlink(missing_ok=True)
    target["path"] = str(target_cancel)
    QtCore.QTimer.singleShot(0, lambda: answer_options("side", 1))
    actions[".mp4"].trigger()
    job = win.exporter.job
    while job.running:
        app.processEvents()
        if job.done >= 3:
            button = win.exporter.progress_dialog.findChild(QtWidgets.QPushButton)
            QtTest.QTest.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
    report["cancelled"] = {"frames_rendered": job.done, "total": job.motion.n_frames,
                           "files_left": sorted(p.name for p in out.iterdir() if "cancelled" in p.name),
                           "status": win.statusBar().currentMessage()}
    report["viewport_still_draws"] = float(win.viewport.render_image()[..., :3].std())
    report["views"] = camera_views(win)
    win.close()
    print(json.dumps(report))


def camera_views(win: object) -> dict[str, dict[str, float]]:
    """Per camera preset of the window's viewport: how bright the figure is, and how many pixels change when
    the right hand opens and closes (zero when the body hides the hands)."""
    import numpy as np

    from signeditor.core import rotations
    from signeditor.core.motion import STREAM_SLICES

    pose = win.document.motion.features[40].copy()
    fist = pose.copy()
    curl = rotations.axis_angle_to_rot6d(np.array([[0.0, 0.0, 1.2]]))[0]  # every right finger joint curled
    fist[STREAM_SLICES["right_hand"]] = np.tile(curl, 15)
    views = {}
    for name in ("front", "signer", "side"):
        win.camera_actions[name].trigger()
        win.viewport.set_pose(pose)
        image = win.viewport.render_image()[..., :3].astype(int)
        win.viewport.set_pose(fist)
        closed = win.viewport.render_image()[..., :3].astype(int)
        figure = np.abs(image - image[2, 2]).sum(-1) > 30
        views[name] = {"figure_brightness": float(image[figure].mean()),
                       "hand_pixels": int((np.abs(closed - image).sum(-1) > 30).sum())}
    return views


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
