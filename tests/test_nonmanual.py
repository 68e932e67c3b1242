"""Non-manual lanes (Brows, Eyes, Mouth): keys, presets, project storage and the dock driven with real events."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from gui_helpers import drag, send_mouse, small_project, view_point
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PySide6 import QtCore
from scipy.interpolate import PchipInterpolator

from signeditor.core.face import FACE_DIM, FACE_INDEX
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import (
    HEAD_FULL_TURN,
    LANES,
    PRESETS,
    FaceKey,
    face_with_keys,
    head_turns,
    keys_replacing_span,
    lane_values,
    nonmanual_spans,
    place_preset,
    preset_keys,
)
from signeditor.core.project import Project
from signeditor.gui.nonmanual_panel import LANE_Y
from signeditor.io.project_file import project_from_bytes, project_to_bytes


def _at(keys, frame: int, name: str, face: np.ndarray | None = None, n: int = 60) -> float:
    return float(face_with_keys(face, keys, n)[frame, FACE_INDEX[name]])


def test_wh_question_furrows_the_brows_over_its_span_only():
    keys = preset_keys("wh-question", 10, 40)
    assert _at(keys, 25, "brow_furrow_l") == pytest.approx(0.85) and _at(keys, 25, "squint_r") > 0.3
    fitted = np.full((60, FACE_DIM), 0.2, np.float32)
    assert _at(keys, 5, "brow_furrow_l", fitted) == pytest.approx(0.2), "outside the span the fitted face shows"
    assert _at(keys, 10, "brow_furrow_l", fitted) == 0.0 and _at(keys, 12, "brow_furrow_l") > 0.1
    assert _at(keys, 25, "mouth_open", fitted) == pytest.approx(0.2), "lanes without keys keep the fitted face"


def test_a_preset_replaces_its_lanes_keys_inside_the_span_and_keeps_the_rest():
    old = (FaceKey(20, "Brows", lane_values("Brows", brow_raise_l=1.0)),
           FaceKey(50, "Brows", lane_values("Brows", brow_raise_r=1.0)),
           FaceKey(25, "Mouth", lane_values("Mouth", mouth_open=1.0)))
    new = preset_keys("yes/no question", 10, 40)
    keys = keys_replacing_span(old, new, 10, 40)
    assert old[0] not in keys and old[1] in keys and old[2] in keys
    assert sorted(k.frame for k in keys if k.lane == "Brows") == [10, 14, 36, 40, 50]


def test_mouthing_a_word_places_one_viseme_per_letter():
    keys = preset_keys("mouthing", 0, 50, word="Mama")
    assert len(keys) == 6 and {k.lane for k in keys} == {"Mouth"}
    face = face_with_keys(None, keys, 51)
    letters = sorted(keys, key=lambda k: k.frame)[1:-1]
    assert {k.label for k in keys} == {"mouthing Mama"}
    assert face[letters[0].frame, FACE_INDEX["viseme_mbp"]] == pytest.approx(0.9)
    assert face[letters[1].frame, FACE_INDEX["viseme_aa"]] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="word"):
        preset_keys("mouthing", 0, 50)


def test_face_keys_are_saved_in_the_project():
    project = Project(Motion.rest(60), face_keys=tuple(preset_keys("negation", 5, 30)))
    back = project_from_bytes(project_to_bytes(project))
    assert [(k.frame, k.lane) for k in back.face_keys] == [(k.frame, k.lane) for k in project.face_keys]
    assert np.allclose(back.face_at(17), project.face_at(17)) and back.face_at(17)[FACE_INDEX["frown_l"]] > 0.5


@pytest.fixture
def window(qtbot, make_window):
    win = make_window(small_project()[0])
    win.resize(1100, 800)
    win.docks["nonmanual"].raise_()
    qtbot.waitExposed(win)
    qtbot.wait(30)
    yield win
    win.close()


def _lane_point(panel, frame: float, lane: str) -> QtCore.QPointF:
    scene = panel.plot.getViewBox().mapViewToScene(QtCore.QPointF(frame, LANE_Y[lane]))
    return view_point(panel.plot, scene)


def _double_click(widget, point: QtCore.QPointF) -> None:
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease,
                 QtCore.QEvent.Type.MouseButtonDblClick, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(widget, kind, point)


def test_lane_keys_insert_drag_edit_and_delete_are_each_one_undo_step(qtbot, window):
    panel, doc = window.nonmanual_panel, window.document
    viewport = panel.plot.viewport()
    _double_click(viewport, _lane_point(panel, 20, "Brows"))
    qtbot.wait(20)
    assert [(k.frame, k.lane) for k in doc.project.face_keys] == [(20, "Brows")]
    assert doc.undo_stack.count() == 1

    drag(qtbot, panel.plot, _lane_point(panel, 20, "Brows"), _lane_point(panel, 32, "Brows"))
    assert [k.frame for k in doc.project.face_keys] == [32] and doc.undo_stack.count() == 2

    slider = panel.sliders["brow_raise_l"]
    for value in (30, 60, 90):
        slider.setValue(value)
    assert doc.project.face_at(32)[FACE_INDEX["brow_raise_l"]] == pytest.approx(0.9)
    assert doc.undo_stack.count() == 3, "one slider's steps merge into one undo step"

    panel.setFocus()
    qtbot.keyClick(panel, QtCore.Qt.Key.Key_Delete)
    assert doc.project.face_keys == () and doc.undo_stack.count() == 4
    for count in (3, 2, 1, 0):
        window.undo_action.trigger()
        assert len(doc.project.face_keys) == (0 if count == 0 else 1)
    assert doc.project.face_keys == ()


def test_wh_question_preset_over_the_selected_anchors(qtbot, window):
    panel, doc = window.nonmanual_panel, window.document
    first, last = doc.anchors[0], doc.anchors[-1]
    window.timeline.select([first.id, last.id])
    assert panel.span_frames() == (first.frame, last.frame)
    panel.preset.setCurrentText("wh-question")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    middle = (first.frame + last.frame) // 2
    assert doc.project.face_at(middle)[FACE_INDEX["brow_furrow_r"]] == pytest.approx(0.85)
    assert doc.undo_stack.count() == 1
    window.undo_action.trigger()
    assert doc.project.face_at(middle)[FACE_INDEX["brow_furrow_r"]] == 0.0


def test_elan_export_has_a_nonmanual_tier_with_the_presets(tmp_path):
    import pympi

    from signeditor.io.formats import export_project

    keys = (*preset_keys("wh-question", 10, 40), *preset_keys("mouthing", 45, 58, word="ja"),
            FaceKey(5, "Brows", lane_values("Brows")))
    path = export_project(Project(Motion.rest(60), face_keys=keys), tmp_path / "clip.eaf")
    annotations = sorted(pympi.Elan.Eaf(str(path)).get_annotation_data_for_tier("Non-manual"))
    assert [(a[0], a[1], a[2]) for a in annotations] == [(400, 1600, "wh-question"), (1800, 2320, "mouthing ja")]


def test_drafts_text_marks_questions_and_negation():
    from signeditor.core.nonmanual import grammar_keys
    from signeditor.core.segments import Segment

    signs = [Segment(5, 20, "du"), Segment(22, 40, "nicht"), Segment(42, 58, "kommen")]
    wh = grammar_keys("Wo wohnst du?", signs, 60, "de")
    assert {k.label for k in wh} == {"wh-question"} and min(k.frame for k in wh) == 5
    assert max(k.frame for k in wh) == 57
    assert {k.label for k in grammar_keys("Kommst du?", signs, 60, "de")} == {"yes/no question"}
    negated = face_with_keys(None, grammar_keys("Du kommst nicht.", signs, 60, "de"), 60)
    assert negated[30, FACE_INDEX["frown_l"]] > 0.5 and negated[10, FACE_INDEX["frown_l"]] == 0.0
    both = face_with_keys(None, grammar_keys("Kommst du nicht?", signs, 60, "de"), 60)
    assert both[30, FACE_INDEX["brow_raise_l"]] > 0.8 and both[30, FACE_INDEX["frown_r"]] > 0.5
    assert grammar_keys("Du kommst.", signs, 60, "de") == ()


def test_from_text_button_marks_the_project(qtbot, window):
    from signeditor.core.segments import Segment

    doc = window.document
    doc.project.text = "Where do you live?"
    doc.project.spoken_language = "en"
    doc.set_segments([Segment(5, 55, "LIVE")])
    qtbot.mouseClick(window.nonmanual_panel.from_text_button, QtCore.Qt.MouseButton.LeftButton)
    assert doc.project.face_at(30)[FACE_INDEX["brow_furrow_l"]] > 0.8 and doc.undo_stack.count() == 1


def test_negation_shakes_the_head_and_role_shift_turns_it():
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.nonmanual import HEAD_FULL_TURN, head_turns
    from signeditor.core.skeleton import JOINT_INDEX

    keys = preset_keys("negation", 10, 40)
    turns = head_turns(keys, 60)[:, 1]
    assert turns[:10].max() == 0 and turns[41:].max() == 0
    assert turns.max() > 0.25 * HEAD_FULL_TURN and turns.min() < -0.25 * HEAD_FULL_TURN
    assert (np.diff(np.sign(turns[12:38])) != 0).sum() >= 4, "side to side, several times"
    project = Project(Motion.rest(60), face_keys=tuple(preset_keys("role shift", 5, 50)))
    shown = project.shown_motion()
    nose = forward_kinematics(shown.features, with_rotations=True)[1][:, JOINT_INDEX["Head"]] @ [0.0, 0.0, 1.0]
    assert nose[30, 0] > 0.25 and nose[0, 0] == pytest.approx(0.0, abs=1e-6), "the head turns to the signer's left"
    assert np.allclose(project.pose_shown_at(30), shown.features[30], atol=1e-6)
    assert np.array_equal(shown.features[:, :18], project.motion.features[:, :18]), "neck and collars stay"


def test_the_lanes_share_the_timelines_time_axis(qtbot, window):
    window.timeline.track_box.setXRange(10, 30, padding=0)
    lanes = window.nonmanual_panel.plot.getViewBox()
    assert lanes.viewRange()[0] == pytest.approx([10, 30])


def _choose_preset(qtbot, panel, name: str) -> None:
    """Open the preset drop-down and click the preset's row, as a user would."""
    combo = panel.preset
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    rect = view.visualRect(view.model().index(combo.findText(name), 0))
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
    assert combo.currentText() == name


