"""Every edit keeps an imported recording: the take, the face channel and the per-stream "not captured" flags survive
the edit, a save and a reopen, and captured frames come back bit for bit where the edit put them.

The oracle is the index arithmetic of each edit, written out by hand: which original frames must reappear at
which frames afterwards. Generated frames are made unmistakable (a fixed marker pose), so a captured frame that
was regenerated cannot pass for the capture.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from conftest import LEFT_HAND_GAP, captured_project
from gui_helpers import raised_arm_pose

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.core.project import Project
from signeditor.core.recording import recorded_streams, regenerate_keeping_recording
from signeditor.core.sign_edits import (
    SignEdit,
    SignTemplate,
    TimelineState,
    delete_sign,
    duplicate_sign,
    insert_sign,
    move_sign,
    replace_sign,
    stretch_sign,
)
from signeditor.io.project_file import project_from_bytes, project_to_bytes

MARKER = raised_arm_pose()
LEFT = STREAMS.index("left_hand")


def marker_generator(motion: Motion, anchors: AnchorSet, span: tuple[int, int]) -> Motion:
    """Generated frames hold a pose no capture has: a regenerated captured frame cannot go unnoticed."""
    result = motion.copy()
    result.features[span[0]:span[1]] = MARKER
    return result


def library_sign(length: int = 12) -> SignTemplate:
    features = np.repeat(MARKER[None], length, axis=0)
    return SignTemplate("LETTER-B", features, (Anchor(0, MARKER, label="LETTER-B onset"),
                                               Anchor(length - 1, MARKER, label="LETTER-B offset")))


def state_of(project: Project) -> TimelineState:
    return TimelineState(project.motion, project.anchors, tuple(project.segments), project.recording)


def saved_and_reopened(project: Project, edit: SignEdit) -> Project:
    """The edit as the editor applies it (the regenerator fills its window), then saved and read back."""
    state = edit.state
    motion = regenerate_keeping_recording(state.recording, state.motion, state.anchors, edit.regenerate,
                                          marker_generator)
    edited = Project(motion, state.anchors, list(state.segments), recording=state.recording)
    return project_from_bytes(project_to_bytes(edited))


def assert_kept(before: Project, after: Project, pairs: list[tuple[int, int, int]]) -> None:
    """Each (start now, start before, length): those frames of the take, face included, are back bit for bit."""
    assert after.recording is not None, "the recording was dropped"
    assert after.motion.face is not None and after.recording.take.face is not None, "the face channel was dropped"
    assert after.recording.n_frames == after.motion.n_frames
    for now, then, length in pairs:
        np.testing.assert_array_equal(after.motion.features[now:now + length],
                                      before.motion.features[then:then + length])
        np.testing.assert_array_equal(after.motion.face[now:now + length], before.motion.face[then:then + length])


def assert_gap_kept_per_stream(after: Project, shift: int = 0) -> None:
    """The lost left hand is still the only stream not captured there; the tracked arm is captured."""
    flags = recorded_streams(after.recording, after.anchors)
    lo, hi = LEFT_HAND_GAP[0] + shift, LEFT_HAND_GAP[1] + shift
    assert not flags[lo:hi, LEFT].any()
    assert flags[lo:hi, [s for s in range(len(STREAMS)) if s != LEFT]].all()


def test_insert_sign_keeps_the_recording_the_face_and_every_captured_frame() -> None:
    project = captured_project()
    edit = insert_sign(state_of(project), 71, library_sign(12), gap_before=3, gap_after=4)
    after = saved_and_reopened(project, edit)
    assert after.motion.n_frames == 150 + 19
    assert_kept(project, after, [(0, 0, 71), (90, 71, 60)])
    flags = recorded_streams(after.recording, after.anchors)
    assert not flags[71:90].any(), "the laid sign and its transitions are new material, not captured"
    np.testing.assert_array_equal(after.motion.features[74:86], np.repeat(MARKER[None], 12, axis=0))
    assert_gap_kept_per_stream(after)
    # The reopened take is laid out like the clip: a later anchor move still warps only between its neighbours.
    middle = next(a for a in after.anchors if a.label == "BAUM middle")
    moved = after.anchors.replaced(middle.moved_to(middle.frame + 3))
    again = regenerate_keeping_recording(after.recording, after.motion, moved, (99, 160), marker_generator)
    np.testing.assert_array_equal(again.features[:100], after.motion.features[:100])
    np.testing.assert_array_equal(again.features[159:], after.motion.features[159:])
    np.testing.assert_array_equal(again.features[middle.frame + 3], project.motion.features[110])


def test_replace_sign_keeps_everything_but_the_replaced_sign() -> None:
    project = captured_project()
    edit = replace_sign(state_of(project), 0, library_sign(20))
    after = saved_and_reopened(project, edit)
    assert after.motion.n_frames == 150 - 61 + 20
    assert_kept(project, after, [(0, 0, 10), (30, 71, 79)])
    assert not recorded_streams(after.recording, after.anchors)[10:30].any()


@pytest.mark.parametrize(("close_gap", "join"), [(True, 0), (True, 6), (False, 0)])
def test_delete_sign_keeps_every_other_captured_frame(close_gap: bool, join: int) -> None:
    project = captured_project()
    edit = delete_sign(state_of(project), 1, close_gap, join)
    after = saved_and_reopened(project, edit)
    if close_gap:
        assert after.motion.n_frames == 150 - 61 + join
        assert_kept(project, after, [(0, 0, 80), (80 + join, 141, 9)])
        assert not recorded_streams(after.recording, after.anchors)[80:80 + join].any(), "the join is generated"
    else:
        assert_kept(project, after, [(0, 0, 80), (141, 141, 9)])
        assert not recorded_streams(after.recording, after.anchors)[80:141].any(), "the hold is not the capture"
    assert_gap_kept_per_stream(after)


def test_duplicate_sign_copies_captured_material_and_keeps_the_rest() -> None:
    project = captured_project()
    edit = duplicate_sign(state_of(project), 0, gap=5)
    after = saved_and_reopened(project, edit)
    assert after.motion.n_frames == 150 + 5 + 61
    np.testing.assert_array_equal(after.motion.face[76:137], project.motion.face[10:71], "the mouthing is copied")
    # The copy is the capture (not regenerated between its anchors).
    # Where the original's left hand was lost, the copy's is too: only that hand is generated there.
    copy, original = after.motion.features[76:137], project.motion.features[10:71]
    left = STREAM_SLICES["left_hand"]
    lost = np.zeros(61, bool)
    lost[LEFT_HAND_GAP[0] - 10:LEFT_HAND_GAP[1] - 10] = True
    np.testing.assert_array_equal(copy[:, :left.start], original[:, :left.start])
    np.testing.assert_array_equal(copy[:, left.stop:], original[:, left.stop:])
    np.testing.assert_array_equal(copy[~lost, left], original[~lost, left])
    assert (copy[lost, left] == MARKER[left]).all()
    assert_kept(project, after, [(0, 0, 71), (137, 71, 79)])


def test_moving_a_sign_time_warps_the_capture_instead_of_regenerating_it() -> None:
    project = captured_project()
    edit = move_sign(state_of(project), 1, -4)
    after = saved_and_reopened(project, edit)
    assert after.segments[1].start == 76
    # The sign moves whole frames: it is the capture, shifted; only the transitions around it are warped.
    assert_kept(project, after, [(0, 0, 71), (76, 80, 61)])
    assert not (after.motion.features == MARKER).all(axis=1).any(), "no frame was regenerated"
    assert recorded_streams(after.recording, after.anchors)[:, [0, 2, 3]].all()


def test_stretching_a_sign_keeps_the_recording_and_what_follows() -> None:
    project = captured_project()
    edit = stretch_sign(state_of(project), 0, 81)
    after = saved_and_reopened(project, edit)
    assert after.motion.n_frames == 170
    assert_kept(project, after, [(0, 0, 10), (91, 71, 79)])
    # The stretched sign is the capture slowed down (its first and last frames exact), still captured.
    np.testing.assert_array_equal(after.motion.features[[10, 90]], project.motion.features[[10, 70]])
    assert recorded_streams(after.recording, after.anchors)[10:91, [0, 2, 3]].all()


def test_moving_an_anchor_across_a_lost_hand_regenerates_only_that_hand() -> None:
    project = captured_project()
    middle = next(a for a in project.anchors if a.label == "HAUS middle")
    moved = project.anchors.replaced(middle.moved_to(middle.frame + 4))
    edit = SignEdit(TimelineState(project.motion, moved, tuple(project.segments), project.recording), (10, 71), 0)
    after = saved_and_reopened(project, edit)
    # Between the anchors at 10 and 44 (was 40) frame t shows take time 10 + (t - 10) * 30 / 34.
    shown = {t: 10 + (t - 10) * 15 / 17 for t in range(10, 45)}
    gap = [t for t, time in shown.items() if LEFT_HAND_GAP[0] <= round(time) < LEFT_HAND_GAP[1]]
    left, others = STREAM_SLICES["left_hand"], np.ones(MARKER.shape[0], bool)
    others[left] = False
    features = after.motion.features
    assert (features[gap][:, left] == MARKER[left]).all(), "the lost hand is generated"
    assert not (features[gap][:, others] == MARKER[others]).all(axis=1).any(), \
        "the tracked arm, the other hand and the face were not regenerated"
    np.testing.assert_array_equal(features[27], project.motion.features[25], "a whole take frame, copied")
    assert_kept(project, after, [(0, 0, 11), (71, 71, 79)])
    flags = recorded_streams(after.recording, after.anchors)
    assert not flags[gap, LEFT].any() and flags[:, [0, 2, 3]].all()


def as_version_2(data: bytes, **meta_changes: object) -> bytes:
    """A project file as format 2 wrote it: one captured flag per frame for all streams, no stream names."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        meta = json.loads(zf.read("project.json"))
        arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz"))))
    meta.update(meta_changes, format_version=2)
    del meta["recording"]["captured_streams"], meta["recording"]["clip_frames"]
    arrays["take_captured"] = arrays["take_captured"].all(axis=1)
    npz, out = io.BytesIO(), io.BytesIO()
    np.savez_compressed(npz, **arrays)
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("project.json", json.dumps(meta))
        zf.writestr("arrays.npz", npz.getvalue())
    return out.getvalue()


