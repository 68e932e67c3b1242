"""A saved project holds every field the user made, read back both by a plain zip/JSON/numpy reader written here
(the documented layout: ``project.json`` + ``arrays.npz``) and by ``load_project``.

The projects are random: any number of anchors (some for only some streams, labels in any script, two on one
frame), signs back to back with every review status and comments, face keys of every lane with and without a
preset span, a face channel or none, filled frames, text and languages, model versions, a reference video.
A writer or reader that drops, swaps, shifts or rounds one field fails here.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signeditor.core.anchors import ALL_STREAMS, Anchor, AnchorSet
from signeditor.core.face import FACE_DIM, FACE_PARAMETERS
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import LANES, FaceKey
from signeditor.core.project import Project, ReferenceVideo
from signeditor.core.segments import APPROVED, DRAFT, NEEDS_WORK, Segment
from signeditor.io.project_file import load_project, save_project

STREAM_NAMES = sorted(ALL_STREAMS)
#: Any text, often with the edges a careless writer or reader would trim.
TEXT = st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                 st.sampled_from([" HAUS ", "\tgloss\n", "", "é 手話"]))


def _frames(n: int) -> st.SearchStrategy[int]:
    """Any frame of a clip of ``n``, the first and last ones often."""
    return st.one_of(st.sampled_from([0, n - 1]), st.integers(0, n - 1))


@st.composite
def projects(draw: st.DrawFn) -> Project:
    n = draw(st.integers(2, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    features = Motion.rest(n).features + rng.normal(scale=0.2, size=(n, Motion.rest(1).features.shape[1]))
    filled = rng.random(n) < draw(st.sampled_from([0.0, 0.3]))
    face = rng.uniform(0, 1, (n, FACE_DIM)).astype(np.float32) if draw(st.booleans()) else None
    motion = Motion(draw(st.sampled_from([24.0, 25.0, 29.97, 50.0])), features.astype(np.float32), filled=filled,
                    face=face)
    anchors = []
    for _ in range(draw(st.integers(0, 6))):
        frame = draw(_frames(n))
        streams = frozenset(draw(st.lists(st.sampled_from(STREAM_NAMES), min_size=1, unique=True)))
        pose = rng.normal(size=motion.features.shape[1]).astype(np.float32)
        anchors.append(Anchor(frame, pose, streams=streams, label=draw(TEXT)))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6, unique=True)))
    segments = [Segment(a, b, draw(TEXT), draw(st.floats(0, 1)), draw(st.sampled_from([DRAFT, NEEDS_WORK, APPROVED])),
                        tuple(draw(st.lists(TEXT, max_size=2))))
                for a, b in itertools.pairwise(cuts) if b > a]  # back to back: each sign ends where the next starts
    keys = []
    for _ in range(draw(st.integers(0, 5))):
        lane = draw(st.sampled_from(sorted(LANES)))
        low = -1.0 if lane == "Head" else 0.0
        values = rng.uniform(low, 1.0, len(LANES[lane])).astype(np.float32)
        frame = draw(_frames(n))
        span = (frame, draw(st.integers(frame, n - 1))) if draw(st.booleans()) else None
        keys.append(FaceKey(frame, lane, values, draw(TEXT), span=span))
    reference = ReferenceVideo(draw(TEXT) + ".mp4", draw(st.floats(-5, 5)), draw(TEXT)) if draw(st.booleans()) else None
    return Project(motion, AnchorSet(anchors), segments, text=draw(TEXT), spoken_language=draw(TEXT),
                   signed_language=draw(TEXT), model_versions=draw(st.dictionaries(TEXT, TEXT, max_size=2)),
                   source=draw(TEXT), reference_video=reference, face_keys=tuple(keys))


def _read_plainly(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("project.json").decode("utf-8"))
        arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
    return meta, arrays


def _anchor_rows(anchors: AnchorSet) -> list[tuple[int, list[str], str, bytes]]:
    return sorted((a.frame, sorted(a.streams), a.label, np.asarray(a.pose, np.float32).tobytes()) for a in anchors)


def _key_rows(keys: tuple[FaceKey, ...]) -> list[tuple[int, str, str, tuple[int, int] | None, bytes]]:
    return sorted((k.frame, k.lane, k.label, k.span, np.asarray(k.values, np.float32).tobytes()) for k in keys)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects())
def test_every_field_of_a_saved_project_is_in_the_file_and_comes_back(tmp_path_factory: object,
                                                                      project: Project) -> None:
    path = tmp_path_factory.mktemp("p") / "any name.signproj"
    save_project(project, path)

    # The file, read without SignEditor: every field where the layout puts it.
    meta, arrays = _read_plainly(path)
    assert meta["format"] == "signeditor-project" and meta["fps"] == project.motion.fps
    assert np.array_equal(arrays["features"], project.motion.features)
    assert np.array_equal(arrays["filled"].astype(bool), project.motion.filled)
    if project.motion.face is None:
        assert "face" not in arrays
    else:
        by_name = dict(zip(meta["face_parameters"], arrays["face"].T, strict=True))
        for column, name in enumerate(FACE_PARAMETERS):
            assert np.array_equal(by_name[name], project.motion.face[:, column])
    written = sorted((a["frame"], sorted(a.get("streams", STREAM_NAMES)), a.get("label", ""),
                      arrays[f"anchor_{i}"].astype(np.float32).tobytes()) for i, a in enumerate(meta["anchors"]))
    assert written == _anchor_rows(project.anchors)
    assert [(s["start"], s["end"], s["gloss"], s["confidence"], s["status"], tuple(s["comments"]))
            for s in meta["segments"]] == [(s.start, s.end, s.gloss, s.confidence, s.status, s.comments)
                                           for s in project.segments]
    assert [(k["frame"], k["lane"], k["label"], tuple(k["span"]) if "span" in k else None,
             [k["values"][name] for name in LANES[k["lane"]]]) for k in meta["face_keys"]] == [
        (k.frame, k.lane, k.label, k.span, [float(v) for v in k.values]) for k in project.face_keys]
    assert (meta["text"], meta["spoken_language"], meta["signed_language"], meta["source"], meta["model_versions"]) == (
        project.text, project.spoken_language, project.signed_language, project.source, project.model_versions)
    reference = project.reference_video
    assert meta.get("reference_video") == (None if reference is None else {
        "path": reference.path, "offset_s": reference.offset_s, "keypoints": reference.keypoints})

    # And the editor opens exactly what it saved.
    loaded = load_project(path)
    assert loaded.motion.fps == project.motion.fps
    assert np.array_equal(loaded.motion.features, project.motion.features)
    assert np.array_equal(loaded.motion.filled, project.motion.filled)
    assert (loaded.motion.face is None) == (project.motion.face is None)
    if project.motion.face is not None:
        assert np.array_equal(loaded.motion.face, project.motion.face)
    assert _anchor_rows(loaded.anchors) == _anchor_rows(project.anchors)
    assert loaded.segments == project.segments
    assert _key_rows(loaded.face_keys) == _key_rows(project.face_keys)
    assert (loaded.text, loaded.spoken_language, loaded.signed_language, loaded.source, loaded.model_versions,
            loaded.reference_video) == (project.text, project.spoken_language, project.signed_language,
                                        project.source, project.model_versions, project.reference_video)
