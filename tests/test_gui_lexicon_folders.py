"""Lexicon folders (issue #19): a bad folder is refused on add with its reason, skipped with a warning when
already listed (drafts from the good ones still work, in the editor and the CLI), and removable and reorderable
in the lexicon manager."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from signeditor.cli import main
from signeditor.gui.draft_panel import LEXICON_FOLDERS_KEY
from signeditor.gui.lexicon_dialog import LexiconFoldersDialog

LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def bad_folders(tmp_path: Path) -> dict[str, Path]:
    """A folder without index.csv, and one whose index.csv is not a lexicon index."""
    empty = tmp_path / "no_index"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "index.csv").write_text("name,size\nfoo,1\n", encoding="utf-8")
    return {"empty": empty, "broken": broken}


def rows(dialog: LexiconFoldersDialog) -> list[str]:
    return [Path(p).name for p in dialog.folders()]


def test_manager_checks_on_add_removes_and_reorders(qtbot, fixture_lexicon: Path, bad_folders: dict[str, Path],
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    second = Path(shutil.copytree(fixture_lexicon, tmp_path / "second"))
    dialog = LexiconFoldersDialog([fixture_lexicon])
    qtbot.addWidget(dialog)
    dialog.show()
    assert "17 entries (de→sgg)" in dialog.list.item(0).text()
    chosen: list[Path] = []
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(chosen[-1]))
    for folder, reason in ((bad_folders["empty"], "has no index.csv"), (bad_folders["broken"], "header lacks")):
        chosen.append(folder)
        qtbot.mouseClick(dialog.add_button, LEFT)
        assert dialog.message.text().startswith("Not added:") and reason in dialog.message.text()
        assert rows(dialog) == ["lexicon"]
    chosen.append(second)
    qtbot.mouseClick(dialog.add_button, LEFT)
    assert rows(dialog) == ["lexicon", "second"]
    assert not dialog.down_button.isEnabled()  # the new, last row is selected
    qtbot.mouseClick(dialog.up_button, LEFT)
    assert rows(dialog) == ["second", "lexicon"]
    qtbot.mouseClick(dialog.remove_button, LEFT)
    assert rows(dialog) == ["lexicon"]
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted


def test_a_bad_folder_is_skipped_and_can_be_removed_in_the_editor(qtbot, make_draft_window, fixture_lexicon: Path,
                                                                  bad_folders: dict[str, Path]) -> None:
    window = make_draft_window([bad_folders["empty"], fixture_lexicon])
    panel = window.draft_panel
    assert "skipped" in panel.status.text() and "has no index.csv" in panel.status.text()
    assert panel.generate_button.isEnabled()
    panel.text.setPlainText("Kinder")
    with qtbot.waitSignal(panel.draft_ready, timeout=15000) as draft:
        qtbot.mouseClick(panel.generate_button, LEFT)
    assert [s.gloss for s in draft.args[0].segments] == ["KINDER"], "the good folder still makes the draft"
    assert any("skipped" in w and "no_index" in w for w in draft.args[1])

    def remove_the_bad_folder() -> None:
        dialog = QtWidgets.QApplication.activeModalWidget()
        assert "⚠" in dialog.list.item(0).text()
        dialog.list.setCurrentRow(0)
        qtbot.mouseClick(dialog.remove_button, LEFT)
        qtbot.mouseClick(dialog.ok_button, LEFT)

    QtCore.QTimer.singleShot(0, remove_the_bad_folder)
    qtbot.mouseClick(panel.folders_button, LEFT)
    assert window.settings.value(LEXICON_FOLDERS_KEY) in ([str(fixture_lexicon)], str(fixture_lexicon))
    qtbot.waitUntil(lambda: panel.status.text() == "1 language pairs in the lexicon", timeout=5000)


def test_cli_draft_skips_a_bad_lexicon_folder(fixture_lexicon: Path, bad_folders: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("signeditor.io.lexicon.bundled_lexicon_folders", lambda: [])  # else they would serve
    out = tmp_path / "draft.signproj"
    args = ["draft", "Kinder", "--spoken", "de", "--signed", "sgg", "--lexicon", str(bad_folders["broken"]),
            "--lexicon", str(fixture_lexicon), "--no-kf2p", "--cache-dir", str(tmp_path / "cache"), "-o", str(out)]
    assert main(args) == 0 and out.exists()
    assert "lexicon folder skipped" in capsys.readouterr().err
    assert main([*args[:6], "--lexicon", str(bad_folders["empty"]), *args[10:]]) == 2
    assert "no usable lexicon folder" in capsys.readouterr().err
