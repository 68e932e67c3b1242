"""The human avatar in the real window (GL under Xvfb, in a subprocess): default, View > Avatar, face pixels."""

from __future__ import annotations

import json

import pytest

from tests.test_render_viewport import OUTPUT, _display_env, _run


def test_window_shows_the_shipped_avatar_and_remembers_the_choice():
    env = _display_env()
    if env is None:
        pytest.skip("no X display (install Xvfb so pytest-xvfb starts one)")
    result = _run(["-m", "tests.avatar_probe", str(OUTPUT)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["placeholder"] == "Avatar" and report["placeholder_fraction"] > 0.01, \
        "the window shows the mannequin at once while the avatar loads"
    assert report["default_avatar"] == "Hispanic_F_2_Busi", "a new user sees the shipped human avatar"
    assert 0.03 < report["default_fraction"] < 0.9
    assert {"&Mannequin", "Hispanic F 2 Busi", "Black F 1 Busi", "Avatar &file (.vrm, .glb)…"} <= set(report["menu"])
    assert report["after_mannequin"] == "Avatar" and report["mannequin_differs"] > 0.02
    assert report["remembered"] == "mannequin"
    assert report["after_pick"] == "Black_F_1_Busi" and report["restored"] == "Black_F_1_Busi"
    assert report["morph_changed_fraction"] > 0.002, "opening the mouth morph changes the face's pixels"
    assert report["face_changed_fraction"] > 0.002, "raised brows and a closed eye (face channel) change the face"
    assert report["neutral_again_fraction"] == 0.0, "a neutral face draws the neutral picture again"
    assert report["wh_question_changed_fraction"] > 0.002, "a wh-question preset furrows the brows on screen"
