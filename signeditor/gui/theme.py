"""The editor's look: Fusion style with a dark or light palette, disabled widgets visibly greyed."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets


def apply_theme(theme: str) -> None:
    """Fusion style with a dark or light palette, applied app-wide."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    app.setStyle("Fusion")
    if theme != "dark":
        app.setPalette(QtGui.QPalette(QtGui.QColor("#e4e4e8"), QtGui.QColor("#f2f2f4")))
        return
    palette = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    colors = {
        role.Window: "#2b2b30", role.WindowText: "#e6e6e6", role.Base: "#1f1f23", role.AlternateBase: "#2b2b30",
        role.ToolTipBase: "#e6e6e6", role.ToolTipText: "#1f1f23", role.Text: "#e6e6e6", role.Button: "#35353b",
        role.ButtonText: "#e6e6e6", role.Highlight: "#3d7dd8", role.HighlightedText: "#ffffff",
    }
    for r, color in colors.items():
        palette.setColor(r, QtGui.QColor(color))
    # Disabled widgets (e.g. the inspector's sliders with no anchor selected) must look disabled.
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for r, color in {role.WindowText: "#77777d", role.Text: "#77777d", role.ButtonText: "#77777d",
                     role.Button: "#2e2e33", role.Highlight: "#4a4a52", role.Base: "#28282c"}.items():
        palette.setColor(disabled, r, QtGui.QColor(color))
    app.setPalette(palette)
