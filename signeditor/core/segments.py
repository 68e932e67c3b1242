"""Signs found in a sequence: frame spans with a gloss and a confidence."""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Per-frame segmentation tags (BIO): outside a sign, inside a sign, first frame of a sign.
NON_SIGN, IN_SIGN, SIGN_START = 0, 1, 2
UNKNOWN_LABEL = -1

#: Review status of a sign, in the order a reviewer moves through them.
DRAFT, NEEDS_WORK, APPROVED = "draft", "needs work", "approved"
REVIEW_STATUSES: tuple[str, ...] = (DRAFT, NEEDS_WORK, APPROVED)


def parse_review_status(text: str) -> str | None:
    """A status from a person's spelling ("Needs work", "needs_work", "APPROVED"); None when unknown."""
    key = " ".join(text.replace("_", " ").replace("-", " ").lower().split())
    return key if key in REVIEW_STATUSES else None


@dataclass(frozen=True)
class Segment:
    """A sign spanning frames ``start`` (inclusive) to ``end`` (exclusive), with its review state.

    ``status`` and ``comments`` are what a reviewer says about the sign; they
    travel with it when its boundaries move.
    """

    start: int
    end: int
    gloss: str = ""
    confidence: float = 1.0
    status: str = DRAFT
    comments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"segment must have end > start, got {self.start}..{self.end}")
        if self.status not in REVIEW_STATUSES:
            raise ValueError(f"unknown review status {self.status!r} (expected one of {REVIEW_STATUSES})")
        object.__setattr__(self, "comments", tuple(str(c) for c in self.comments))

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def middle(self) -> int:
        return (self.start + self.end - 1) // 2

    def with_bounds(self, start: int, end: int) -> Segment:
        return replace(self, start=int(start), end=int(end))

    def reviewed(self, status: str | None = None, comments: tuple[str, ...] | None = None) -> Segment:
        return replace(self, status=self.status if status is None else status,
                       comments=self.comments if comments is None else tuple(comments))

    def iou(self, other: Segment) -> float:
        inter = max(0, min(self.end, other.end) - max(self.start, other.start))
        union = max(self.end, other.end) - min(self.start, other.start)
        return inter / union if union > 0 else 0.0


def labels_from_segments(segments: list[Segment], n_frames: int) -> list[int]:
    """Per-frame BIO tags for known segments (what training and evaluation compare against)."""
    labels = [NON_SIGN] * n_frames
    for seg in segments:
        for f in range(max(seg.start, 0), min(seg.end, n_frames)):
            labels[f] = IN_SIGN
        if 0 <= seg.start < n_frames:
            labels[seg.start] = SIGN_START
    return labels


def segments_from_labels(labels: list[int] | tuple[int, ...] | object) -> list[Segment]:
    """Exact inverse of :func:`labels_from_segments` for ground-truth labels (-1 counts as non-sign).

    A sign starts at a 2, or at a 1 that follows a non-sign frame, and runs
    while the frames stay 1.
    """
    values = [int(v) for v in labels]  # type: ignore[union-attr]
    segments: list[Segment] = []
    start: int | None = None
    for f, value in enumerate(values):
        if value == SIGN_START or (value == IN_SIGN and start is None):
            if start is not None:
                segments.append(Segment(start, f))
            start = f
        elif value not in (IN_SIGN, SIGN_START) and start is not None:
            segments.append(Segment(start, f))
            start = None
    if start is not None:
        segments.append(Segment(start, len(values)))
    return segments


def segments_following(segments: list[Segment], moves: dict[int, int], n_frames: int) -> list[Segment]:
    """Signs whose onset (first frame) or offset (last frame) anchor moved, moved with it (``moves``: old -> new).

    A sign stays at least one frame long and inside the clip, so dragging an
    onset past its offset cannot make an invalid bar.
    """
    followed = []
    for segment in segments:
        start = moves.get(segment.start, segment.start)
        end = moves.get(segment.end - 1, segment.end - 1) + 1
        start = min(max(start, 0), n_frames - 1)
        end = min(max(end, start + 1), n_frames)
        followed.append(segment if (start, end) == (segment.start, segment.end) else segment.with_bounds(start, end))
    return followed
