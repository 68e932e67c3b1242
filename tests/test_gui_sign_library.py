"""The Sign library as a translator uses it (issue #23): searching words and glosses, language names, empty
results that say why, a folder of signs imported as a lexicon in one step, and saving a sign to a chosen folder
without losing the list's selection. Real widgets, real clicks and keys; the written index read back."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from draft_helpers import MiddleSegmenter, sign_motion, write_fixture_lexicon
from gui_helpers import send_mouse, view_point
from PySide6 import QtCore, QtWidgets
from test_sign_edits import three_signs

from signeditor.core.project import Project
from signeditor.drafts.clips import ClipLibrary
from signeditor.gui.draft_panel import LEXICON_FOLDERS_KEY
from signeditor.io.lexicon import read_lexicon
from signeditor.io.pose_export import write_pose

LEFT = QtCore.Qt.MouseButton.LeftButton


def library_window(qtbot, make_window, tmp_path: Path, folders: list[Path], signed: str = "gsg") -> object:
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue(LEXICON_FOLDERS_KEY, [str(f) for f in folders])
    settings.sync()
    state = three_signs()
    win = make_window(Project(state.motion, state.anchors, list(state.segments), spoken_language="de",
                              signed_language=signed))
    win.sign_editing.library.worker.factory = lambda: ClipLibrary(MiddleSegmenter())
    win.resize(1200, 800)
    win.docks["library"].raise_()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def no_bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the lexicons a test sets up: no bundled alphabets, no development lexicon of this checkout."""
    monkeypatch.setattr("signeditor.io.lexicon.bundled_lexicon_folders", lambda: [])
    monkeypatch.setattr("signeditor.gui.draft_panel.development_lexicon_folder", lambda: None)


def letters_only_lexicon(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rows = ["path,spoken_language,signed_language,start,end,words,glosses,priority"]
    for k, letter in enumerate("ABC"):
        write_pose(sign_motion(200 + k, n_frames=20), folder / f"{letter}.pose")
        rows.append(f"{letter}.pose,en,ase,0,0,{letter},{letter},0")
    (folder / "index.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def type_search(qtbot, library: object, text: str) -> None:
    library.search.selectAll()
    qtbot.keyClick(library.search, QtCore.Qt.Key.Key_Delete)
    qtbot.keyClicks(library.search, text)


def choose_language(qtbot, combo: QtWidgets.QComboBox, name: str) -> None:
    """Open the drop-down and click the row showing ``name``, as a user would."""
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    row = next(r for r in range(combo.count()) if combo.itemText(r) == name)
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), LEFT, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)


def test_search_names_languages_counts_the_filter_and_says_why_nothing_is_found(
        qtbot, make_window, tmp_path: Path, no_bundled: None) -> None:
    letters = letters_only_lexicon(tmp_path / "alphabet")
    win = library_window(qtbot, make_window, tmp_path, [letters])
    library = win.sign_editing.library
    qtbot.waitUntil(lambda: len(library.entries) == 3, timeout=5000)
    type_search(qtbot, library, "house")
    assert library.visible_rows() == []
    assert "only fingerspelling" in library.status.text() and "Import folder" in library.status.text()

    win.draft_panel.set_folders([write_fixture_lexicon(tmp_path / "signs"), letters])
    library.reload()
    qtbot.waitUntil(lambda: len(library.entries) == 3 + 17, timeout=5000)
    names = [library.language.itemText(i) for i in range(library.language.count())]
    assert names == ["all signed languages", "American Sign Language", "Swiss-German Sign Language (DSGS)"], \
        "languages by name, not ISO code"
    assert library.table.item(library.visible_rows()[0] if library.visible_rows() else 0, 3).text() != "sgg"

    type_search(qtbot, library, "pizza")
    assert [library.entries[r].glosses for r in library.visible_rows()] == ["PIZZA", "PIZZA2"]
    assert library.status.text() == "2 of 20 signs", "the count reflects the filter"
    choose_language(qtbot, library.language, "American Sign Language")
    assert library.visible_rows() == []
    assert library.status.text() == ("No sign for 'pizza' in American Sign Language; 2 in other languages "
                                     "(Swiss-German Sign Language (DSGS) 2)")
    type_search(qtbot, library, "a")
    assert library.status.text() == "1 of 20 signs"
    choose_language(qtbot, library.language, "all signed languages")
    type_search(qtbot, library, "swiss")
    assert len(library.visible_rows()) == 17, "a language's name finds its signs"
    type_search(qtbot, library, "hallo")
    assert library.status.text() == "No sign for 'hallo' in any of the 2 lexicons (20 signs)"