def test_negation_inside_a_question_keeps_the_question_whole(qtbot, window, tmp_path, monkeypatch):
    """Presets compose per lane: the question's brow raise and nod hold through a negation placed inside it (which
    adds its furrow, frown and headshake), and the exported ELAN tier has the question as one span."""
    import pympi
    from PySide6 import QtWidgets

    from signeditor.core.nonmanual import head_turns

    panel, doc = window.nonmanual_panel, window.document
    first, last = doc.anchors[0], doc.anchors[-1]  # frames 10 and 50
    window.timeline.select([first.id, last.id])
    _choose_preset(qtbot, panel, "yes/no question")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    window.timeline.select([])  # the span stays where it is: drag its edges
    drag(qtbot, panel.plot, _lane_point(panel, 10, "Mouth"), _lane_point(panel, 22, "Mouth"))  # the span's edges
    drag(qtbot, panel.plot, _lane_point(panel, 50, "Mouth"), _lane_point(panel, 38, "Mouth"))
    assert panel.span_frames() == (22, 38)
    _choose_preset(qtbot, panel, "negation")
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    assert doc.undo_stack.count() == 2, [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]

    face = np.stack([doc.project.face_at(f) for f in range(14, 47)])
    np.testing.assert_allclose(face[:, FACE_INDEX["brow_raise_l"]], 0.85, atol=1e-5,
                               err_msg="the question's brow raise holds through the negation")
    assert doc.project.face_at(30)[FACE_INDEX["brow_furrow_l"]] == pytest.approx(0.45)
    assert doc.project.face_at(30)[FACE_INDEX["frown_l"]] == pytest.approx(0.6)
    turns = head_turns(doc.project.face_keys, doc.n_frames)
    np.testing.assert_allclose(turns[14:47, 0], np.radians(45.0) * 0.15, atol=1e-6, err_msg="the nod holds too")
    assert np.ptp(turns[22:39, 1]) > 0.3, "and the head shakes inside the negation"

    out = tmp_path / "sentence.eaf"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.exporter.export_dialog("eaf")
    qtbot.waitUntil(out.exists, timeout=10000)
    tier = sorted(pympi.Elan.Eaf(str(out)).get_annotation_data_for_tier("Non-manual"))
    assert [(a[0], a[1], a[2]) for a in tier] == [(400, 2000, "yes/no question"), (880, 1520, "negation")]

    saved = project_from_bytes(project_to_bytes(doc.project))
    assert sorted(nonmanual_spans(saved.face_keys)) == [(10, 50, "yes/no question"), (22, 38, "negation")]


