"""ELAN (.eaf) export and import of sign segments, so annotators can check FAST's output in ELAN.

Segments become annotations of one tier (default "Sign") with times in
milliseconds; the annotation value is the gloss (or SIGN<n> when unknown).
The review travels on two more tiers over the same spans: "Status" (draft /
needs work / approved) and "Comments" (one line per comment), so a reviewer
can work in ELAN beside the reference video and the project can take their
verdicts back (:func:`merge_elan_review`).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from signeditor.core.segments import Segment, parse_review_status
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError

SIGN_TIER = "Sign"
NONMANUAL_TIER = "Non-manual"
#: The gloss of each sign, on the sign's time span: what annotators read and correct.
GLOSS_TIER = "Gloss"
STATUS_TIER = "Status"
COMMENTS_TIER = "Comments"


def _frame_to_ms(frame: int, fps: float) -> int:
    return round(frame * 1000.0 / fps)


def write_elan(
    segments: list[Segment],
    fps: float,
    path: str | Path,
    n_frames: int | None = None,
    *,
    media: str | None = None,
    tier: str = SIGN_TIER,
    media_offset_s: float = 0.0,
    nonmanual: list[tuple[int, int, str]] | None = None,
) -> None:
    """Write ``segments`` (frames at ``fps``) as annotations of ``tier`` to an .eaf file, atomically.

    With ``n_frames``, segments are clipped to the clip so ELAN never shows a sign past the media's end.
    ``media_offset_s``: where the project's time 0 falls in the media (ELAN's time origin).
    ``nonmanual`` spans (start, end, label; e.g. from core.nonmanual.nonmanual_spans) go to a "Non-manual" tier.
    """
    import pympi

    if n_frames is not None:
        segments = [s.with_bounds(s.start, min(s.end, n_frames)) for s in segments if s.start < n_frames]
    eaf = pympi.Elan.Eaf(author="SignEditor")
    if media:
        origin = round(media_offset_s * 1000.0) if media_offset_s > 0 else None
        # pympi knows five suffixes and raises KeyError on others (.mov, .mkv, .webm); ELAN reads "video/*".
        guessed = mimetypes.guess_type(media)[0] or ""
        mimetype = guessed if guessed.startswith(("video/", "audio/")) else "video/*"
        eaf.add_linked_file(media, mimetype=mimetype, time_origin=origin)
    eaf.add_tier(tier)
    glossed = any(seg.gloss for seg in segments)
    if glossed:
        eaf.add_tier(GLOSS_TIER)
    eaf.add_tier(STATUS_TIER)
    eaf.add_tier(COMMENTS_TIER)
    for index, seg in enumerate(sorted(segments, key=lambda s: s.start)):
        start, end = _frame_to_ms(seg.start, fps), _frame_to_ms(seg.end, fps)
        end = max(end, start + 1)
        eaf.add_annotation(tier, start, end, seg.gloss or f"SIGN{index + 1}")
        if glossed and seg.gloss:
            eaf.add_annotation(GLOSS_TIER, start, end, seg.gloss)
        eaf.add_annotation(STATUS_TIER, start, end, seg.status)
        if seg.comments:
            eaf.add_annotation(COMMENTS_TIER, start, end, "\n".join(seg.comments))
    if nonmanual:
        eaf.add_tier(NONMANUAL_TIER)
        for start, end, label in sorted(nonmanual):
            begin = _frame_to_ms(start, fps)
            eaf.add_annotation(NONMANUAL_TIER, begin, max(_frame_to_ms(end, fps), begin + 1), label)
    if "default" in eaf.get_tier_names() and tier != "default":
        eaf.remove_tier("default")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.pympi.tmp")
    try:
        eaf.to_file(str(tmp))
        data = tmp.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    write_bytes_atomically(path, data)


class ReadableEaf(Protocol):
    """What the readers use of pympi's ``Eaf`` (pympi ships no type hints)."""

    def get_tier_names(self) -> Iterable[str]: ...

    def get_annotation_data_for_tier(self, id_tier: str) -> list[tuple[Any, ...]]: ...


def _open_eaf(path: Path) -> ReadableEaf:
    import pympi

    if not path.exists():
        raise FileFormatError(path, "file not found")
    try:
        return pympi.Elan.Eaf(str(path))
    except Exception as exc:  # pympi raises parser errors of several types
        raise FileFormatError(path, f"not a readable ELAN file ({type(exc).__name__}: {exc})") from exc