def test_a_version_2_project_opens_with_its_one_flag_for_every_stream() -> None:
    reopened = project_from_bytes(as_version_2(project_to_bytes(captured_project())))
    captured = reopened.recording.captured
    assert captured.shape == (150, len(STREAMS))
    assert not captured[slice(*LEFT_HAND_GAP)].any() and captured[:LEFT_HAND_GAP[0]].all()


def test_a_version_2_import_gets_its_streams_back_from_the_keypoints_it_names(make_pose_file, tmp_path) -> None:
    """Where the project's .pose is still there, a lost hand is again only that hand; a span the user had
    regenerated stays regenerated."""
    from conftest import HAND_POINTS

    from signeditor.app_services import open_document
    from signeditor.io.project_file import load_project

    confidence = np.ones((30, len(HAND_POINTS)))
    confidence[8:20] = 0.0
    path, _ = make_pose_file(n_frames=30, confidence={"LEFT_HAND_LANDMARKS": confidence})
    project = open_document(path)
    project.recording = project.recording.with_captured(24, 28, False)  # the user regenerated 24-27
    old = as_version_2(project_to_bytes(project), source=path.name)  # relative to the project's folder
    saved = tmp_path / "old.signproj"
    saved.write_bytes(old)
    captured = load_project(saved).recording.captured
    np.testing.assert_array_equal(captured, project.recording.captured)
    # Without the keypoints, the one flag applies to every stream, as format 2 meant it.
    path.unlink()
    assert not load_project(saved).recording.captured[8:20].any()


