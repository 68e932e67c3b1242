"""Build the training/evaluation corpus: fit every clip, resample to 25 fps, label, write npz + index.json.

Re-runnable: a clip whose npz and record are newer than its inputs and were
made by this build version is reused, so a rerun after adding data only fits
the new clips. Output bytes do not depend on time or order of processing.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.ik import fit_features
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment
from signeditor.core.stitching import find_linear_runs, gloss_spans_from_runs, stitched_frame_mask
from signeditor.data.corpus import CORPUS_FPS, CORPUS_VERSION, ClipRecord, record_from_json
from signeditor.data.labels import (
    activity_segment,
    bridge_gaps,
    gloss_segments,
    hand_activity,
    labels_for,
    unknown_labels,
)
from signeditor.data.sources import ClipSource, RawPoints, all_sources
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError
from signeditor.io.pose_reader import PoseKeypoints

#: Bump when the fitting or labelling changes, so reruns refit every clip.
BUILD_VERSION = 6
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class BuildReport:
    built: int = 0
    reused: int = 0
    skipped: int = 0
    #: Clips with inserted straight-line transitions, and how many of their frames are masked out.
    stitched_clips: int = 0
    masked_frames: int = 0
    #: Stitched files whose transitions did not give one span per gloss (labels fell back to the timing).
    label_fallbacks: list[str] = field(default_factory=list)


def resample_keypoints(keypoints: PoseKeypoints, fps: float, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (linear) and observed flags (nearest) at ``fps``, on the same clock as Motion.resampled."""
    n = keypoints.n_frames
    times = np.clip(np.arange(n_out) / fps * keypoints.fps, 0, n - 1)
    lo = np.floor(times).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (times - lo)[:, None, None]
    positions = keypoints.positions[lo] * (1 - w) + keypoints.positions[hi] * w
    observed = keypoints.observed[np.clip(np.round(times).astype(int), 0, n - 1)]
    return positions, observed