def make_sign_folder(folder: Path) -> Path:
    """Three sign clips named as an organisation would, a damaged video and a text file that is no sign."""
    folder.mkdir(parents=True)
    write_pose(sign_motion(1), folder / "haus.pose")
    write_pose(sign_motion(2), folder / "guten_tag.pose")
    write_pose(sign_motion(3), folder / "HOUSE1A^.pose")
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    (folder / "notes.txt").write_text("not a sign", encoding="utf-8")
    return folder


def accept_languages_dialog(qtbot, signed_name: str) -> list[str]:
    """When the languages dialog opens: pick the signed language by typing its name, press Import."""
    seen: list[str] = []

    def answer() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        if dialog is None:
            QtCore.QTimer.singleShot(20, answer)
            return
        seen.append(dialog.windowTitle())
        combo = dialog.signed
        combo.lineEdit().selectAll()
        qtbot.keyClicks(combo.lineEdit(), signed_name)
        ok = dialog.findChild(QtWidgets.QDialogButtonBox).buttons()[0]
        qtbot.mouseClick(ok, LEFT)

    QtCore.QTimer.singleShot(0, answer)
    return seen


def test_import_a_folder_of_signs_as_a_lexicon_in_one_step(qtbot, make_window, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, no_bundled: None) -> None:
    folder = make_sign_folder(tmp_path / "our signs")
    win = library_window(qtbot, make_window, tmp_path, [])
    library = win.sign_editing.library
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    seen = accept_languages_dialog(qtbot, "German Sign Language (DGS)")
    qtbot.mouseClick(library.import_button, LEFT)
    assert seen == ["Import folder as lexicon"]
    qtbot.waitUntil(lambda: not win.sign_editing.folder_import.controller.busy, timeout=20000)
    assert (folder / "index.csv").is_file(), win.sign_editing.folder_import.controller.last_message
    qtbot.waitUntil(lambda: len(library.entries) == 3, timeout=5000)

    rows = read_lexicon(folder).entries
    assert sorted((e.path.name, e.words, e.glosses, e.spoken_language, e.signed_language) for e in rows) == [
        ("HOUSE1A^.pose", "house", "HOUSE1A^", "de", "gsg"),
        ("guten_tag.pose", "guten tag", "GUTEN-TAG", "de", "gsg"),
        ("haus.pose", "haus", "HAUS", "de", "gsg"),
    ], "one row per sign, named by its file"
    message = win.statusBar().currentMessage()
    assert "3 signs" in message and "broken.mp4" in message, "the damaged video is named, the rest imported"
    assert not (folder / "broken.pose").exists()
    assert not win.sign_editing.folder_import.controller.busy
    type_search(qtbot, library, "house")
    assert [library.entries[r].glosses for r in library.visible_rows()] == ["HOUSE1A^"]
    assert library.language.findText("German Sign Language (DGS)") >= 0
    assert win.draft_panel.folders()[0] == folder, "drafts read the new lexicon too"


class SlowDetector:
    """Finds nobody, slowly: a video import that is still running when the user presses Cancel."""

    def __init__(self, width: int, height: int) -> None:
        from signeditor.video.holistic import holistic_header

        self.n_points = holistic_header(width, height).total_points()

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(0.05)
        return np.zeros((self.n_points, 3)), np.zeros(self.n_points)

    def close(self) -> None:
        pass


def test_cancel_a_folder_import_leaves_the_folder_as_it_was(qtbot, make_window, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch, no_bundled: None) -> None:
    pytest.importorskip("mediapipe", reason="the holistic layout comes from pose-format's MediaPipe module")
    from conftest import numbered_frames, write_frames_mp4

    folder = tmp_path / "videos"
    folder.mkdir()
    write_frames_mp4(folder / "winken.mp4", numbered_frames(30) * 4)
    win = library_window(qtbot, make_window, tmp_path, [])
    importer = win.sign_editing.folder_import
    importer.controller.detector_factory = SlowDetector
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    accept_languages_dialog(qtbot, "gsg")
    win.sign_editing.actions["import_folder"].trigger()  # Sign > Import folder as lexicon…
    qtbot.waitUntil(lambda: importer.controller.dialog is not None
                    and "winken.mp4" in importer.controller.dialog.labelText(), timeout=10000)
    cancel = importer.controller.dialog.findChild(QtWidgets.QPushButton)
    qtbot.mouseClick(cancel, LEFT)
    qtbot.waitUntil(lambda: not importer.controller.busy, timeout=10000)
    assert "cancelled" in importer.controller.last_message
    assert sorted(p.name for p in folder.iterdir()) == ["winken.mp4"], "no index, no keypoint file left behind"


