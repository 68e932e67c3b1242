"""Opening a keypoint file tells the user how its 3D was recovered and how plausible it is."""

from __future__ import annotations


def test_open_pose_shows_the_import_report(make_window, make_pose_file) -> None:
    window = make_window()
    path, _ = make_pose_file("flat.pose", n_frames=30, flat_depth=True)
    assert window.open_file(path)
    message = window.statusBar().currentMessage()
    assert "Imported 30 frames" in message and "depth: lifted" in message and "behind the body" in message
    window.close()
