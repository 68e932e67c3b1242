"""Application start-up shared by the CLI and the benchmark."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets


def application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or ["signeditor"])
    app.setOrganizationName("SignEditor")
    app.setApplicationName("SignEditor")
    return app  # type: ignore[return-value]


def launch(file: str | None, *, offer_recovery: bool = True, argv: list[str] | None = None,
           exit_when_ready: bool = False) -> int:
    """Open the main window (on ``file`` if given) and run the event loop; returns the exit code."""
    app = application(argv)
    from signeditor.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    restored = offer_recovery and window.offer_recovery()
    if file and not restored:
        if not Path(file).exists():
            QtWidgets.QMessageBox.warning(window, "File not found", f"{file} does not exist")
        else:
            window.open_file(file)
    QtCore.QTimer.singleShot(0, window.raise_)
    if exit_when_ready:
        def draw_and_quit() -> None:
            if window.viewport is not None:
                window.viewport.canvas.render()
            window.close()
            app.quit()

        QtCore.QTimer.singleShot(0, draw_and_quit)
    return app.exec()