def test_save_sign_asks_for_the_folder_and_keeps_the_list_selection(qtbot, make_window, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    no_bundled: None) -> None:
    win = library_window(qtbot, make_window, tmp_path, [write_fixture_lexicon(tmp_path / "signs")])
    library = win.sign_editing.library
    qtbot.waitUntil(lambda: len(library.entries) == 17, timeout=5000)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    type_search(qtbot, library, "essen")
    row = library.visible_rows()[0]
    rect = library.table.visualItemRect(library.table.item(row, 0))
    qtbot.mouseClick(library.table.viewport(), LEFT, pos=rect.center())
    chosen = library.current_entry()
    assert chosen is not None and chosen.glosses == "ESSEN"
    type_search(qtbot, library, "")

    point = view_point(win.timeline, win.timeline.signs.sign_scene_pos(1, "middle"))
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(win.timeline.viewport(), kind, point)
    team = tmp_path / "team lexicon"

    def fill() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        if dialog is None:
            QtCore.QTimer.singleShot(20, fill)
            return
        dialog.folder.lineEdit().selectAll()
        qtbot.keyClicks(dialog.folder.lineEdit(), str(team))
        dialog.fields["glosses"].selectAll()
        qtbot.keyClicks(dialog.fields["glosses"], "TISCH")
        qtbot.keyClick(dialog.fields["glosses"], QtCore.Qt.Key.Key_Return)  # the default button: Save

    QtCore.QTimer.singleShot(0, fill)
    win.sign_editing.actions["save"].trigger()
    assert [e.glosses for e in read_lexicon(team).entries] == ["TISCH"], "saved to the folder chosen in the dialog"
    qtbot.waitUntil(lambda: len(library.entries) == 18, timeout=5000)
    assert library.current_entry() == chosen, "the list keeps the selected sign although rows moved"
    assert library.table.selectionModel().selectedRows()[0].row() != row


def test_command_line_makes_the_same_lexicon_of_a_folder(tmp_path: Path, capsys) -> None:
    from signeditor.cli import main

    folder = make_sign_folder(tmp_path / "signs")
    assert main(["data", "sign-folder", str(folder), "--spoken", "de", "--signed", "gsg"]) == 0
    assert sorted(e.glosses for e in read_lexicon(folder).entries) == ["GUTEN-TAG", "HAUS", "HOUSE1A^"]
    out = capsys.readouterr().out
    assert "3 signs" in out and "broken.mp4" in out
    assert main(["data", "sign-folder", str(tmp_path / "missing"), "--spoken", "de", "--signed", "gsg"]) == 2


def test_the_library_answers_for_the_projects_signed_language_first(qtbot, make_window, tmp_path: Path,
                                                                      no_bundled: None) -> None:
    folders = [write_fixture_lexicon(tmp_path / "signs"), letters_only_lexicon(tmp_path / "alphabet")]
    win = library_window(qtbot, make_window, tmp_path, folders, signed="ase")
    library = win.sign_editing.library
    qtbot.waitUntil(lambda: len(library.entries) == 20, timeout=5000)
    assert library.language.currentText() == "American Sign Language", "the project signs ASL"
    assert library.status.text() == "3 of 20 signs"
    type_search(qtbot, library, "pizza")
    assert library.status.text() == ("No sign for 'pizza' in American Sign Language; 2 in other languages "
                                     "(Swiss-German Sign Language (DSGS) 2)")
    choose_language(qtbot, library.language, "all signed languages")
    library.reload()  # reading the lexicons again keeps the user's own choice
    qtbot.waitUntil(lambda: library.status.text() == "2 of 20 signs", timeout=5000)
    assert library.language.currentText() == "all signed languages"
