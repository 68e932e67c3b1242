"""Run under a real X server (Xvfb): the window's default avatar, View > Avatar choices, face morph pixels.

Prints one JSON report for tests/test_avatar_viewport.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def _figure_fraction(image: np.ndarray, background: np.ndarray) -> float:
    return float((np.abs(image[..., :3].astype(int) - background).sum(-1) > 30).mean())


def _wait_for_avatar(win: object, app: object, timeout_s: float = 60.0) -> None:
    """The remembered avatar loads on a worker; the GUI thread keeps serving events until it is shown."""
    deadline = time.monotonic() + timeout_s
    while win.avatar_loader is not None and win.avatar_loader.pending is not None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def main(out_dir: str) -> None:
    from PySide6 import QtCore

    from signeditor.gui.app import application
    from signeditor.gui.main_window import MainWindow
    from tests.gui_helpers import HoldRegenerate, raised_arm_pose

    app = application()
    settings_path = Path(out_dir) / "avatar_probe.ini"
    settings_path.unlink(missing_ok=True)
    settings = QtCore.QSettings(str(settings_path), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(regenerate=HoldRegenerate(), settings=settings, confirm_close=False)
    win.show()
    app.processEvents()
    viewport = win.viewport
    background = np.array(viewport.canvas.bgcolor.rgba[:3]) * 255
    # The window is usable at once with the mannequin, while the shipped avatar loads on a worker.
    report: dict[str, object] = {"placeholder": type(viewport.avatar).__name__,
                                 "placeholder_fraction": _figure_fraction(viewport.render_image(), background)}
    _wait_for_avatar(win, app)
    report["default_avatar"] = getattr(viewport.avatar, "name", type(viewport.avatar).__name__)
    default_image = viewport.render_image()
    report["default_fraction"] = _figure_fraction(default_image, background)
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&View")
    avatar_menu = next(a.menu() for a in menu.actions() if a.text() == "&Avatar")
    entries = {a.text(): a for a in avatar_menu.actions() if a.text()}
    report["menu"] = sorted(entries)
    entries["&Mannequin"].trigger()
    app.processEvents()
    report["after_mannequin"] = type(viewport.avatar).__name__
    report["mannequin_differs"] = float((viewport.render_image() != default_image).any(-1).mean())
    report["remembered"] = str(settings.value("avatar/choice"))
    entries["Black F 1 Busi"].trigger()
    report["after_pick"] = getattr(viewport.avatar, "name", "")
    win.close()
    again = MainWindow(regenerate=HoldRegenerate(), settings=settings, confirm_close=False)
    _wait_for_avatar(again, app)
    report["restored"] = getattr(again.viewport.avatar, "name", "")
    report["wh_question_changed_fraction"] = _wh_question_pixels(again, app, out_dir)
    again.close()

    # A face morph changes the face's pixels: look at the head closely, mouth open against neutral.
    from signeditor.render.viewport import Viewport

    view = Viewport(size=(240, 240))
    view.native.show()
    app.processEvents()
    import vispy.io

    view.set_avatar(win.viewport.avatar.__class__(win.viewport.avatar.path))
    head = view.avatar.joint_positions(raised_arm_pose())["Head"]
    view.view.camera.center = tuple(head + np.array([0.0, 0.05, 0.0]))
    view.view.camera.distance = 0.6
    view.set_pose(raised_arm_pose())
    neutral = view.render_image()
    mouth = view.avatar.morph_names.index("h_expressions.MouthOpen_h")
    view.mesh.set_mesh(*_posed(view, {mouth: 1.0}))
    opened = view.render_image()
    report["morph_changed_fraction"] = float((np.abs(opened.astype(int) - neutral.astype(int)).sum(-1) > 30).mean())
    # The same through the face channel: named parameters, mapped by the avatar's face rig.
    from signeditor.core.face import FACE_DIM, FACE_INDEX

    face = np.zeros(FACE_DIM, np.float32)
    face[FACE_INDEX["brow_raise_l"]] = face[FACE_INDEX["brow_raise_r"]] = 1.0
    face[FACE_INDEX["eye_close_l"]] = 1.0
    view.set_pose(raised_arm_pose(), face=face)
    expressive = view.render_image()
    view.set_pose(raised_arm_pose(), face=np.zeros(FACE_DIM, np.float32))
    report["face_changed_fraction"] = float((np.abs(expressive.astype(int) - neutral.astype(int)).sum(-1) > 30).mean())
    report["neutral_again_fraction"] = float((view.render_image() != neutral).any(-1).mean())
    vispy.io.write_png(str(Path(out_dir) / "avatar_face_brows.png"), expressive)
    vispy.io.write_png(str(Path(out_dir) / "avatar_face_open.png"), opened)
    vispy.io.write_png(str(Path(out_dir) / "avatar_default.png"), default_image)
    print(json.dumps(report))


def _wh_question_pixels(win: object, app: object, out_dir: str) -> float:
    """A wh-question preset over the sample's anchors, as a user applies it: how much of the face changes."""
    from signeditor.paths import SAMPLE_PROJECT

    win.show()
    assert win.open_file(str(SAMPLE_PROJECT))
    app.processEvents()
    doc, viewport = win.document, win.viewport
    first, last = doc.anchors[0], doc.anchors[-1]
    win.timeline.select([first.id, last.id])
    win.nonmanual_panel.preset.setCurrentText("wh-question")
    middle = (first.frame + last.frame) // 2
    win.seek(middle)
    head = viewport.avatar.joint_positions(doc.motion.features[middle])["Head"]
    viewport.view.camera.center = tuple(head + np.array([0.0, 0.06, 0.0]))
    viewport.view.camera.distance = 0.5
    before = viewport.render_image()
    win.nonmanual_panel.apply_button.click()
    app.processEvents()
    win.seek(middle)
    after = viewport.render_image()
    import vispy.io

    vispy.io.write_png(str(Path(out_dir) / "avatar_wh_question.png"), np.concatenate([before, after], axis=1))
    return float((np.abs(after.astype(int) - before.astype(int)).sum(-1) > 30).mean())


def _posed(view: object, weights: dict[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from tests.gui_helpers import raised_arm_pose

    mesh = view.avatar.posed(raised_arm_pose(), morph_weights=weights)
    return mesh.vertices, mesh.faces, mesh.normals


if __name__ == "__main__":
    main(sys.argv[1])
