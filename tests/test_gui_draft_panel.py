"""The "Draft from text" dock driven like a user would, with a self-made lexicon and fast stand-in models."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import pytest
from draft_helpers import MiddleSegmenter, write_fixture_lexicon
from gui_helpers import HoldRegenerate
from PySide6 import QtCore

from signeditor.drafts.clips import ClipLibrary
from signeditor.drafts.pipeline import DraftBuilder
from signeditor.gui.draft_panel import LEXICON_FOLDERS_KEY
from signeditor.gui.main_window import MainWindow
from signeditor.io.lexicon import read_lexicons


def fixture_builder(folders: Sequence[Path]) -> DraftBuilder:
    return DraftBuilder(read_lexicons(folders), ClipLibrary(MiddleSegmenter()), None)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    lexicon = write_fixture_lexicon(tmp_path / "lexicon")
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue(LEXICON_FOLDERS_KEY, [str(lexicon)])
    win = MainWindow(regenerate=HoldRegenerate(), settings=settings, with_viewport=False, confirm_close=False)
    win.draft_panel.worker.factory = fixture_builder
    qtbot.addWidget(win)
    win.show()
    win.docks["draft"].raise_()  # tabbed behind the history: bring it to the front, as a user would
    qtbot.waitUntil(lambda: win.draft_panel.spoken.count() > 0, timeout=5000)
    return win


def test_generate_opens_a_glossed_draft_and_plays_it(qtbot, window: MainWindow) -> None:
    panel = window.draft_panel
    assert [panel.spoken.itemText(i) for i in range(panel.spoken.count())] == ["de"]
    assert panel.signed.currentText() == "sgg"
    qtbot.keyClicks(panel.text, "Kinder essen Pizza!")
    with qtbot.waitSignal(panel.draft_ready, timeout=15000):
        qtbot.mouseClick(panel.generate_button, QtCore.Qt.MouseButton.LeftButton)
    assert panel.status.text().startswith("3 signs"), panel.status.text()
    project = window.document.project
    assert [s.gloss for s in project.segments] == ["KINDER", "ESSEN", "PIZZA"]
    assert {a.label.split()[0] for a in project.anchors} == {"KINDER", "ESSEN", "PIZZA"}
    assert project.text == "Kinder essen Pizza!" and project.signed_language == "sgg"
    assert window.play_timer.isActive()  # the preview plays as soon as it is ready
    assert panel.progress_bar.value() == panel.progress_bar.maximum()
    # The worker pauses Python's garbage collector while it runs; the GUI thread must switch it back on.
    qtbot.waitUntil(gc.isenabled, timeout=2000)


def test_only_the_newest_request_is_shown(qtbot, window: MainWindow) -> None:
    panel = window.draft_panel
    shown: list[str] = []
    panel.draft_ready.connect(lambda project, _w: shown.append(project.text))
    panel.text.setPlainText("Kinder")
    panel.generate()
    panel.text.setPlainText("Pizza essen")
    newest = panel.generate()
    qtbot.waitUntil(lambda: panel.applied_generation == newest, timeout=15000)
    qtbot.wait(200)  # let a late answer to the first request arrive, if any
    assert shown == ["Pizza essen"]
    assert [s.gloss for s in window.document.project.segments] == ["PIZZA", "ESSEN"]


def test_problems_are_shown_not_raised(qtbot, window: MainWindow) -> None:
    panel = window.draft_panel
    before = window.document.project
    panel.text.setPlainText(" ?! ")
    panel.generate()
    qtbot.waitUntil(lambda: "no words" in panel.status.text(), timeout=15000)
    panel.text.setPlainText("Kinder Fuchs")
    with qtbot.waitSignal(panel.draft_ready, timeout=15000) as blocker:
        panel.generate()
    assert blocker.args[0].segments[-1].gloss == "?Fuchs"
    assert "Fuchs" in panel.status.text()
    assert window.document.project is not before