def read_elan(path: str | Path, fps: float, tier: str = SIGN_TIER) -> list[Segment]:
    """Segments of ``tier`` in frames at ``fps`` (start rounded down, end rounded up, each within half a
    millisecond: the precision of ELAN's times)."""
    import math

    path = Path(path)
    eaf = _open_eaf(path)
    if tier not in eaf.get_tier_names():
        raise FileFormatError(path, f"no tier {tier!r} (tiers: {sorted(eaf.get_tier_names())})")
    segments = []
    for start_ms, end_ms, value in _timed_annotations(eaf, tier, path):
        # ELAN keeps whole milliseconds, so a time stands for any moment up to half a millisecond either side: a
        # frame start written as 33 ms (frame 1 at 30 fps, 33.33 ms) is still frame 1, not frame 0, and a sign
        # exported and read back keeps its frames at every frame rate.
        start = math.floor((start_ms + 0.5) * fps / 1000.0 + 1e-6)
        # A zero-length annotation marks a sign at one moment (a point): it is the one frame holding that moment.
        end = max(math.ceil((end_ms - 0.5) * fps / 1000.0 - 1e-6), start + 1)
        segments.append(Segment(start, end, str(value)))
    return segments


def _timed_annotations(eaf: ReadableEaf, tier: str, path: Path | None = None) -> list[tuple[int, int, str]]:
    """(start ms, end ms, value) of the tier's annotations in time order.

    An annotation whose time slot holds no time (ELAN leaves slots unaligned in chains of annotations it places
    by interpolation) has no place on the clip: with ``path`` it is refused with a FileFormatError naming it,
    without it, it is left out (the caller reports it).
    """
    timed = []
    for start_ms, end_ms, value, *_ in eaf.get_annotation_data_for_tier(tier):
        if start_ms is None or end_ms is None:
            if path is not None:
                raise FileFormatError(path, f"the annotation {str(value)!r} on tier {tier!r} has no time "
                                            "(an unaligned time slot): align it in ELAN")
            continue
        timed.append((int(start_ms), int(end_ms), value))
    return sorted(timed, key=lambda a: (a[0], a[1]))


def read_gloss_sequence(path: str | Path) -> list[str]:
    """The glosses of an ELAN file's gloss tier in time order: the tier named "Gloss", else the first tier whose
    name contains "gloss" (any case). FileFormatError when there is none or it is empty."""
    path = Path(path)
    eaf = _open_eaf(path)
    names = sorted(eaf.get_tier_names())
    candidates = [GLOSS_TIER] if GLOSS_TIER in names else [n for n in names if "gloss" in n.lower()]
    if not candidates:
        raise FileFormatError(path, f"no gloss tier (a tier named {GLOSS_TIER!r} or containing 'gloss'); "
                                    f"tiers: {names}")
    annotations = _timed_annotations(eaf, candidates[0], path)
    glosses = [str(value).strip() for _, _, value in annotations if str(value).strip()]
    if not glosses:
        raise FileFormatError(path, f"the gloss tier {candidates[0]!r} has no annotations")
    return glosses


def _best_match(segments: list[Segment], start: int, end: int) -> int | None:
    """The sign covering most of the span [start, end), if it covers at least half of it or of itself."""
    best, best_overlap = None, 0
    for i, seg in enumerate(segments):
        overlap = min(seg.end, end) - max(seg.start, start)
        if overlap > best_overlap and overlap * 2 >= min(seg.length, max(end - start, 1)):
            best, best_overlap = i, overlap
    return best


def merge_elan_review(segments: list[Segment], path: str | Path, fps: float) -> tuple[list[Segment], list[str]]:
    """The signs with the status and comments a reviewer left in ELAN's Status and Comments tiers.

    Annotations are matched to signs by time overlap, so a reviewer may nudge
    spans; ELAN's comments replace the sign's (the file holds them all, as
    exported). Returns the merged signs and notes on what could not be merged.
    """
    path = Path(path)
    eaf = _open_eaf(path)
    tiers = eaf.get_tier_names()
    if STATUS_TIER not in tiers and COMMENTS_TIER not in tiers:
        raise FileFormatError(path, f"no {STATUS_TIER!r} or {COMMENTS_TIER!r} tier to take a review from "
                                    f"(tiers: {sorted(tiers)})")
    merged = list(segments)
    notes: list[str] = []
    for tier in (STATUS_TIER, COMMENTS_TIER):
        if tier not in tiers:
            continue
        annotations = _timed_annotations(eaf, tier)
        untimed = len(eaf.get_annotation_data_for_tier(tier)) - len(annotations)
        if untimed:
            notes.append(f"{untimed} {tier} annotation(s) have no time (an unaligned time slot): not merged")
        for start_ms, end_ms, value in annotations:
            start = round(start_ms * fps / 1000.0)
            end = max(round(end_ms * fps / 1000.0), start + 1)  # a point annotation marks the frame it falls in
            index = _best_match(merged, start, end)
            where = f"{start_ms / 1000:.2f}–{end_ms / 1000:.2f} s"
            if index is None:
                notes.append(f"{tier} annotation at {where} matches no sign: {value!r}")
                continue
            if tier == STATUS_TIER:
                status = parse_review_status(str(value))
                if status is None:
                    notes.append(f"unknown status {value!r} at {where} (expected draft, needs work or approved)")
                    continue
                merged[index] = merged[index].reviewed(status=status)
            else:
                lines = tuple(line.strip() for line in str(value).splitlines() if line.strip())
                merged[index] = merged[index].reviewed(comments=lines)
    return merged, notes