def stitched_frames_at(raw: RawPoints, n_frames: int, fps: float = CORPUS_FPS) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The inserted straight-line transitions of a file's raw points (in its own frames) and the mask of the
    ``n_frames`` frames at ``fps`` (a resampled motion of it) that fall on them."""
    runs = find_linear_runs(raw.points, raw.valid)
    source_frames = np.clip(np.round(np.arange(n_frames) / fps * raw.fps).astype(int), 0, len(raw.points) - 1)
    return runs, stitched_frame_mask(len(raw.points), runs)[source_frames]


def stitched_runs(source: ClipSource, n_frames: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """:func:`stitched_frames_at` for a corpus source; no runs for a source without raw points."""
    if source.raw is None:
        return [], np.zeros(n_frames, dtype=bool)
    return stitched_frames_at(source.raw(), n_frames)


def stitched_gloss_labels(source: ClipSource, stitched: np.ndarray) -> np.ndarray | None:
    """Exact sign labels of a stitched sentence: the spans between its transitions, one per gloss in order;
    None when the count does not match the gloss list (or nothing is stitched)."""
    if not source.glosses or not stitched.any():
        return None
    n = len(stitched)
    edges = np.diff(np.concatenate([[0], stitched.astype(np.int8), [0]]))
    runs = list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))
    spans = gloss_spans_from_runs(n, runs, len(source.glosses))
    if spans is None:
        return None
    return labels_for([Segment(a, b, g) for (a, b), g in zip(spans, source.glosses, strict=True)], n)


def clip_labels(source: ClipSource, names: tuple[str, ...], positions: np.ndarray, observed: np.ndarray) -> np.ndarray:
    n = positions.shape[0]
    if source.labelling == "timing" and source.timing is not None:
        timing = source.timing
        return labels_for(gloss_segments(timing.glosses, timing.starts_ms, timing.ends_ms, timing.span_ms, n), n)
    if source.labelling == "activity":
        segment = activity_segment(bridge_gaps(hand_activity(names, positions, observed)),
                                   source.glosses[0] if source.glosses else "")
        return unknown_labels(n) if segment is None else labels_for([segment], n)
    return unknown_labels(n)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An np.load-compatible .npz with fixed timestamps, so identical clips give identical files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            array_buffer = io.BytesIO()
            np.lib.format.write_array(array_buffer, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME), array_buffer.getvalue())
    return buffer.getvalue()


def build_clip(source: ClipSource, log: Callable[[str], None] = print) -> tuple[dict[str, np.ndarray], ClipRecord]:
    """Fit and label one clip; raises FileFormatError (or ValueError) for unusable input.

    Inserted straight-line transitions (stitched files) are stored as the ``stitched`` frame mask, which
    every training loss and metric leaves out; on a stitched sentence they also give the exact sign spans.
    """
    keypoints = source.load()
    features, filled = fit_features(keypoints)
    motion = Motion(keypoints.fps, features, filled=filled).resampled(CORPUS_FPS)
    positions, observed = resample_keypoints(keypoints, CORPUS_FPS, motion.n_frames)
    runs, stitched = stitched_runs(source, motion.n_frames)
    labels = stitched_gloss_labels(source, stitched)
    exact = labels is not None
    if not exact:
        if runs and source.glosses:
            fallback = "labels fall back to the sentence timing" if source.labelling == "timing" else "unlabelled"
            log(f"{source.source}: {len(runs)} inserted transitions for {len(source.glosses)} glosses; {fallback}")
        labels = clip_labels(source, keypoints.names, positions, observed)
    arrays = {
        "features": motion.features.astype(np.float32),
        "filled": np.asarray(motion.filled, dtype=bool),
        "labels": labels.astype(np.int8),
        "keypoints": positions.astype(np.float32),
        "keypoint_names": np.array(keypoints.names, dtype=np.str_),
        # Beyond the contract (additive): which keypoints were really detected, so evaluation can skip filled ones.
        "keypoint_observed": observed.astype(bool),
        # Inserted straight-line transition frames: not signing, left out of every loss and metric.
        "stitched": stitched,
    }
    record = ClipRecord(source.id, source.dataset, source.source, source.split, source.signed_language,
                        source.spoken_language, source.text, list(source.glosses), motion.n_frames,
                        bool(np.any(labels >= 0)), source.kind, int(stitched.sum()), exact)
    return arrays, record


def _up_to_date(source: ClipSource, npz_path: Path, record_path: Path) -> ClipRecord | None:
    """The stored record when the clip's outputs are newer than its inputs and from this build version."""
    try:
        stored = json.loads(record_path.read_text(encoding="utf-8"))
        newest_input = max(p.stat().st_mtime for p in source.inputs)
        if stored.get("build_version") != BUILD_VERSION or npz_path.stat().st_mtime < newest_input:
            return None
        if record_path.stat().st_mtime < newest_input or stored["record"]["id"] != source.id:
            return None
        return record_from_json(stored["record"], npz_path.parent.parent)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove_orphans(clips_dir: Path, keep: set[str]) -> None:
    """Delete clip files of sources that no longer exist, so the folder matches the index."""
    for path in sorted(clips_dir.glob("*.npz")) + sorted(clips_dir.glob("*.json")):
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def build_corpus(
    root: str | Path, out: str | Path, *, force: bool = False, progress: Callable[[list], object] | None = None,
    log: Callable[[str], None] = print, datasets: set[str] | None = None,
) -> tuple[list[ClipRecord], BuildReport]:
    """Build (or update) the corpus at ``out`` from the data folder ``root``; index.json is written last."""
    root, out = Path(root), Path(out)
    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    sources = [s for s in all_sources(root) if datasets is None or s.dataset in datasets]
    records: list[ClipRecord] = []
    report = BuildReport()
    iterator = progress(sources) if progress is not None else sources
    for source in iterator:  # type: ignore[union-attr]
        npz_path, record_path = clips_dir / f"{source.id}.npz", clips_dir / f"{source.id}.json"
        reused = None if force else _up_to_date(source, npz_path, record_path)
        if reused is not None:
            records.append(reused)
            report.reused += 1
            continue
        try:
            arrays, record = build_clip(source, log)
        except (FileFormatError, ValueError, OSError) as exc:
            log(f"skip {source.source}: {exc}")
            report.skipped += 1
            continue
        write_bytes_atomically(npz_path, npz_bytes(arrays))
        stored = {"build_version": BUILD_VERSION, "record": record.to_json()}
        write_bytes_atomically(record_path, json.dumps(stored, indent=1, sort_keys=True).encode("utf-8"))
        records.append(ClipRecord(**{**record.to_json(), "root": out}))
        report.built += 1
    records.sort(key=lambda r: r.id)
    for record in records:
        if record.stitched_frames:
            report.stitched_clips += 1
            report.masked_frames += record.stitched_frames
            if record.glosses and not record.gloss_spans_exact:
                report.label_fallbacks.append(record.source)
    if datasets is None:
        _remove_orphans(clips_dir, {r.id for r in records} | {s.id for s in sources})
    index = {"version": CORPUS_VERSION, "fps": CORPUS_FPS, "clips": [r.to_json() for r in records]}
    write_bytes_atomically(out / "index.json", json.dumps(index, indent=1, ensure_ascii=False).encode("utf-8"))
    return records, report