@pytest.mark.parametrize(("lane_value", "axis", "expected"), [
    # theta = 0.4 * 45 degrees = 18 degrees; vectors by hand in skeleton axes (+x signer's left, +y up, +z forward)
    ({"head_nod": 0.4}, [0.0, 0.0, 1.0], [0.0, -np.sin(np.radians(18)), np.cos(np.radians(18))]),  # nod: face down
    ({"head_turn": 0.4}, [0.0, 0.0, 1.0], [np.sin(np.radians(18)), 0.0, np.cos(np.radians(18))]),  # turn: to the left
    ({"head_tilt": 0.4}, [0.0, 1.0, 0.0], [np.sin(np.radians(18)), np.cos(np.radians(18)), 0.0]),  # tilt: top left
])
def test_head_lane_keys_nod_down_turn_and_tilt_to_the_signers_left(lane_value, axis, expected):
    """The Head lane's signs as the lane documents them (nod + down, turn + left, tilt + left), read from the shown
    motion's forward kinematics: the head's forward or up vector where a key holds the lane at 0.4."""
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.skeleton import JOINT_INDEX

    values = lane_values("Head", **lane_value)
    project = Project(Motion.rest(20), face_keys=(FaceKey(0, "Head", values), FaceKey(19, "Head", values)))
    world = forward_kinematics(project.shown_motion().features, with_rotations=True)[1][:, JOINT_INDEX["Head"]]
    np.testing.assert_allclose(world[10] @ np.array(axis), expected, atol=1e-5)


