"""The "Draft from text" dock driven like a user would, with a self-made lexicon and fast stand-in models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore

from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.gui.main_window import MainWindow
from signeditor.gui.worker_thread import collection_is_paused


@pytest.fixture
def window(make_draft_window, fixture_lexicon: Path) -> MainWindow:
    return make_draft_window([fixture_lexicon])


def test_generate_opens_a_glossed_draft_and_plays_it(qtbot, window: MainWindow) -> None:
    panel = window.draft_panel
    assert [panel.spoken.itemText(i) for i in range(panel.spoken.count())] == ["German (de)"]
    assert panel.signed.currentText() == "Swiss-German Sign Language (DSGS) (sgg)"
    assert panel.languages() == ("de", "sgg")
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
    # The worker pauses Python's garbage collector while it runs; the GUI thread must lift the pause.
    qtbot.waitUntil(lambda: not collection_is_paused(), timeout=2000)


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


def generate(qtbot, window: MainWindow, text: str) -> Project:
    """Type ``text`` as a user would and click Generate; the draft the window shows."""
    panel = window.draft_panel
    panel.text.clear()
    qtbot.keyClicks(panel.text, text)
    with qtbot.waitSignal(panel.draft_ready, timeout=15000):
        qtbot.mouseClick(panel.generate_button, QtCore.Qt.MouseButton.LeftButton)
    return window.document.project


def test_generate_is_disabled_and_says_why_without_a_lexicon(qtbot, make_draft_window, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./lexicon to fall back on
    panel = make_draft_window([], wait_for_languages=False).draft_panel
    qtbot.waitUntil(lambda: "No lexicon" in panel.status.text(), timeout=5000)
    assert not panel.generate_button.isEnabled()
    assert "Lexicon folders" in panel.generate_button.toolTip()


def test_a_new_draft_over_an_edited_one_is_one_undoable_step(qtbot, make_draft_window,
                                                             fixture_lexicon: Path) -> None:
    """No "save changes?" question (confirm_close is on: a question would fail the test); Undo brings the edits back."""
    window = make_draft_window([fixture_lexicon], confirm_close=True)
    generate(qtbot, window, "Kinder essen")
    window.toggle_playback()  # the new draft plays; stop it to edit
    window.seek(3)
    window.actions["insert"].trigger()  # the translator edits the draft
    edited = len(window.document.anchors)
    assert window.document.is_modified()
    assert [s.gloss for s in generate(qtbot, window, "Pizza").segments] == ["PIZZA"]
    assert window.timeline._n_frames == window.document.n_frames
    assert window.document.undo_stack.undoText() == "New draft “Pizza”"
    window.undo_action.trigger()
    assert [s.gloss for s in window.document.project.segments] == ["KINDER", "ESSEN"]
    assert len(window.document.anchors) == edited, "the edited draft comes back with its edit"
    window.redo_action.trigger()
    assert [s.gloss for s in window.document.project.segments] == ["PIZZA"]
    window.confirm_close = False  # closing at teardown may drop the unsaved draft


def test_a_reopened_draft_puts_its_text_and_languages_back(qtbot, window: MainWindow, tmp_path: Path) -> None:
    generate(qtbot, window, "Kinder essen")
    assert window.save_to(tmp_path / "draft.signproj")
    window.set_project(Project(Motion.rest(40)))
    window.draft_panel.text.setPlainText("something else")
    assert window.open_file(tmp_path / "draft.signproj")
    assert window.draft_panel.text.toPlainText() == "Kinder essen"
    assert window.draft_panel.languages() == ("de", "sgg")


def letters_per_second(project: Project) -> float:
    starts = [s.start for s in project.segments if s.gloss.startswith("fs-")]
    return (len(starts) - 1) / (starts[-1] - starts[0]) * project.motion.fps


def test_fingerspelling_runs_at_the_set_pace(qtbot, window: MainWindow) -> None:
    """"Rosen" is not in the lexicon: five letters, at a natural pace by default and at the pace the user sets."""
    project = generate(qtbot, window, "Rosen")
    assert [s.gloss for s in project.segments] == ["fs-R", "fs-O", "fs-S", "fs-E", "fs-N"]
    assert 2.5 <= letters_per_second(project) <= 4.0
    spin = window.draft_panel.letters_per_second
    spin.selectAll()
    qtbot.keyClicks(spin, "1.5")
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Enter)
    assert spin.value() == 1.5
    assert letters_per_second(generate(qtbot, window, "Rosen")) == pytest.approx(1.5, rel=0.15)
    assert float(window.settings.value("drafts/letters_per_second")) == 1.5


def test_fresh_install_drafts_hallo_in_dgs_from_the_bundled_alphabet(qtbot, make_window) -> None:
    """No lexicon folder set: spoken-to-signed's fingerspelling alphabets are there, so "Hallo" in DGS plays."""
    from draft_helpers import MiddleSegmenter

    from signeditor.drafts.clips import ClipLibrary
    from signeditor.drafts.pipeline import DraftBuilder
    from signeditor.io.lexicon import read_lexicons

    win = make_window()
    panel = win.draft_panel
    panel.worker.factory = lambda folders: DraftBuilder(read_lexicons(folders), ClipLibrary(MiddleSegmenter()), None)
    win.docks["draft"].raise_()
    qtbot.waitUntil(lambda: panel.spoken.count() > 0, timeout=10000)
    panel.spoken.setCurrentIndex(panel.spoken.findData("de"))
    panel.signed.setCurrentIndex(panel.signed.findData("gsg"))
    qtbot.keyClicks(panel.text, "Hallo")
    with qtbot.waitSignal(panel.draft_ready, timeout=60000):
        qtbot.mouseClick(panel.generate_button, QtCore.Qt.MouseButton.LeftButton)
    assert [s.gloss for s in win.document.project.segments] == ["fs-H", "fs-A", "fs-L", "fs-L", "fs-O"]
    assert win.play_timer.isActive()


def test_nonmanuals_switch_marks_a_question(qtbot, window: MainWindow) -> None:
    """The panel's switch does what `signeditor draft --nonmanuals` does: a question gets its brows; off, none."""
    panel = window.draft_panel
    assert panel.nonmanuals.isChecked()
    asked = generate(qtbot, window, "Essen Kinder Pizza?")
    brows = {k.lane for k in asked.face_keys}
    assert "Brows" in brows and asked.face_at(asked.segments[1].start).max() > 0.5
    box = panel.nonmanuals
    qtbot.mouseClick(box, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(8, box.height() // 2))  # its box
    assert not panel.nonmanuals.isChecked()
    assert generate(qtbot, window, "Essen Kinder Pizza?").face_keys == ()
    assert str(panel.settings.value("drafts/nonmanuals")) == "false"
