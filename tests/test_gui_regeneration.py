"""The regeneration worker: off the GUI thread, debounced, stale results dropped, graceful fallbacks."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest
from gui_helpers import HoldRegenerate, raised_arm_pose, small_project

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.gui.document import Document, dirty_range
from signeditor.gui.regeneration import Regenerator, interpolation_regenerate, stamp_anchors
from signeditor.gui.worker_thread import collection_is_paused


class ThreadRecordingHold(HoldRegenerate):
    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__(delay_s)
        self.threads: list[int] = []
        self.collector_enabled: list[bool] = []

    def __call__(self, *args, **kwargs):
        self.threads.append(threading.get_ident())
        self.collector_enabled.append(gc.isenabled())
        return super().__call__(*args, **kwargs)


@pytest.fixture
def document(qtbot):
    project, special = small_project()
    doc = Document(project)
    doc.special = special
    return doc


def test_requests_are_debounced_and_run_off_the_gui_thread(qtbot, document):
    fake = ThreadRecordingHold()
    regen = Regenerator(document, fake, debounce_ms=250)  # generous: the CI machine may be slow
    try:
        special = document.special
        for frame in range(31, 38):  # a drag: many previews in quick succession
            document.preview_anchors(document.snapshot()[0].replaced(special.moved_to(frame)))
        qtbot.waitUntil(lambda: not regen.busy, timeout=3000)
        assert len(fake.calls) == 1, "seven rapid previews are one regeneration"
        assert fake.threads[0] != threading.get_ident()
        np.testing.assert_allclose(document.motion.features[37], special.pose, atol=1e-6)
        # A garbage collection in the worker would run Qt destructors of GUI objects in the wrong thread.
        assert fake.collector_enabled == [False]
        qtbot.waitUntil(lambda: not collection_is_paused(), timeout=2000)
    finally:
        regen.shutdown()


def test_stale_results_are_dropped(qtbot, document):
    fake = HoldRegenerate(delay_s=0.3)
    regen = Regenerator(document, fake, debounce_ms=1)
    applied: list[int] = []
    regen.applied.connect(lambda generation, _s: applied.append(generation))
    try:
        special = document.special
        document.set_anchors(document.anchors.replaced(special.moved_to(35)))
        qtbot.waitUntil(lambda: len(fake.calls) == 1, timeout=3000)  # first request is running in the worker
        document.set_anchors(document.anchors.replaced(special.moved_to(45)))
        qtbot.waitUntil(lambda: not regen.busy, timeout=5000)
        assert applied == [regen.generation], "only the newest request's result reached the document"
        features = document.motion.features
        np.testing.assert_allclose(features[45], special.pose, atol=1e-6)
        assert not np.allclose(features[40], special.pose, atol=1e-3), "no leftovers of the stale result"
    finally:
        regen.shutdown()


def test_dirty_range_spans_old_and_new_neighbours():
    pose = raised_arm_pose()
    a, b, c = Anchor(10, pose), Anchor(30, pose), Anchor(50, pose)
    before = AnchorSet([a, b, c])
    after = before.replaced(b.moved_to(40))
    assert dirty_range(before, after, 60) == (10, 51)
    assert dirty_range(before, before, 60) == (0, 0)
    last = before.replaced(c.moved_to(55))
    assert dirty_range(before, last, 60) == (30, 60), "no anchor after: regenerate to the clip's end"


def test_fallbacks_pin_anchor_poses():
    motion = Motion.rest(40)
    pose = raised_arm_pose()
    anchors = AnchorSet([Anchor(5, motion.features[5]), Anchor(20, pose), Anchor(35, motion.features[35])])
    held = stamp_anchors(motion, anchors, (0, 40))
    np.testing.assert_allclose(held.features[20], pose, atol=1e-6)
    np.testing.assert_allclose(held.features[19], motion.features[19])
    interpolated = interpolation_regenerate(motion, anchors, (5, 36))
    np.testing.assert_allclose(interpolated.features[20], pose, atol=1e-4)
    assert not np.allclose(interpolated.features[12], motion.features[12]), "frames between anchors blend"
    np.testing.assert_allclose(interpolated.features[38], motion.features[38], err_msg="outside the window untouched")


def test_failures_are_reported_not_applied(qtbot):
    project = Project(Motion.rest(20), AnchorSet([Anchor(5, raised_arm_pose())]))
    doc = Document(project)

    def broken(*_args, **_kwargs):
        raise RuntimeError("model exploded")

    regen = Regenerator(doc, broken, debounce_ms=1)
    messages: list[str] = []
    regen.status.connect(messages.append)
    try:
        doc.set_anchors(doc.anchors.replaced(doc.anchors[0].moved_to(8)))
        qtbot.waitUntil(lambda: any("failed" in m for m in messages), timeout=3000)
        assert "model exploded" in messages[-1]
        assert doc.motion_version == 0
    finally:
        regen.shutdown()


def test_pose_files_open_as_new_projects(monkeypatch, tmp_path):
    from signeditor.gui.main_window import load_document_file
    from signeditor.io.pose_export import write_pose
    from signeditor.io.project_file import load_project
    from signeditor.paths import SAMPLE_PROJECT

    write_pose(load_project(SAMPLE_PROJECT).motion, tmp_path / "clip.pose")
    project = load_document_file(tmp_path / "clip.pose")
    assert project.motion.n_frames == 100
    assert project.source.endswith("clip.pose")
    assert project.segments and len(project.anchors) >= 2 * len(project.segments)  # FAST's onset/offset at least


def test_model_regenerate_falls_back_to_interpolation_when_the_model_cannot_load(monkeypatch):
    from signeditor.gui.regeneration import ModelRegenerate

    def no_weights(*_args, **_kwargs):
        raise FileNotFoundError("kf2p.pt")

    monkeypatch.setattr("signeditor.ml.kf2p.api.load_generator", no_weights)
    regenerate = ModelRegenerate()
    motion = Motion.rest(30)
    pose = raised_arm_pose()
    anchors = AnchorSet([Anchor(0, motion.features[0]), Anchor(15, pose), Anchor(29, motion.features[29])])
    result = regenerate(motion, anchors, None)
    assert regenerate.backend == "interpolation" and "kf2p.pt" in regenerate.load_error
    np.testing.assert_allclose(result.features[15], pose, atol=1e-4)


def test_inspector_euler_angles_round_trip():
    from signeditor.gui.joint_controls import euler_xyz_to_matrix, matrix_to_euler_xyz

    for angles in ([10, -20, 30], [0, 89, 0], [-170, 45, 120]):
        matrix = euler_xyz_to_matrix(np.array(angles, dtype=float))
        np.testing.assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-9)
        np.testing.assert_allclose(euler_xyz_to_matrix(matrix_to_euler_xyz(matrix)), matrix, atol=1e-6)