def test_a_preset_replaces_hand_placed_keys_in_its_lanes_and_span_but_keeps_other_presets():
    """A hand-placed brow raise at frame 25 (no label) inside a wh-question placed over 10-40 is replaced: the
    question furrows the brows there and raises nothing; the hand key at 50, outside the span, stays; a topic's
    key inside the span composes with the question (its raise shows beside the furrow)."""
    hand = (FaceKey(25, "Brows", lane_values("Brows", brow_raise_l=1.0)),
            FaceKey(50, "Brows", lane_values("Brows", brow_raise_r=1.0)))
    keys = place_preset(hand, preset_keys("wh-question", 10, 40), 10, 40)
    assert [k.frame for k in keys if not k.label] == [50]
    assert _at(keys, 25, "brow_raise_l") == 0.0 and _at(keys, 25, "brow_furrow_l") == pytest.approx(0.85)
    topic = place_preset((), preset_keys("topic", 10, 40), 10, 40)
    both = place_preset(topic, preset_keys("wh-question", 10, 40), 10, 40)
    assert _at(both, 25, "brow_raise_l") == pytest.approx(0.6) and _at(both, 25, "brow_furrow_l") == pytest.approx(0.85)


def test_mouthing_spreads_the_letters_evenly_strictly_inside_the_span():
    """"hallo" over frames 10-40: five letters at 10 + k * 30 / 6 = 15, 20, 25, 30, 35 (rounded), closed keys only
    on 10 and 40, so the mouth closes after the last letter instead of ending on it."""
    keys = preset_keys("mouthing", 10, 40, word="hallo")
    assert [k.frame for k in keys] == [10, 15, 20, 25, 30, 35, 40]
    face = face_with_keys(None, keys, 41)
    assert face[35, FACE_INDEX["viseme_oh"]] == pytest.approx(0.9)
    assert face[40, FACE_INDEX["mouth_open"]] == 0.0


@settings(max_examples=80, deadline=None)
@given(st.integers(3, 40), st.data())
def test_keyed_lanes_follow_a_monotone_cubic_through_their_keys_and_leave_the_rest_alone(
        n_frames: int, data: st.DataObject) -> None:
    """Against scipy's PCHIP on each lane's own keys, frame by frame: inside a lane's keyed span its parameters
    (the head's turns in radians) run through every key exactly; before and after it, and in every column of the
    lanes without keys, the face is the motion's own and the head is not turned."""
    lanes = data.draw(st.lists(st.sampled_from(sorted(LANES)), min_size=1, max_size=3, unique=True))
    keys = []
    for lane in lanes:
        frames = data.draw(st.lists(st.integers(0, n_frames - 1), min_size=1, max_size=4, unique=True))
        low = -1.0 if lane == "Head" else 0.0
        for frame in frames:
            values = data.draw(st.lists(st.floats(low, 1.0), min_size=len(LANES[lane]), max_size=len(LANES[lane])))
            keys.append(FaceKey(frame, lane, np.array(values)))
    face = np.random.default_rng(n_frames).uniform(0.0, 1.0, (n_frames, FACE_DIM)).astype(np.float32)
    shown, turns = face_with_keys(face, keys, n_frames), head_turns(keys, n_frames)
    expected, expected_turns = face.astype(np.float64), np.zeros((n_frames, 3))
    for lane in lanes:
        own = sorted((k for k in keys if k.lane == lane), key=lambda k: k.frame)
        frames = np.array([k.frame for k in own])
        values = np.stack([k.values for k in own]).astype(np.float64)
        span = np.arange(frames[0], frames[-1] + 1)
        curve = values[:1] if len(own) == 1 else PchipInterpolator(frames, values)(span)
        if lane == "Head":
            expected_turns[span] = curve * HEAD_FULL_TURN
        else:
            expected[np.ix_(span, [FACE_INDEX[p] for p in LANES[lane]])] = curve
    np.testing.assert_allclose(shown, expected, atol=1e-5)
    np.testing.assert_allclose(turns, expected_turns, atol=1e-5)


