"""RWTH-BOSTON-104 in its shared layout: ``hands.csv`` (2D hand and nose tracks) + ``*_words.csv`` (word timing).

The only natural continuous signing here with hand-made sign timing, so it
trains the track segmenter and judges every segmenter on natural signing.
Sentences are split by a hash of their video id, so the split never changes
when files are added and a sentence never moves between parts: ``test`` is
never used to choose anything, ``val`` chooses checkpoints and decoding.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core.segments import Segment
from signeditor.io.errors import FileFormatError

BOSTON_FPS = 30.0
SPLITS: tuple[str, ...] = ("train", "val", "test")
_HAND_COLUMNS = ("left-x", "left-y", "right-x", "right-y", "nose-x", "nose-y")


@dataclass(frozen=True)
class TrackSentence:
    """One sentence: (T, 3, 2) tracks in the canonical frame (x to the signer's right, y up) and its signs."""

    name: str
    tracks: np.ndarray
    signs: tuple[Segment, ...]
    fps: float = BOSTON_FPS

    @property
    def n_frames(self) -> int:
        return len(self.tracks)

    @property
    def glosses(self) -> list[str]:
        return [s.gloss for s in self.signs]


def split_of(name: str) -> str:
    """``train`` (60%), ``val`` (20%) or ``test`` (20%) by a hash of the sentence name."""
    bucket = int(hashlib.sha1(f"boston104:{name}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 60 else "val" if bucket < 80 else "test"


def is_boston_folder(folder: Path) -> bool:
    return (folder / "hands.csv").is_file() and any(folder.glob("*_words.csv"))


def _read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise FileFormatError(path, f"missing columns {missing} (has {reader.fieldnames})")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileFormatError(path, f"cannot read ({exc})") from exc


def _signs_by_video(folder: Path) -> dict[str, list[Segment]]:
    signs: dict[str, list[Segment]] = {}
    for path in sorted(folder.glob("*_words.csv")):
        for row in _read_rows(path, ("video", "word", "startframe", "endframe")):
            try:
                start, last = int(row["startframe"]), int(row["endframe"])
            except ValueError as exc:
                raise FileFormatError(path, f"bad frame numbers in row {row}") from exc
            signs.setdefault(row["video"], []).append(Segment(start, max(last + 1, start + 1), row["word"]))
    return signs


def load_boston(folder: str | Path, splits: tuple[str, ...] = SPLITS) -> list[TrackSentence]:
    """Sentences of ``folder`` in the given splits, sorted by video id."""
    folder = Path(folder)
    if not is_boston_folder(folder):
        raise FileFormatError(folder, "not a BOSTON-104 folder (expected hands.csv and *_words.csv)")
    signs = _signs_by_video(folder)
    frames: dict[str, list[tuple[int, list[float]]]] = {}
    hands_path = folder / "hands.csv"
    for row in _read_rows(hands_path, ("video", "frame", *_HAND_COLUMNS)):
        try:
            frames.setdefault(row["video"], []).append((int(row["frame"]), [float(row[c]) for c in _HAND_COLUMNS]))
        except ValueError as exc:
            raise FileFormatError(hands_path, f"bad number in row {row}") from exc
    sentences = []
    for video in sorted(signs, key=lambda v: (len(v), v)):
        if video not in frames or split_of(video) not in splits:
            continue
        rows = sorted(frames[video])
        pixels = np.asarray([values for _, values in rows], dtype=np.float64).reshape(-1, 3, 2)
        tracks = pixels * np.array([1.0, -1.0])  # image y points down
        n = len(tracks)
        ordered = sorted(signs[video], key=lambda s: s.start)
        clipped = tuple(s.with_bounds(s.start, min(s.end, n)) for s in ordered if s.start < n)
        sentences.append(TrackSentence(video, tracks, clipped))
    return sentences
