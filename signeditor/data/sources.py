"""Enumerate the clips of every dataset folder in the shared sign data (one ClipSource per output clip).

Each dataset has its own layout and metadata; this module turns them all into
the same description so the build loop is dataset-agnostic.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from signeditor.io.errors import FileFormatError
from signeditor.io.pose_reader import PoseKeypoints, read_pose_keypoints

#: dgs_sentences are held out by sentence number (original and updated file together) so FAST and KF2P
#: always have gloss-timed test sentences: train_5, train_10, train_15 -> test; train_1, train_9 -> val.
DGS_SENTENCE_TEST = frozenset({5, 10, 15})
DGS_SENTENCE_VAL = frozenset({1, 9})
PHOENIX_SPLITS = {"train": "train", "dev": "val", "test": "test"}


@dataclass(frozen=True)
class GlossTiming:
    glosses: list[str]
    starts_ms: list[float]
    ends_ms: list[float]
    span_ms: tuple[float, float]


def read_gloss_timing(meta_path: Path) -> tuple[GlossTiming, str]:
    """Gloss timings and the German sentence from a DGS ``*_metadata.json``; FileFormatError when malformed."""
    try:
        sentence = json.loads(meta_path.read_text(encoding="utf-8"))["sentence"]
        gloss_block = sentence["glosses"]
        timing = GlossTiming(
            [str(g) for g in gloss_block["gloss"]], [float(s) for s in gloss_block["start"]],
            [float(e) for e in gloss_block["end"]], (float(sentence["start"]), float(sentence["end"])))
        return timing, str(sentence.get("german", ""))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(meta_path, f"missing or malformed gloss timings ({exc!r})") from exc


@dataclass(frozen=True)
class RawPoints:
    points: np.ndarray  # (T, P, 3) as stored in the file
    valid: np.ndarray  # (T, P) bool: detected (confidence > 0)
    fps: float


def read_raw_pose_points(path: Path) -> RawPoints:
    """The points of a ``.pose`` file exactly as stored (first person), for the stitched-transition detector."""
    from pose_format import Pose

    try:
        body = Pose.read(path.read_bytes()).body
        points = np.asarray(np.ma.getdata(body.data)[:, 0], dtype=np.float64)
        valid = np.asarray(body.confidence[:, 0]) > 0
        return RawPoints(points, valid, float(body.fps))
    except Exception as exc:  # pose-format raises many types on truncated/corrupt input
        raise FileFormatError(path, f"not a readable .pose file ({exc})") from exc


@dataclass(frozen=True)
class ClipSource:
    """Everything the build needs to produce one clip, before reading any keypoints."""

    id: str
    dataset: str
    source: str  # path relative to the data root (plus "#line" for multi-sequence text files)
    split: str
    signed_language: str
    spoken_language: str
    text: str
    glosses: list[str]
    kind: str
    labelling: str  # "timing" | "activity" | "unknown"
    inputs: tuple[Path, ...]  # files whose change makes the clip stale
    load: Callable[[], PoseKeypoints] = field(compare=False, repr=False)
    timing: GlossTiming | None = None
    #: The file's points as stored (T, P, 3), their validity (T, P) and frame rate, before any lifting or
    #: fitting: what the stitched-transition detector reads (lifting depth bends straight lines).
    raw: Callable[[], RawPoints] | None = field(default=None, compare=False, repr=False)


def hash_split(source: str) -> str:
    """About 80/10/10, stable across machines and runs (a hash of the relative source path)."""
    bucket = int(hashlib.sha1(source.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def clip_id(dataset: str, relative: str) -> str:
    """File-system-safe, unique id; a short hash guards against two names sanitising alike."""
    inside = relative[len(dataset) + 1:] if relative.startswith(dataset + "/") else relative
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", inside.rsplit(".", 1)[0].replace("/", "__")).strip("_")
    digest = hashlib.sha1(relative.encode("utf-8")).hexdigest()[:6]
    return f"{dataset}__{stem}__{digest}"


def _pose_loader(path: Path) -> Callable[[], PoseKeypoints]:
    return lambda: read_pose_keypoints(path)


def _raw_loader(path: Path) -> Callable[[], RawPoints]:
    return lambda: read_raw_pose_points(path)


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"cannot read the index ({exc})") from exc


def dgs_sentences(root: Path) -> Iterator[ClipSource]:
    folder = root / "dgs_sentences"
    for meta_path in sorted(folder.glob("*_metadata.json")):
        base = meta_path.name[: -len("_metadata.json")]
        number_match = re.search(r"(\d+)$", base)
        number = int(number_match.group(1)) if number_match else -1
        split = "test" if number in DGS_SENTENCE_TEST else "val" if number in DGS_SENTENCE_VAL else "train"
        try:
            timing, text = read_gloss_timing(meta_path)
        except FileFormatError as exc:
            print(f"skip: {exc}")
            continue
        for variant in ("original", "updated"):
            pose_path = folder / f"{base}_{variant}.pose"
            if not pose_path.exists():
                continue
            relative = pose_path.relative_to(root).as_posix()
            # The updated file swaps glosses for dictionary forms with their own durations: the sentence's
            # timings do not apply, so it is kept unlabelled (gloss list still given).
            yield ClipSource(clip_id("dgs_sentences", relative), "dgs_sentences", relative, split, "gsg", "de", text,
                             timing.glosses, "sentence", "timing" if variant == "original" else "unknown",
                             (pose_path, meta_path), _pose_loader(pose_path), timing, _raw_loader(pose_path))


def dgs_isolated(root: Path) -> Iterator[ClipSource]:
    for path in sorted((root / "dgs_isolated").glob("*.pose")):
        relative = path.relative_to(root).as_posix()
        isolated = path.stem not in ("sentence", "stitched")
        yield ClipSource(clip_id("dgs_isolated", relative), "dgs_isolated", relative, hash_split(relative), "gsg", "de",
                         path.stem if isolated else "", [path.stem] if isolated else [],
                         "isolated" if isolated else "sentence", "activity" if isolated else "unknown",
                         (path,), _pose_loader(path), raw=_raw_loader(path))


def dsgs_isolated(root: Path) -> Iterator[ClipSource]:
    for path in sorted((root / "dsgs_isolated").glob("*.pose")):
        relative = path.relative_to(root).as_posix()
        yield ClipSource(clip_id("dsgs_isolated", relative), "dsgs_isolated", relative, hash_split(relative), "sgg",
                         "de", "", [], "isolated", "activity", (path,), _pose_loader(path), raw=_raw_loader(path))


def lexicon(root: Path, dataset: str, kind: str) -> Iterator[ClipSource]:
    """Folders in the spoken-to-signed lexicon layout (index.csv: path, languages, words, glosses)."""
    folder = root / dataset
    index_path = folder / "index.csv"
    for row in sorted(_read_csv(index_path), key=lambda r: r.get("path", "")):
        path = folder / row.get("path", "")
        relative = path.relative_to(root).as_posix()
        glosses = [g for g in row.get("glosses", "").split() if g]
        yield ClipSource(clip_id(dataset, relative), dataset, relative, hash_split(relative),
                         row.get("signed_language", ""), row.get("spoken_language", ""), row.get("words", ""), glosses,
                         kind, "activity", (path, index_path), _pose_loader(path), raw=_raw_loader(path))


def phoenix(root: Path) -> Iterator[ClipSource]:
    from signeditor.data.phoenix import raw_skels_line, read_skels_line

    folder = root / "phoenix_ptslp"
    for part, split in PHOENIX_SPLITS.items():
        skels = folder / f"{part}.skels"
        if not skels.exists():
            continue
        lines = skels.read_text(encoding="utf-8").splitlines()
        texts = _lines(folder / f"{part}.text", len(lines))
        glosses = _lines(folder / f"{part}.gloss", len(lines))
        for i, line in enumerate(lines):
            relative = f"{skels.relative_to(root).as_posix()}#{i + 1}"
            yield ClipSource(clip_id("phoenix_ptslp", relative.replace("#", "_")), "phoenix_ptslp", relative, split,
                             "gsg", "de", texts[i], glosses[i].split(), "sentence", "unknown",
                             (skels, folder / f"{part}.text", folder / f"{part}.gloss"),
                             lambda line=line, n=i + 1, p=skels: read_skels_line(line, p, n),
                             raw=lambda line=line, n=i + 1, p=skels: raw_skels_line(line, p, n))


def how2sign_sentences(root: Path) -> Iterator[ClipSource]:
    """Natural continuous ASL sentences (no text or timing): split by file hash like the isolated clips."""
    for path in sorted((root / "how2sign_sentences").glob("*.pose")):
        relative = path.relative_to(root).as_posix()
        yield ClipSource(clip_id("how2sign_sentences", relative), "how2sign_sentences", relative,
                         hash_split(relative), "ase", "en", "", [], "sentence", "unknown", (path,),
                         _pose_loader(path), raw=_raw_loader(path))


def _lines(path: Path, count: int) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    return [s.strip() for s in lines] + [""] * max(0, count - len(lines))


def all_sources(root: Path) -> list[ClipSource]:
    """Every clip of every known dataset present under ``root``, in a fixed order."""
    producers: list[tuple[str, Callable[[], Iterator[ClipSource]]]] = [
        ("dgs_sentences", lambda: dgs_sentences(root)),
        ("dgs_isolated", lambda: dgs_isolated(root)),
        ("dgs_lexicon_dummy", lambda: lexicon(root, "dgs_lexicon_dummy", "isolated")),
        ("dsgs_isolated", lambda: dsgs_isolated(root)),
        ("fingerspelling_lexicon", lambda: lexicon(root, "fingerspelling_lexicon", "fingerspelling")),
        ("phoenix_ptslp", lambda: phoenix(root)),
        ("how2sign_sentences", lambda: how2sign_sentences(root)),
    ]
    sources: list[ClipSource] = []
    for folder, produce in producers:
        if not (root / folder).is_dir():
            continue
        try:
            sources.extend(produce())
        except (FileFormatError, OSError) as exc:
            print(f"skip dataset {folder}: {exc}")
    return sources