#: Presets that hold a marker over their span (mouthing needs a word).
HELD_PRESETS = tuple(p for p in PRESETS if p != "mouthing")


def shown_by(keys: list[FaceKey], lane: str, frame: int) -> np.ndarray:
    """What ``keys`` give ``lane`` at ``frame`` by scipy's PCHIP through them (the last key on a frame wins),
    neutral outside their span."""
    by_frame = {k.frame: k.values for k in sorted((k for k in keys if k.lane == lane), key=lambda k: (k.frame, k.id))}
    frames = sorted(by_frame)
    if not frames or not frames[0] <= frame <= frames[-1]:
        return np.zeros(len(LANES[lane]))
    if len(frames) == 1:
        return by_frame[frame].astype(np.float64)
    return PchipInterpolator(frames, np.stack([by_frame[f] for f in frames]).astype(np.float64))(frame)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(HELD_PRESETS), st.sampled_from(HELD_PRESETS), st.integers(0, 30), st.integers(3, 30),
       st.integers(0, 30), st.integers(3, 30), st.data())
def test_a_placed_preset_replaces_its_own_and_hand_keys_in_its_lanes_and_composes_with_the_rest(
        old_name: str, name: str, old_start: int, old_length: int, start: int, length: int,
        data: st.DataObject) -> None:
    """Against a list model written here: in the new preset's lanes and span, keys of the same preset and keys
    placed by hand go; every other key stays, and inside the span each key shows both presets (faces the stronger
    value, the head the turns added), its partner read by scipy's PCHIP through the other side's keys."""
    hand = [FaceKey(data.draw(st.integers(0, 60)), lane, np.full(len(LANES[lane]), 0.5))
            for lane in data.draw(st.lists(st.sampled_from(sorted(LANES)), max_size=3))]
    keys = [*preset_keys(old_name, old_start, old_start + old_length), *hand]
    new = preset_keys(name, start, start + length)
    end = start + length
    lanes, labels = {k.lane for k in new}, {k.label for k in new}
    kept = [k for k in keys if not (k.lane in lanes and start <= k.frame <= end and (k.label in labels or not k.label))]

    def composed(lane: str, own: np.ndarray, other: np.ndarray) -> np.ndarray:
        return np.clip(own + other, -1.0, 1.0) if lane == "Head" else np.maximum(own, other)

    expected = {k.id: (composed(k.lane, k.values, shown_by(new, k.lane, k.frame))
                       if k.lane in lanes and start <= k.frame <= end else k.values) for k in kept}
    expected |= {k.id: composed(k.lane, k.values, shown_by(kept, k.lane, k.frame)) for k in new}
    placed = place_preset(keys, new, start, end)
    assert [k.id for k in placed] == [k.id for k in sorted([*kept, *new], key=lambda k: (k.frame, k.lane, k.id))]
    for key in placed:
        np.testing.assert_allclose(key.values, expected[key.id], atol=1e-5)


# --- whole-function models: replacing a span, span ends, preset layouts, head turns -----------------------------

