"""Run in a subprocess under a real X server (Xvfb): render the viewport and report pixel statistics as JSON.

The GL viewport cannot run on Qt's offscreen platform that the rest of the tests use, so the test launches
this with QT_QPA_PLATFORM=xcb and reads its report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(out_dir: str) -> None:
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["viewport-probe"])
    import vispy.io

    from signeditor.core.motion import identity_features
    from signeditor.render.viewport import Viewport
    from tests.gui_helpers import raised_arm_pose

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    viewport = Viewport(size=(320, 240))
    viewport.native.show()
    app.processEvents()
    viewport.set_pose(identity_features(1)[0])
    rest = viewport.render_image()
    background = np.array(viewport.canvas.bgcolor.rgba[:3]) * 255
    viewport.set_pose(raised_arm_pose())
    posed = viewport.render_image()
    # A click on the drawn right wrist picks it (through the canvas's own mouse events); a drag does not.
    picked: list[str] = []
    viewport.joint_pick_callbacks.append(picked.append)
    wrist = viewport.joint_screen_positions()["R_Wrist"]
    viewport.canvas.events.mouse_press(pos=tuple(wrist), button=1)
    viewport.canvas.events.mouse_release(pos=tuple(wrist), button=1)
    viewport.canvas.events.mouse_press(pos=tuple(wrist), button=1)
    viewport.canvas.events.mouse_release(pos=tuple(wrist + 40), button=1)
    x, y = (int(v) for v in np.round(wrist))
    patch = posed[max(y - 6, 0): y + 7, max(x - 6, 0): x + 7, :3].astype(float)
    viewport.set_skeleton_visible(True)
    viewport.set_ghost_poses([identity_features(1)[0]])
    viewport.set_onion_skin(True)
    overlay = viewport.render_image()
    vispy.io.write_png(str(out / "viewport_rest.png"), rest)
    vispy.io.write_png(str(out / "viewport_posed.png"), posed)
    vispy.io.write_png(str(out / "viewport_overlay.png"), overlay)

    def avatar_fraction(image: np.ndarray) -> float:
        return float((np.abs(image[..., :3].astype(float) - background).sum(-1) > 30).mean())

    report = {
        "shape": list(rest.shape),
        "rest_avatar_fraction": avatar_fraction(rest),
        "posed_avatar_fraction": avatar_fraction(posed),
        "changed_fraction": float((np.abs(posed.astype(int) - rest.astype(int)).sum(-1) > 30).mean()),
        "overlay_changed_fraction": float((np.abs(overlay.astype(int) - posed.astype(int)).sum(-1) > 30).mean()),
        "green_pixels": int(((overlay[..., 1] > 180) & (overlay[..., 0] < 100)).sum()),
        "picked": picked,
        "avatar_at_picked_wrist": float((np.abs(patch - background).sum(-1) > 30).mean()),
    }
    print(json.dumps(report))


def window(out_dir: str, project_path: str) -> None:
    """The whole window with its GL viewport: view toggles, camera presets and onion skin on a real project."""
    from PySide6 import QtCore

    from signeditor.gui.app import application
    from signeditor.gui.main_window import MainWindow
    from tests.gui_helpers import HoldRegenerate

    app = application()
    settings_path = Path(out_dir) / "probe.ini"
    settings_path.unlink(missing_ok=True)  # start from defaults (dark theme), not the last run's choices
    settings = QtCore.QSettings(str(settings_path), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(regenerate=HoldRegenerate(), settings=settings, confirm_close=False)
    win.show()
    assert win.open_file(project_path)
    app.processEvents()
    doc = win.document
    anchor = doc.anchors[len(doc.anchors) // 2]
    win.seek(anchor.frame + 1)
    win.timeline.select([anchor.id])
    images = {}
    for name in ("front", "side", "signer", "three_quarter"):
        win.camera_actions[name].trigger()
        images[name] = win.viewport.render_image()
    plain = win.viewport.render_image()
    # Clicking the left elbow in the viewport selects it in the inspector, and the viewport marks it (yellow).
    elbow = tuple(win.viewport.joint_screen_positions()["L_Elbow"])
    win.viewport.canvas.events.mouse_press(pos=elbow, button=1)
    win.viewport.canvas.events.mouse_release(pos=elbow, button=1)
    marked = win.viewport.render_image()

    def yellow(image: np.ndarray) -> int:
        """Marker-coloured pixels around the elbow."""
        x, y = (int(v) for v in np.round(elbow))
        near = image[max(y - 10, 0): y + 11, max(x - 10, 0): x + 11]
        return int(((near[..., 0] > 200) & (near[..., 1] > 160) & (near[..., 2] < 80)).sum())

    win.actions["onion"].setChecked(True)
    win.actions["skeleton"].setChecked(True)
    onion = win.viewport.render_image()
    win.actions["dark"].setChecked(False)
    light = win.viewport.render_image()
    import vispy.io

    vispy.io.write_png(str(Path(out_dir) / "window_onion.png"), onion)
    win.grab().save(str(Path(out_dir) / "window.png"))
    differs = {n: float((images[n] != images["front"]).any(-1).mean()) for n in images}
    report = {
        "camera_differs": differs,
        "onion_changed": float((onion != plain).any(-1).mean()),
        "light_changed": float((light != onion).any(-1).mean()),
        "ghosts_visible": sum(g.visible for g in win.viewport.ghosts),
        "inspector_joint_after_pick": win.inspector.joint,
        "marker_pixels_added": yellow(marked) - yellow(plain),
    }
    win.close()
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) > 2:
        window(sys.argv[1], sys.argv[2])
    else:
        main(sys.argv[1])
