"""ELAN (.eaf) export and import of sign segments, so annotators can check FAST's output in ELAN.

Segments become annotations of one tier (default "Sign") with times in
milliseconds; the annotation value is the gloss (or SIGN<n> when unknown)
and the confidence goes into the annotation text only when asked, because
ELAN has no numeric field for it.
"""

from __future__ import annotations

from pathlib import Path

from signeditor.core.segments import Segment
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError

SIGN_TIER = "Sign"
#: The gloss of each sign, on the sign's time span: what annotators read and correct.
GLOSS_TIER = "Gloss"


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
) -> None:
    """Write ``segments`` (frames at ``fps``) as annotations of ``tier`` to an .eaf file, atomically.

    With ``n_frames``, segments are clipped to the clip so ELAN never shows a sign past the media's end.
    """
    import pympi

    if n_frames is not None:
        segments = [s.with_bounds(s.start, min(s.end, n_frames)) for s in segments if s.start < n_frames]
    eaf = pympi.Elan.Eaf(author="SignEditor")
    if media:
        eaf.add_linked_file(media, mimetype="video/mp4" if media.endswith(".mp4") else None)
    eaf.add_tier(tier)
    glossed = any(seg.gloss for seg in segments)
    if glossed:
        eaf.add_tier(GLOSS_TIER)
    for index, seg in enumerate(sorted(segments, key=lambda s: s.start)):
        start, end = _frame_to_ms(seg.start, fps), _frame_to_ms(seg.end, fps)
        end = max(end, start + 1)
        eaf.add_annotation(tier, start, end, seg.gloss or f"SIGN{index + 1}")
        if glossed and seg.gloss:
            eaf.add_annotation(GLOSS_TIER, start, end, seg.gloss)
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


def read_elan(path: str | Path, fps: float, tier: str = SIGN_TIER) -> list[Segment]:
    """Segments of ``tier`` in frames at ``fps`` (start rounded down, end rounded up)."""
    import math

    import pympi

    path = Path(path)
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as exc:  # pympi raises parser errors of several types
        raise FileFormatError(path, f"not a readable ELAN file ({type(exc).__name__}: {exc})") from exc
    if tier not in eaf.get_tier_names():
        raise FileFormatError(path, f"no tier {tier!r} (tiers: {sorted(eaf.get_tier_names())})")
    segments = []
    for start_ms, end_ms, value, *_ in sorted(eaf.get_annotation_data_for_tier(tier)):
        start = math.floor(start_ms * fps / 1000.0 + 1e-6)
        end = max(math.ceil(end_ms * fps / 1000.0 - 1e-6), start + 1)
        segments.append(Segment(start, end, str(value)))
    return segments