def _random_keys(data: st.DataObject, count: int, frames: st.SearchStrategy[int]) -> list[FaceKey]:
    """Keys in random lanes and frames, some labelled, some remembering a span (a file may give one to a hand key
    too), some sharing a frame."""
    keys = []
    for _ in range(count):
        lane = data.draw(st.sampled_from(sorted(LANES)))
        label = data.draw(st.sampled_from(["", "", "topic", "negation"]))
        span = data.draw(st.one_of(st.none(), st.tuples(st.integers(0, 20), st.integers(21, 40))))
        keys.append(FaceKey(data.draw(frames), lane, np.full(len(LANES[lane]), 0.5), label=label, span=span))
    return keys


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(0, 12), st.integers(0, 6), st.data())
def test_replacing_a_span_drops_exactly_the_old_keys_in_the_new_lanes_on_or_inside_its_ends(
        start: int, length: int, data: st.DataObject) -> None:
    """Against a list model: keys_replacing_span keeps every old key in a lane the new keys do not use, or on a
    frame outside [start, end] (one frame before or after the span counts as outside, the span's own ends as
    inside), adds every new key, and lists them by frame, lane, then age."""
    end = start + length
    near = st.integers(max(start - 2, 0), end + 2)
    old = _random_keys(data, data.draw(st.integers(0, 10)), near)
    new = _random_keys(data, data.draw(st.integers(0, 5)), st.integers(start, end))
    new_lanes = {k.lane for k in new}
    expected = [k for k in old if k.lane not in new_lanes or k.frame < start or k.frame > end] + new
    expected.sort(key=lambda k: (k.frame, k.lane, k.id))
    assert [k.id for k in keys_replacing_span(old, new, start, end)] == [k.id for k in expected]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.data())
def test_annotation_spans_are_each_presets_remembered_span_or_its_run_of_same_label_keys_in_a_lane(
        data: st.DataObject) -> None:
    """Against a model that walks each lane's keys in frame order: a key that remembers its preset's span gives that
    span once (however many keys and lanes share it); keys from older files (no span) give, per lane, each run of
    two or more consecutive keys with one label, from the run's first to last frame; hand keys (no label) give
    nothing and end a run."""
    keys = _random_keys(data, data.draw(st.integers(0, 12)), st.integers(0, 15))
    expected = {(k.span[0], k.span[1], k.label) for k in keys if k.label and k.span is not None}
    for lane in LANES:
        walk = sorted((k for k in keys if k.lane == lane and k.span is None), key=lambda k: (k.frame, k.id))
        i = 0
        while i < len(walk):
            j = i
            while j + 1 < len(walk) and walk[j + 1].label == walk[i].label:
                j += 1
            if walk[i].label and j > i:
                expected.add((walk[i].frame, walk[j].frame, walk[i].label))
            i = j + 1
    assert nonmanual_spans(keys) == sorted(expected)


def _ramp(start: int, end: int) -> int:
    """A quarter of the span, at least one frame and at most four."""
    return min(max((end - start) // 4, 1), 4)


@settings(max_examples=120, deadline=None, derandomize=True)
@example("topic", 10, 1, False, "")  # two frames: refused
@example("mouthing", 10, 2, True, "ja")  # three frames, dragged right to left: the shortest span
@given(st.sampled_from(PRESETS), st.integers(0, 30), st.integers(0, 45), st.booleans(),
       st.text(alphabet="aeioumbpfvtdnlszcxjkrhgqäöüéyw -1.", max_size=8))
def test_every_preset_is_neutral_on_both_span_ends_ramps_in_holds_and_ramps_out(
        name: str, start: int, length: int, reversed_ends: bool, word: str) -> None:
    """A user drags a preset over frames (either direction). Against a model of each preset's keys: spans under 3
    frames and a word without letters are refused; a held preset puts, in each of its lanes, neutral keys on both
    span ends and its held values a ramp (a quarter of the span, 1 to 4 frames) inside them; the negation adds a
    headshake (0 on both ends, +0.3 and -0.3 head turns every 4 frames from 4 frames in, none in the last 2
    frames); mouthing puts one key per letter (its viseme at 0.9, jaw 0.25) at start + k * span / (letters + 1)
    rounded, closed keys on both ends. Every key carries the preset's label and span."""
    from signeditor.core.nonmanual import _HELD, _VISEME_OF

    end = start + length
    ends = (end, start) if reversed_ends else (start, end)
    letters = [c for c in word.lower() if c.isalpha()]
    if length < 2 or (name == "mouthing" and not letters):
        with pytest.raises(ValueError):
            preset_keys(name, *ends, word=word)
        return
    keys = preset_keys(name, *ends, word=word)
    label = f"mouthing {word}" if name == "mouthing" else name
    assert all(k.label == label and k.span == (start, end) for k in keys)
    got = sorted((k.lane, k.frame, tuple(np.round(k.values, 6))) for k in keys)
    if name == "mouthing":
        closed = tuple(np.zeros(len(LANES["Mouth"])))
        assert got[0] == ("Mouth", start, closed) and got[-1] == ("Mouth", end, closed) and len(got) == len(letters) + 2
        for k, (letter, (_, frame, values)) in enumerate(zip(letters, got[1:-1], strict=True), start=1):
            exact = start + k * Fraction(length, len(letters) + 1)
            assert frame in ({round(exact)} if exact.denominator != 2 else {int(exact), int(exact) + 1})
            weights = {"mouth_open": 0.25} | ({_VISEME_OF[letter]: 0.9} if letter in _VISEME_OF else {})
            assert values == tuple(np.round(lane_values("Mouth", **weights), 6)), letter
        return
    ramp = _ramp(start, end)
    expected = []
    for lane, weights in _HELD[name].items():
        neutral, held = tuple(np.zeros(len(LANES[lane]))), tuple(np.round(lane_values(lane, **weights), 6))
        expected += [(lane, start, neutral), (lane, start + ramp, held), (lane, end - ramp, held), (lane, end, neutral)]
    if name == "negation":
        shake = [(start, 0.0), (end, 0.0)]
        frame, side = start + 4, 0.3
        while frame < end - 2:
            shake.append((frame, side))
            frame, side = frame + 4, -side
        expected += [("Head", f, tuple(np.round(lane_values("Head", head_turn=v), 6))) for f, v in shake]
    assert got == sorted(expected)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3), st.integers(0, 2**32 - 1))