def anchor_edit(project: Project, kind: str) -> tuple[AnchorSet, tuple[int, int], object]:
    """An anchor-level edit as the editor makes it: the new anchors, the window it regenerates, the recording."""
    anchors, recording = project.anchors, project.recording
    middle = next(a for a in anchors if a.label == "HAUS middle")
    offset = next(a for a in anchors if a.label == "HAUS offset")
    if kind == "pose edit":  # a joint turned on the sign's offset anchor: a displacement, not a regeneration
        pose = offset.pose.copy()
        pose[STREAM_SLICES["body"]] = MARKER[STREAM_SLICES["body"]]
        return anchors.replaced(offset.with_pose(pose)), (40, 81), recording
    if kind == "delete anchor":
        return anchors.removed(middle.id), (10, 71), recording
    if kind == "insert anchor":
        return anchors.added(Anchor(55, project.motion.features[55])), (40, 71), recording
    if kind == "lane move":  # only the right hand's lane of the middle anchor moves
        rest = replace(middle, streams=middle.streams - {"right_hand"})
        lane = Anchor(middle.frame + 3, middle.pose, frozenset({"right_hand"}))
        return anchors.replaced(rest).added(lane), (10, 71), recording
    assert kind == "regenerate span"  # the user agreed (Edit > Regenerate span asks first)
    return anchors, (45, 60), recording.with_captured(45, 60, False)


