"""Lexicon clips as editable motion, with the span FAST finds the sign in; cached in memory and on disk.

Fitting rotations to a clip's keypoints and segmenting it are the slow,
repeatable part of a draft, and a lexicon is reused for every sentence, so
both are cached per clip, keyed by the file's content hash (a renamed or
touched file is still a hit, an edited one is not) and the clip's time span.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.keyframes import anchors_from_segments
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import Motion
from signeditor.core.protocols import Segmenter
from signeditor.core.segments import Segment
from signeditor.core.sign_edits import SignTemplate
from signeditor.core.skeleton import WRIST_AND_HAND_POINT_INDICES
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.lexicon import LexiconEntry

DRAFT_FPS = 25.0
#: Bumped whenever IK, segmentation or this module change what a cached clip holds.
CACHE_VERSION = 5
#: Gaussian smoothing of fitted clips (frames, held at the ends): removes the IK's frame-to-frame jitter.
SMOOTH_SIGMA_FRAMES = 1.0
#: Hand speed (m/s) above which a sign's edge frames count as still moving in or out (see settled_span).
EDGE_SPEED_M_S = 0.8
EDGE_TRIM_FRACTION = 0.35
#: Default cut-off of :func:`low_pass` (Hz).
LOW_PASS_HZ = 6.0


def default_cache_dir() -> Path:
    """Per-user cache folder (``$XDG_CACHE_HOME/signeditor/draft_clips``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "signeditor" / "draft_clips"


@dataclass(frozen=True)
class SignClip:
    """A lexicon clip at the draft frame rate; ``segments`` are FAST's signs in it (clip frames)."""

    motion: Motion
    segments: tuple[Segment, ...]

    @property
    def sign_span(self) -> tuple[int, int]:
        """Frames from the first sign's onset to the last sign's offset: the part a draft keeps as is.

        A lexicon clip holds one sign (maybe with several movements FAST splits),
        framed by preparation from and retraction to rest, which the draft
        replaces by transitions. Without any FAST segment the whole clip is kept.
        """
        if not self.segments:
            return 0, self.motion.n_frames
        return min(s.start for s in self.segments), max(s.end for s in self.segments)


def _cache_key(data: bytes, entry: LexiconEntry, segmenter_id: str, smooth_sigma: float) -> str:
    digest = hashlib.sha256(data)
    digest.update(f"|{entry.start}|{entry.end}|{DRAFT_FPS}|{CACHE_VERSION}|{segmenter_id}|{smooth_sigma}".encode())
    return digest.hexdigest()[:32]


def hand_speed(features: np.ndarray, fps: float) -> np.ndarray:
    """Mean speed (m/s) of the wrist and finger joints between consecutive frames, (T-1,)."""
    positions = forward_kinematics(features)[:, list(WRIST_AND_HAND_POINT_INDICES)]
    return np.linalg.norm(np.diff(positions, axis=0), axis=-1).mean(axis=1) * fps


def settled_span(motion: Motion, start: int, stop: int, max_speed: float = EDGE_SPEED_M_S,
                 max_trim: float = EDGE_TRIM_FRACTION, min_frames: int = 5) -> tuple[int, int]:
    """``[start, stop)`` without edge frames where the hands still move fast into or out of the sign.

    Letters cut from continuous fingerspelling, and signs FAST bounds
    generously, begin and end mid-movement; keeping those frames would make
    the draft's transitions start at full speed. They are dropped (at most
    ``max_trim`` of the span per side) so transitions run from a settled pose.
    """
    if stop - start <= min_frames:
        return start, stop
    speed = hand_speed(motion.features[start:stop], motion.fps)
    limit = int((stop - start) * max_trim)
    head = 0
    while head < limit and speed[head] > max_speed:
        head += 1
    tail = 0
    while tail < limit and speed[len(speed) - 1 - tail] > max_speed:
        tail += 1
    if stop - start - head - tail < min_frames:
        return start, stop
    return start + head, stop - tail


def low_pass(features: np.ndarray, fps: float, cutoff_hz: float = LOW_PASS_HZ) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass of 6D features over time, re-orthonormalised.

    The same filter spoken-to-signed runs over its joined keypoints; here it
    removes the IK's frame-to-frame jitter while keeping handshape changes
    (well below 6 Hz). Clips too short for filtfilt's edge padding get a
    one-frame Gaussian instead.
    """
    n = features.shape[0]
    if cutoff_hz <= 0 or n < 3:
        return features
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import butter, filtfilt

    b, a = butter(4, min(cutoff_hz / (fps / 2), 0.99), btype="low")
    data = features.astype(np.float64)
    if n > 3 * max(len(a), len(b)):
        smoothed = filtfilt(b, a, data, axis=0)
    else:
        smoothed = gaussian_filter1d(data, 1.0, axis=0, mode="nearest")
    return rotations.orthonormalize_rot6d(smoothed.reshape(n, -1, 6)).reshape(n, -1).astype(np.float32)


def crop_ms(motion: Motion, start_ms: int, end_ms: int) -> Motion:
    """The part of ``motion`` between ``start_ms`` and ``end_ms`` (0 = to the end), at least one frame."""
    first = min(round(start_ms / 1000.0 * motion.fps), motion.n_frames - 1)
    stop = motion.n_frames if end_ms <= 0 else round(end_ms / 1000.0 * motion.fps)
    return motion.slice(first, max(first + 1, min(stop, motion.n_frames)))


class ClipLibrary:
    """Loads lexicon clips as :class:`SignClip`; thread-safe, so a GUI worker and the CLI can share one."""

    def __init__(self, segmenter: Segmenter | None = None, cache_dir: Path | None = None,
                 segmenter_id: str = "fast", smooth_sigma: float = SMOOTH_SIGMA_FRAMES) -> None:
        #: Anything with ``segment(motion) -> list[Segment]``; None keeps whole clips.
        self.segmenter = segmenter
        self.segmenter_id = segmenter_id if segmenter is not None else "none"
        self.cache_dir = cache_dir
        self.smooth_sigma = smooth_sigma
        self._memory: dict[tuple[Path, int, int], SignClip] = {}
        self._lock = threading.Lock()

    def _read_cached(self, key: str) -> SignClip | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as arrays:
                motion = Motion(float(arrays["fps"]), arrays["features"], None, arrays["filled"].astype(bool))
                spans = arrays["segments"].reshape(-1, 2)
        except (OSError, KeyError, ValueError):
            return None  # absent or damaged: recompute and overwrite
        return SignClip(motion, tuple(Segment(int(a), int(b)) for a, b in spans if b > a))

    def _write_cached(self, key: str, clip: SignClip) -> None:
        if self.cache_dir is None:
            return
        buffer = io.BytesIO()
        spans = np.array([[s.start, s.end] for s in clip.segments], dtype=np.int64).reshape(-1, 2)
        np.savez(buffer, fps=np.float64(clip.motion.fps), features=clip.motion.features,
                 filled=clip.motion.filled, segments=spans)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(self.cache_dir / f"{key}.npz", buffer.getvalue())
        except OSError:
            pass  # a read-only cache only costs speed

    def load(self, entry: LexiconEntry) -> SignClip:
        """The clip of ``entry``; FileFormatError names the clip file when it cannot be read."""
        memo_key = (entry.path, entry.start, entry.end)
        with self._lock:
            cached = self._memory.get(memo_key)
            if cached is not None:
                return cached
            data = read_file_bytes(entry.path)
            key = _cache_key(data, entry, self.segmenter_id, self.smooth_sigma)
            clip = self._read_cached(key)
            if clip is None:
                clip = self._compute(entry)
                self._write_cached(key, clip)
            self._memory[memo_key] = clip
            return clip

    def _compute(self, entry: LexiconEntry) -> SignClip:
        from scipy.ndimage import gaussian_filter1d

        from signeditor.io.pose_import import motion_from_pose_file

        motion = crop_ms(motion_from_pose_file(entry.path, fps=DRAFT_FPS), entry.start, entry.end)
        if self.smooth_sigma > 0:
            smoothed = gaussian_filter1d(motion.features.astype(np.float64), self.smooth_sigma, axis=0, mode="nearest")
            n = motion.n_frames
            features = rotations.orthonormalize_rot6d(smoothed.reshape(n, -1, 6)).reshape(n, -1)
            motion = Motion(motion.fps, features.astype(np.float32), None, motion.filled)
        if motion.n_frames < 2:
            raise FileFormatError(entry.path, f"the clip for {entry.gloss!r} has fewer than 2 frames")
        segments: tuple[Segment, ...] = ()
        if self.segmenter is not None:
            found = [Segment(s.start, s.end) for s in self.segmenter.segment(motion)]
            if found:
                first, last = settled_span(motion, min(s.start for s in found), max(s.end for s in found))
                segments = tuple(Segment(max(s.start, first), min(s.end, last)) for s in found
                                 if min(s.end, last) > max(s.start, first))
        return SignClip(motion, segments)


def sign_template(clip: SignClip, gloss: str, policy: str = "onset_middle_offset") -> SignTemplate:
    """The clip's sign (its FAST span) as a template for the timeline: its own frames and its anchors."""
    start, stop = clip.sign_span
    spans = [Segment(max(s.start, start) - start, min(s.end, stop) - start, gloss) for s in clip.segments
             if min(s.end, stop) > max(s.start, start)] or [Segment(0, stop - start, gloss)]
    core = clip.motion.slice(start, stop)
    anchors = anchors_from_segments(core, spans, policy=policy)
    return SignTemplate(gloss, core.features.copy(), tuple(anchors))