def test_head_turns_ride_on_the_heads_own_rotation_turn_then_nod_then_tilt(
        turn_units: list[float], seed: int) -> None:
    """A Head-lane turn is added on top of whatever the body's Head joint does: against scipy, the shown Head
    rotation is R_y(turn) R_x(nod) R_z(-tilt) times the joint's own (yaw about up, nod about the ear-to-ear axis,
    tilt towards the signer's left); every other feature is untouched, and no turn leaves the features as they are."""
    from scipy.spatial.transform import Rotation

    from signeditor.core import rotations
    from signeditor.core.nonmanual import with_head_turns
    from signeditor.core.skeleton import ROTATING_JOINTS
    from tests.conftest import plausible_features

    features = plausible_features(4, seed=seed % 1000)
    nod, turn, tilt = (np.array([0.0, 0.3, 1.0, -0.5]) * v * HEAD_FULL_TURN for v in turn_units)
    shown = with_head_turns(features, np.stack([nod, turn, tilt], -1))
    head = slice(6 * ROTATING_JOINTS.index("Head"), 6 * ROTATING_JOINTS.index("Head") + 6)
    rest = np.ones(features.shape[1], bool)
    rest[head] = False
    np.testing.assert_array_equal(shown[:, rest], features[:, rest])
    own = rotations.rot6d_to_matrix(features[:, head].astype(np.float64))
    offset = Rotation.from_euler("YXZ", np.stack([turn, nod, -tilt], -1)).as_matrix()
    np.testing.assert_allclose(rotations.rot6d_to_matrix(shown[:, head].astype(np.float64)), offset @ own, atol=1e-5)
    assert with_head_turns(features, np.zeros((4, 3))) is features


_WORDS = ("what", "wo", "wie", "who", "not", "nicht", "kein", "never", "nie", "haus", "you", "du", "ja", "gut")


@settings(max_examples=120, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(["", ",", "!", "\"", "(", ")"]), st.booleans()),
                max_size=5),
       st.sampled_from(["", "?", ".", "? ", "!?"]), st.sampled_from(["", "en", "de", "fr"]),
       st.lists(st.tuples(st.integers(0, 2), st.integers(1, 5), st.integers(0, 9)), max_size=4),
       st.integers(0, 3), st.integers(1, 12), st.randoms(use_true_random=False))
