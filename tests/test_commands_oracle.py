"""The anchor and sign-boundary commands of ``gui/commands`` against list models, over random layouts (Hypothesis).

- ``move_anchors``: each chosen anchor goes ``delta`` frames, stopping at the clip's first or last frame; every
  other anchor stays; a sign whose first (last) frame held a moved anchor starts (ends) where that anchor lands,
  staying at least one frame long and inside the clip; one undo step restores everything.
- ``selection_span``: two or more selected anchors on different frames span from the first to the last (inclusive);
  otherwise the stretch between the nearest anchors before and after the selected anchor (or the playhead),
  running to the clip's ends where there is none.
- ``move_segment_boundary``: a dragged start stops one frame before the sign's end and at frame 0; a dragged end
  one frame after its start and at the clip's end.
- ``inserted_anchor_label``: "GLOSS frame k" (k counted from the sign's first frame; "SIGNi" for an unnamed sign,
  i its place in time order) inside a sign, "frame f" outside.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.gui import commands
from signeditor.gui.document import Document

_SETTINGS = settings(max_examples=80, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def documents(draw: st.DrawFn) -> tuple[Project, int]:
    """Signs of 1-4 frames (some unnamed), often back to back; anchors on signs' edges and elsewhere, sometimes two
    on one frame."""
    frame, segments = draw(st.integers(0, 2)), []
    for k in range(draw(st.integers(0, 4))):
        length = draw(st.integers(1, 4))
        segments.append(Segment(frame, frame + length, draw(st.sampled_from([f"G{k}", ""]))))
        frame += length + draw(st.sampled_from([0, 0, 1, 3]))
    n = max(frame, 3)
    frames = {f for s in segments for f in (s.start, s.end - 1) if draw(st.booleans())}
    frames |= set(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    motion = Motion.rest(n)
    anchors = [Anchor(f, motion.features[f], label=f"a{f}") for f in sorted(frames)]
    twins = draw(st.lists(st.sampled_from(sorted(frames)), max_size=2))  # a second anchor on a frame (a lane)
    anchors = AnchorSet([*anchors, *(Anchor(f, motion.features[f], frozenset({"body"})) for f in twins)])
    project = Project(motion, anchors)
    project.segments = list(draw(st.permutations(segments)))  # the document keeps whatever order it is given
    return project, n


@_SETTINGS
@given(documents(), st.data())
def test_moved_anchors_stop_at_the_clip_and_carry_the_edges_of_their_signs(qapp, case, data) -> None:
    project, n = case
    doc = Document(project)
    before_anchors, before_segments = doc.anchors, list(doc.project.segments)
    ids = tuple(data.draw(st.sets(st.sampled_from([a.id for a in doc.anchors]), min_size=1), "ids"))
    delta = data.draw(st.integers(-n - 2, n + 2), "delta")
    doc.undo_stack.push(commands.move_anchors(doc, ids, delta))
    landed = {}
    for old in before_anchors:
        new = doc.anchors.by_id(old.id)
        expected = min(max(old.frame + delta, 0), n - 1) if old.id in ids else old.frame
        assert new.frame == expected, (old.frame, delta)
        if old.id in ids:
            landed[old.frame] = new.frame
    for old, new in zip(before_segments, doc.project.segments, strict=True):
        start = min(max(landed.get(old.start, old.start), 0), n - 1)
        end = min(max(landed.get(old.end - 1, old.end - 1) + 1, start + 1), n)
        assert (new.start, new.end, new.gloss) == (start, end, old.gloss), (old, landed)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.anchors == before_anchors and doc.project.segments == before_segments


@_SETTINGS
@given(documents(), st.data())
def test_a_span_action_covers_the_selection_or_the_stretch_between_the_neighbours(qapp, case, data) -> None:
    project, n = case
    doc = Document(project)
    ids = tuple(data.draw(st.sets(st.sampled_from([a.id for a in doc.anchors]), max_size=3), "ids"))
    playhead = data.draw(st.integers(0, n - 1), "playhead")
    frames = sorted(doc.anchors.by_id(i).frame for i in ids)
    if len(set(frames)) >= 2:
        expected = (frames[0], frames[-1] + 1)
    else:
        centre = frames[0] if frames else playhead
        before = [a.frame for a in doc.anchors if a.frame < centre]
        after = [a.frame for a in doc.anchors if a.frame > centre]
        expected = (max(before) if before else 0, min(after) + 1 if after else n)
    assert commands.selection_span(doc, ids, playhead) == expected


@_SETTINGS
@given(documents(), st.data())
def test_a_dragged_sign_edge_keeps_a_frame_and_stays_in_the_clip(qapp, case, data) -> None:
    project, n = case
    if not project.segments:
        return
    doc = Document(project)
    index = data.draw(st.integers(0, len(project.segments) - 1), "index")
    side = data.draw(st.sampled_from(["start", "end"]), "side")
    frame = data.draw(st.integers(-3, n + 3), "frame")
    old = list(doc.project.segments)
    doc.undo_stack.push(commands.move_segment_boundary(doc, index, side, frame))
    segment = old[index]
    if side == "start":
        bounds = (min(max(frame, 0), segment.end - 1), segment.end)
    else:
        bounds = (segment.start, max(min(frame, n), segment.start + 1))
    new = doc.project.segments
    assert (new[index].start, new[index].end, new[index].gloss) == (*bounds, segment.gloss)
    assert [s for i, s in enumerate(new) if i != index] == [s for i, s in enumerate(old) if i != index]
    doc.undo_stack.undo()
    assert doc.project.segments == old


@_SETTINGS
@given(documents(), st.data())
def test_an_inserted_anchor_is_named_after_the_sign_and_frame_it_lands_on(case, data) -> None:
    project, n = case  # the names never read the document: no Qt needed
    frame = data.draw(st.integers(-1, n), "frame")
    in_time_order = sorted(project.segments, key=lambda s: s.start)
    covering = [(i, s) for i, s in enumerate(in_time_order) if s.start <= frame < s.end]
    if covering:
        i, s = covering[0]
        expected = f"{s.gloss or f'SIGN{i + 1}'} frame {frame - s.start}"
    else:
        expected = f"frame {frame}"
    assert commands.inserted_anchor_label(project.segments, frame) == expected
