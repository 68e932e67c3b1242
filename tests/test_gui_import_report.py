"""Opening a keypoint file tells the user how its 3D was recovered and how plausible it is."""

from __future__ import annotations


def test_open_pose_shows_the_import_report(make_window, make_pose_file) -> None:
    window = make_window()
    path, _ = make_pose_file("flat.pose", n_frames=30, flat_depth=True)
    assert window.open_file(path)
    message = window.statusBar().currentMessage()
    assert "Imported 30 frames" in message and "depth: lifted" in message and "behind the body" in message
    window.close()


def test_a_pose_without_hands_warns_that_the_hands_are_not_captured(qtbot, make_window, make_pose_file,
                                                                    monkeypatch) -> None:
    import numpy as np
    from PySide6 import QtWidgets

    no_hands = {name: np.zeros((20, 21)) for name in ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")}
    path, _ = make_pose_file("body_only.pose", n_frames=20, confidence=no_hands)
    window = make_window()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.actions["open"].trigger()  # File > Open…
    qtbot.waitUntil(lambda: "Imported 20 frames" in window.statusBar().currentMessage(), timeout=20000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Warning: No hands in this file: both hands are not captured"), message

    one_hand = {"LEFT_HAND_LANDMARKS": np.zeros((20, 21))}
    path, _ = make_pose_file("right_only.pose", n_frames=20, confidence=one_hand)
    assert window.open_file(path)
    assert window.statusBar().currentMessage().startswith("Warning: No left hand in this file")
    path, _ = make_pose_file("both.pose", n_frames=20)
    assert window.open_file(path)
    assert "Warning" not in window.statusBar().currentMessage()
    window.close()
