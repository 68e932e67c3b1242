"""Application start-up shared by the CLI and the benchmark."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

#: What ``--exit-when-ready`` prints, with the wall-clock time, when the first frame is drawn and closing begins.
READY_MARK = "signeditor-ready-at"
#: Set to restore autosaved edits without asking (the crash-recovery test drives a real app this way).
AUTO_RECOVER_ENV = "SIGNEDITOR_AUTO_RECOVER"


def application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or ["signeditor"])
    app.setOrganizationName("SignEditor")
    app.setApplicationName("SignEditor")
    return app  # type: ignore[return-value]


#: Qt platforms whose QOpenGLWidget never gets a context.
WIDGETLESS_GL_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "linuxfb"})


def opengl_problem() -> str | None:
    """Why the 3D viewport cannot draw here (no OpenGL context), or None when it can.

    Qt's offscreen platform (and a broken GL driver) give the GL widget no
    context; vispy then fails on every paint and the event loop never gets to
    "ready". Probing first lets the editor open without the viewport instead.
    """
    platform = QtGui.QGuiApplication.platformName()
    if platform in WIDGETLESS_GL_PLATFORMS:  # may give a bare context (GLX beside an X display), never a GL widget
        return f"no OpenGL widgets on the Qt platform {platform!r}"
    context = QtGui.QOpenGLContext()
    surface = QtGui.QOffscreenSurface()
    surface.create()
    try:
        if not context.create() or not context.makeCurrent(surface):
            return f"no OpenGL context on the Qt platform {platform!r}"
        context.doneCurrent()
    finally:
        surface.destroy()
    return None


def launch(file: str | None, *, offer_recovery: bool = True, argv: list[str] | None = None,
           exit_when_ready: bool = False, autosave_seconds: float | None = None, script: str | None = None) -> int:
    """Open the main window (on ``file`` if given) and run the event loop; returns the exit code.

    ``script`` is a test hook: a Python file whose ``drive(window)`` runs once the window is open.
    """
    owns_process = QtWidgets.QApplication.instance() is None  # the editor is this process's program
    app = application(argv)
    from signeditor.gui.main_window import MainWindow

    problem = opengl_problem()
    if problem:
        print(f"SignEditor: {problem}; the 3D viewport is disabled (run on a desktop, or under xvfb-run)",
              file=sys.stderr)
    window = MainWindow(with_viewport=problem is None)
    if problem:
        window.statusBar().showMessage(f"3D viewport disabled: {problem}")
    if autosave_seconds is not None:
        window.autosave_timer.setInterval(max(1, round(autosave_seconds * 1000)))
    window.show()
    restored = offer_recovery and window.offer_recovery(ask=not os.environ.get(AUTO_RECOVER_ENV))
    if file and not restored:
        if not Path(file).exists():
            QtWidgets.QMessageBox.warning(window, "File not found", f"{file} does not exist")
        else:
            window.open_file(file)
    QtCore.QTimer.singleShot(0, window.raise_)
    if script:
        import runpy

        namespace = runpy.run_path(script)
        QtCore.QTimer.singleShot(0, lambda: namespace["drive"](window))
    if exit_when_ready:
        def draw_and_quit() -> None:
            code = 0
            try:
                if window.viewport is not None:
                    window.viewport.canvas.render()
            except Exception as exc:  # a GL failure must end the run with a message, not hang it
                print(f"SignEditor: drawing the first frame failed ({type(exc).__name__}: {exc})", file=sys.stderr)
                code = 1
            # Wall-clock times for the start-up benchmark: the first frame is drawn, closing begins.
            print(f"{READY_MARK} {time.time():.6f}", flush=True)
            window.close()
            app.exit(code)

        QtCore.QTimer.singleShot(0, draw_and_quit)
    code = app.exec()
    if owns_process:
        window.settings.sync()  # also when the application quit without the window closing
        end_process(code)
    return code


def end_process(code: int) -> None:
    """End the process at once after the window has closed.

    By then everything is saved: the project (only when the user saved), settings synced, the recovery file
    removed, every worker thread joined. What is left is the interpreter tearing down thousands of modules
    (torch, vispy, Qt), which took seconds after the window was gone (issue #23: quit took 3 s). Exit handlers
    still run (temporary files, logging); only that teardown is skipped.
    """
    import atexit
    import logging

    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