@pytest.mark.parametrize("kind", ["pose edit", "delete anchor", "insert anchor", "lane move", "regenerate span"])
def test_anchor_edits_keep_the_recording_and_the_face(kind: str) -> None:
    project = captured_project()
    anchors, window, recording = anchor_edit(project, kind)
    motion = regenerate_keeping_recording(recording, project.motion, anchors, window, marker_generator)
    after = project_from_bytes(project_to_bytes(Project(motion, anchors, project.segments, recording=recording)))
    assert_kept(project, after, [(0, 0, window[0]), (window[1], window[1], 150 - window[1])])
    np.testing.assert_array_equal(after.motion.face, project.motion.face, "the face is never regenerated")
    features, take = after.motion.features, project.motion.features.copy()
    lo, hi = max(window[0], LEFT_HAND_GAP[0]), min(window[1], LEFT_HAND_GAP[1])
    take[lo:hi, STREAM_SLICES["left_hand"]] = MARKER[STREAM_SLICES["left_hand"]]  # the lost hand, if in reach
    generated = np.flatnonzero((features == MARKER).all(axis=1))
    if kind == "regenerate span":
        assert generated.tolist() == list(range(45, 60)), "exactly the span the user agreed to"
    else:
        assert generated.size == 0, "no frame was regenerated"
    if kind == "pose edit":
        body = STREAM_SLICES["body"]
        np.testing.assert_array_equal(features[70, body], MARKER[body])
        np.testing.assert_array_equal(np.delete(features, np.s_[body], axis=1), np.delete(take, np.s_[body], axis=1))
    if kind in ("delete anchor", "insert anchor"):
        np.testing.assert_array_equal(features, take)
    if kind == "lane move":
        right = STREAM_SLICES["right_hand"]
        np.testing.assert_array_equal(np.delete(features, np.s_[right], axis=1), np.delete(take, np.s_[right], axis=1))
        np.testing.assert_array_equal(features[43, right], take[40, right])


def test_restoring_a_span_brings_back_only_what_was_captured() -> None:
    """Restore recording in span over a lost hand and a laid sign: the hand and the sign stay generated."""
    project = captured_project()
    edit = insert_sign(state_of(project), 45, library_sign(12))  # frames 45-56 are the laid sign
    after = saved_and_reopened(project, edit)
    regenerated = after.recording.with_captured(20, 80, False)
    assert not regenerated.captured[20:80].any()
    saved = project_to_bytes(Project(after.motion, after.anchors, after.segments, recording=regenerated))
    restored = project_from_bytes(saved).recording.with_captured(20, 80, True)
    expected = np.ones((162, len(STREAMS)), bool)
    expected[slice(*LEFT_HAND_GAP), LEFT] = False
    expected[45:57] = False
    np.testing.assert_array_equal(restored.captured, expected)