def test_a_drafts_text_marks_its_question_and_negations_over_the_right_spans(
        words: list[tuple[str, str, bool]], ending: str, language: str, signs: list[tuple[int, int, int]],
        lead: int, n_frames: int, shuffler) -> None:
    """A user types a sentence and asks for its non-manuals. Against a model of the rules: a text ending in "?"
    (spaces after it allowed) over at least 3 frames gets a wh-question (when it holds a question word of the
    sentence's language, or of any language when that is unknown) or else a yes/no question over the signs'
    whole span (first sign's first frame to last sign's last frame; the clip without signs); each sign glossed
    with a negation word and at least 3 frames long gets a negation over itself, the whole span when none is
    and the text still says a negation word; inside a question the negation leaves the brows to the question.
    Keys compared by frame, lane, label, span and values, composed by place_preset (tested on its own above)."""
    from signeditor.core.nonmanual import NEGATION_WORDS, WH_WORDS, grammar_keys
    from signeditor.core.segments import Segment

    opening = ('"', "(")
    text = " ".join((p if p in opening else "") + (w.upper() if upper else w) + (p if p not in opening else "")
                    for w, p, upper in words) + ending
    segments, frame = [], lead
    for gap, length, pick in signs:  # mostly glossed with a typed word, in any order
        frame += gap
        gloss = words[pick % len(words)][0] if words and pick < 7 else _WORDS[pick]
        segments.append(Segment(frame, frame + length, gloss.upper()))
        frame += length
    shuffler.shuffle(segments)
    typed = {w for w, _, _ in words}
    languages = [language] if language in ("en", "de") else ["en", "de"]
    wh = any(w in WH_WORDS[lang] for w in typed for lang in languages)
    negations = {w for w in typed if any(w in NEGATION_WORDS[lang] for lang in languages)}
    first = min((s.start for s in segments), default=0)
    last = max((s.end for s in segments), default=n_frames) - 1
    question = ending.rstrip().endswith("?") and last - first >= 2
    expected: tuple[FaceKey, ...] = ()
    if question:
        name = "wh-question" if wh else "yes/no question"
        expected = place_preset(expected, preset_keys(name, first, last), first, last)
    spans = [(s.start, s.end - 1) for s in segments if s.gloss.lower() in negations and s.end - s.start >= 3]
    if not spans and negations and last - first >= 2:
        spans = [(first, last)]
    for lo, hi in spans:
        negation = [k for k in preset_keys("negation", lo, hi) if not (question and k.lane == "Brows")]
        expected = place_preset(expected, negation, lo, hi)

    def described(keys) -> list[tuple]:
        return sorted((k.frame, k.lane, k.label, k.span, tuple(np.round(k.values, 5))) for k in keys)

    assert described(grammar_keys(text, segments, n_frames, language)) == described(expected), text


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(1, 30), st.data())
def test_the_face_and_head_at_chosen_frames_are_the_keys_curves_there(n_frames: int, data: st.DataObject) -> None:
    """The viewport asks for single frames (and exports for frames in any order, repeated): against scipy's PCHIP
    through each lane's keys (the newest of two keys on a frame wins): inside a lane's keyed span the lane shows
    its curve, outside it the motion's own face, a head not turned, and lane_values_at neutral values."""
    from signeditor.core.nonmanual import lane_values_at

    keys = []
    for lane in data.draw(st.lists(st.sampled_from(sorted(LANES)), min_size=1, max_size=4, unique=True)):
        low = -1.0 if lane == "Head" else 0.0
        for frame in data.draw(st.lists(st.integers(0, n_frames - 1), min_size=1, max_size=4)):
            values = data.draw(st.lists(st.floats(low, 1.0), min_size=len(LANES[lane]), max_size=len(LANES[lane])))
            keys.append(FaceKey(frame, lane, np.array(values)))
    frames = np.array(data.draw(st.lists(st.integers(0, n_frames - 1), min_size=1, max_size=8)))
    face = np.random.default_rng(n_frames).uniform(0.0, 1.0, (n_frames, FACE_DIM)).astype(np.float32)
    expected, expected_turns = face[frames].astype(np.float64), np.zeros((len(frames), 3))
    for lane in LANES:
        lane_keys = [k for k in keys if k.lane == lane]
        own = np.array([shown_by(lane_keys, lane, int(f)) for f in frames])
        np.testing.assert_allclose(lane_values_at(keys, lane, frames), own, atol=1e-5)
        inside = np.array([bool(lane_keys) and min(k.frame for k in lane_keys) <= f <= max(k.frame for k in lane_keys)
                           for f in frames])
        if lane == "Head":
            expected_turns[inside] = own[inside] * HEAD_FULL_TURN
        elif inside.any():
            expected[np.ix_(inside, [FACE_INDEX[p] for p in LANES[lane]])] = own[inside]
    np.testing.assert_allclose(face_with_keys(face, keys, n_frames, frames), expected, atol=1e-5)
    np.testing.assert_allclose(head_turns(keys, n_frames, frames), expected_turns, atol=1e-5)
