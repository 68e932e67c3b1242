"""Run inside a real `signeditor gui --script` process by the crash-recovery test (never by pytest directly).

Mode "edit" (env RECOVERY_MODE): insert a labelled anchor every 100 ms and,
after each autosave, append the labels it saved to RECOVERY_LOG; the test
SIGKILLs the process mid-session. Mode "report": write the recovered
document's anchor labels to RECOVERY_LOG as JSON and quit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def drive(window: object) -> None:
    from PySide6 import QtCore, QtWidgets

    from signeditor.gui import commands

    log = Path(os.environ["RECOVERY_LOG"])
    if os.environ.get("RECOVERY_MODE") == "report":
        labels = sorted(a.label for a in window.document.anchors if a.label.startswith("edit"))
        log.write_text(json.dumps({"labels": labels, "modified": window.document.is_modified()}))
        window.confirm_close = False
        QtWidgets.QApplication.instance().quit()
        return
    made: list[str] = []
    original_autosave = window.autosave

    def autosave_and_log() -> object:
        saved = list(made)
        path = original_autosave()
        if path is not None:
            with log.open("a") as handle:
                handle.write(json.dumps(saved) + "\n")
        return path

    window.autosave_timer.timeout.disconnect()
    window.autosave_timer.timeout.connect(autosave_and_log)

    def edit() -> None:
        label = f"edit{len(made)}"
        frame = (7 * len(made)) % window.document.n_frames
        window.push(commands.insert_anchor(window.document, frame, label=label))
        made.append(label)

    timer = QtCore.QTimer(window)
    timer.timeout.connect(edit)
    timer.start(100)
    window._recovery_edit_timer = timer