def test_a_sign_edit_inside_a_time_warped_stretch_shows_the_same_frames() -> None:
    """HAUS's offset anchor dragged 6 frames earlier (the take warps between it and BAUM's onset), then a sign laid
    in that warped stretch: every frame shown before is shown after, bit for bit, none regenerated."""
    project = captured_project()
    offset = next(a for a in project.anchors if a.label == "HAUS offset")
    moved = project.anchors.replaced(offset.moved_to(64))
    warped = regenerate_keeping_recording(project.recording, project.motion, moved, (40, 81), marker_generator)
    assert not np.array_equal(warped.features[65:80], project.motion.features[65:80]), "the stretch is warped"
    state = TimelineState(warped, moved, tuple(project.segments), project.recording)
    after = saved_and_reopened(project, insert_sign(state, 72, library_sign(10), gap_before=2, gap_after=2))
    assert after.recording.n_frames == after.motion.n_frames == 164
    for now, then, length in ((0, 0, 72), (86, 72, 78)):
        np.testing.assert_array_equal(after.motion.features[now:now + length], warped.features[then:then + length])
        np.testing.assert_array_equal(after.motion.face[now:now + length], warped.face[then:then + length])
    flags = recorded_streams(after.recording, after.anchors)
    assert flags[[*range(0, 30), *range(40, 72), *range(86, 164)]].all() and not flags[72:86].any()


@pytest.mark.parametrize(("start", "stop", "expected"), [
    (2, 4, [[2.0], [3.0]]),  # inside: thirds of the way from row 1 (value 1) to row 4 (value 4)
    (3, 5, [[2.0], [2.0]]),  # through the clip's end: the face holds the row before, never a removed row
    (0, 2, [[2.0], [2.0]]),  # from the clip's start: the face holds the row after
])
def test_laid_face_rows_blend_between_kept_rows_only(start: int, stop: int, expected: list[list[float]]) -> None:
    """Face weights of frames a sign edit lays: a linear blend from the kept row before to the kept row after (hand
    computed), and at either end of the clip a hold of the one kept neighbour."""
    from signeditor.core.recording_layout import spliced_values

    values = np.arange(5, dtype=np.float64)[:, None]  # row i holds i
    out = spliced_values(values, start, stop, 2)
    np.testing.assert_allclose(out[start:start + 2], np.asarray(expected))
    np.testing.assert_array_equal(out[:start], values[:start])
    np.testing.assert_array_equal(out[start + 2:], values[stop:])


def _back_to_back() -> Project:
    """:func:`captured_project` with its signs back to back (HAUS [10, 71), BAUM [71, 141)), as FAST lays signs
    that follow each other without a rest: BAUM's onset anchor sits on the first frame after HAUS."""
    from signeditor.core.keyframes import anchors_from_segments
    from signeditor.core.recording import Recording
    from signeditor.core.segments import Segment

    project = captured_project()
    project.segments = [Segment(10, 71, "HAUS"), Segment(71, 141, "BAUM")]
    project.anchors = anchors_from_segments(project.motion, project.segments)
    project.recording = Recording.of(project.motion, project.anchors)
    assert 71 in {a.frame for a in project.anchors}
    return project


def test_deleting_a_sign_right_before_its_neighbour_keeps_the_neighbour_captured_bit_for_bit() -> None:
    """HAUS deleted, gap closed: BAUM and what follows (take frames 71-149) show at 10-88 exactly."""
    project = _back_to_back()
    after = saved_and_reopened(project, delete_sign(state_of(project), 0, close_gap=True))
    assert after.motion.n_frames == 150 - 61
    assert_kept(project, after, [(0, 0, 10), (10, 71, 79)])
    assert recorded_streams(after.recording, after.anchors)[10:, [0, 2, 3]].all()


