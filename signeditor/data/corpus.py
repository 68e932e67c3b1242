"""Reader of the corpus that ``signeditor data build`` writes (index.json + clips/<id>.npz).

Every training and evaluation helper goes through this one reader so the
contract (field names, splits, array names) lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from signeditor.io.errors import FileFormatError

CORPUS_VERSION = 1
CORPUS_FPS = 25.0
SPLITS: tuple[str, ...] = ("train", "val", "test")
ARRAY_NAMES: tuple[str, ...] = ("features", "filled", "labels", "keypoints", "keypoint_names", "keypoint_observed",
                                 "stitched")
#: Datasets of natural continuous signing (real signers filmed signing whole sentences): no stitched joins.
#: The DGS sentences are continuous too but stitched (gloss spans re-joined with inserted straight lines).
NATURAL_CONTINUOUS_DATASETS = frozenset({"how2sign_sentences", "phoenix_ptslp"})


@dataclass(frozen=True)
class ClipRecord:
    """One clip's index entry; ``load()`` reads its arrays on demand (clips are too many to keep in memory)."""

    id: str
    dataset: str
    source: str
    split: str
    signed_language: str
    spoken_language: str
    text: str
    glosses: list[str]
    n_frames: int
    has_labels: bool
    kind: str
    #: Frames of inserted straight-line transitions (stitched files), masked out of losses and metrics.
    stitched_frames: int = 0
    #: The labels are the exact spans between the inserted transitions, one per gloss.
    gloss_spans_exact: bool = False
    root: Path | None = field(default=None, compare=False)

    @property
    def natural_continuous(self) -> bool:
        """Natural continuous signing: a sentence from a natural-signing dataset with nothing stitched."""
        return self.dataset in NATURAL_CONTINUOUS_DATASETS and self.kind == "sentence" and not self.stitched_frames

    def to_json(self) -> dict:
        record = asdict(self)
        record.pop("root")
        return record

    @property
    def clip_path(self) -> Path:
        if self.root is None:
            raise ValueError(f"clip {self.id} has no corpus root to load from")
        return self.root / "clips" / f"{self.id}.npz"

    def load(self) -> dict[str, np.ndarray]:
        """The clip's arrays: features, filled, labels, keypoints, keypoint_names, keypoint_observed, stitched
        (a corpus built before the stitched mask gets an all-False one)."""
        path = self.clip_path
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            arrays.setdefault("stitched", np.zeros(len(arrays["features"]), dtype=bool))
            return arrays
        except (OSError, ValueError, KeyError) as exc:
            raise FileFormatError(path, f"cannot read clip arrays ({exc})") from exc


def record_from_json(entry: dict, root: Path | None) -> ClipRecord:
    return ClipRecord(
        id=str(entry["id"]), dataset=str(entry["dataset"]), source=str(entry["source"]), split=str(entry["split"]),
        signed_language=str(entry["signed_language"]), spoken_language=str(entry["spoken_language"]),
        text=str(entry["text"]), glosses=[str(g) for g in entry["glosses"]], n_frames=int(entry["n_frames"]),
        has_labels=bool(entry["has_labels"]), kind=str(entry["kind"]),
        stitched_frames=int(entry.get("stitched_frames", 0)), gloss_spans_exact=bool(entry.get("gloss_spans_exact")),
        root=root,
    )


def load_corpus(path: str | Path) -> list[ClipRecord]:
    """Records of a corpus folder (or its index.json), in index order."""
    path = Path(path)
    index_path = path if path.suffix == ".json" else path / "index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        return [record_from_json(entry, index_path.parent) for entry in index["clips"]]
    except OSError as exc:
        raise FileFormatError(index_path, f"cannot read the corpus index ({exc.strerror or exc})") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(index_path, f"malformed corpus index ({exc!r})") from exc


def clips_for_split(records: list[ClipRecord], split: str) -> list[ClipRecord]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return [r for r in records if r.split == split]
