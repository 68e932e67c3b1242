"""Keyframe policies: which frames of segmented signs become editable anchors.

Onset, middle and offset of each sign are where a sign's handshape and
location are most characteristic, so pinning them lets the generator redo
the transitions while the sign itself keeps its form.
"""

from __future__ import annotations

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment

POLICIES: tuple[str, ...] = ("onset_middle_offset", "onset_offset", "every_n")


def _frames_for(segment: Segment, policy: str, every: int) -> list[tuple[int, str]]:
    last = segment.end - 1
    if policy == "onset_offset":
        return [(segment.start, "onset"), (last, "offset")]
    if policy == "onset_middle_offset":
        return [(segment.start, "onset"), (segment.middle, "middle"), (last, "offset")]
    frames = list(range(segment.start, segment.end, every))
    if frames[-1] != last:
        frames.append(last)
    return [(f, f"frame {f - segment.start}") for f in frames]


def anchors_from_segments(
    motion: Motion, segments: list[Segment], policy: str = "onset_middle_offset", every: int = 8
) -> AnchorSet:
    """Anchors at the policy's frames of each sign, posed as the motion is there.

    Frames shared by two signs (an offset that is the next onset) yield one
    anchor, labelled by the earlier sign, so anchors never overlap.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown keyframe policy {policy!r}; choose one of {POLICIES}")
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    anchors: list[Anchor] = []
    taken: set[int] = set()
    for index, segment in enumerate(sorted(segments, key=lambda s: s.start)):
        name = segment.gloss or f"SIGN{index + 1}"
        for frame, role in _frames_for(segment, policy, every):
            frame = min(max(frame, 0), motion.n_frames - 1)
            if frame in taken:
                continue
            taken.add(frame)
            anchors.append(Anchor(frame, motion.features[frame].copy(), label=f"{name} {role}"))
    return AnchorSet(anchors)


#: Roles of the anchors placed on a sign by ``onset_middle_offset`` / ``onset_offset`` (labels "GLOSS role").
SIGN_ANCHOR_ROLES: tuple[str, ...] = ("onset", "middle", "offset")


def anchors_following_signs(anchors: AnchorSet, motion: Motion, segments: list[Segment]) -> AnchorSet:
    """The anchors after the signs were laid anew (gloss alignment): every anchor placed on a sign (labelled
    "GLOSS onset|middle|offset") gives way to the new signs' onset, middle and offset anchors, posed as the
    motion is there; the user's other anchors stay unless a new anchor takes their frame."""
    placed = anchors_from_segments(motion, segments)
    taken = set(placed.frames)
    kept = [a for a in anchors
            if a.label.rpartition(" ")[2] not in SIGN_ANCHOR_ROLES and a.frame not in taken]
    return AnchorSet([*kept, *placed])