@pytest.mark.parametrize("length", [31, 81, 101])  # lengths whose retimed anchors land on whole take frames
def test_stretching_a_sign_keeps_its_first_and_last_frames_and_its_neighbour_exactly(length: int) -> None:
    """HAUS [10, 71) stretched to ``length`` frames: its first and last captured frames (take 10 and 70) show at
    10 and 10 + length - 1, and BAUM, right after it, follows from 10 + length on, bit for bit."""
    project = _back_to_back()
    after = saved_and_reopened(project, stretch_sign(state_of(project), 0, length))
    assert after.motion.n_frames == 150 - 61 + length
    np.testing.assert_array_equal(after.motion.features[[10, 10 + length - 1]], project.motion.features[[10, 70]])
    assert_kept(project, after, [(0, 0, 10), (10 + length, 71, 79)])
    # Slowed down evenly: frame 10 + k shows take time 10 + 60 k / (length - 1); where that is a whole frame, the
    # captured streams (all but the lost left hand) show that take frame.
    whole = [k for k in range(length) if 60 * k % (length - 1) == 0]
    columns = np.r_[0:STREAM_SLICES["left_hand"].start, STREAM_SLICES["left_hand"].stop:MARKER.shape[0]]
    np.testing.assert_allclose(after.motion.features[np.ix_([10 + k for k in whole], columns)],
                               project.motion.features[np.ix_([10 + 60 * k // (length - 1) for k in whole], columns)],
                               atol=1e-6)


def test_a_sign_edit_in_a_warped_stretch_after_an_anchor_was_deleted_shows_the_same_frames() -> None:
    """As above, but the user had also deleted BAUM's middle anchor (the take still knows it): the edit rewrites
    the take from the anchors that are left, every frame shown before is shown after, bit for bit."""
    project = captured_project()
    offset = next(a for a in project.anchors if a.label == "HAUS offset")
    middle = next(a for a in project.anchors if a.label == "BAUM middle")
    moved = project.anchors.replaced(offset.moved_to(64)).removed(middle.id)
    warped = regenerate_keeping_recording(project.recording, project.motion, moved, (40, 141), marker_generator)
    state = TimelineState(warped, moved, tuple(project.segments), project.recording)
    after = saved_and_reopened(project, insert_sign(state, 72, library_sign(10), gap_before=2, gap_after=2))
    for now, then, length in ((0, 0, 72), (86, 72, 78)):
        np.testing.assert_array_equal(after.motion.features[now:now + length], warped.features[then:then + length])


def test_shrinking_a_sign_regenerates_up_to_its_back_to_back_neighbours_onset_only() -> None:
    """HAUS [10, 71) and BAUM [71, 141) back to back; HAUS shrunk to 31 frames: BAUM now starts at 41 and the
    frames to redo end at its onset anchor (41, inclusive), not inside BAUM."""
    project = _back_to_back()
    edit = stretch_sign(state_of(project), 0, 31)
    assert edit.state.segments[1].start == 41
    assert edit.regenerate == (0, 42)


def test_a_generated_lost_hand_stays_generated_not_filled_after_a_sign_edit() -> None:
    """The importer marks the lost left hand's frames 30-39 as filled; once the regenerator has generated that hand
    they are not filled any more, and moving the other sign (which re-reads the capture) must not mark them filled
    again from the take: only frames where every stream shows the capture take the take's flags."""
    project = captured_project()
    assert project.motion.filled[slice(*LEFT_HAND_GAP)].all()
    generated = regenerate_keeping_recording(project.recording, project.motion, project.anchors, None,
                                             marker_generator)
    assert not generated.filled.any()
    state = TimelineState(generated, project.anchors, tuple(project.segments), project.recording)
    after = move_sign(state, 1, -4).state.motion
    left = STREAM_SLICES["left_hand"]
    assert (after.features[slice(*LEFT_HAND_GAP), left] == MARKER[left]).all(), "the generated hand is kept"
    assert not after.filled.any()
