"""The handshape library: one finger pose per fingerspelled letter of each signed language.

Translators build signs from handshapes; a fingerspelling alphabet is each signed
language's own inventory of them, so the library is derived from the corpus's
fingerspelling clips (see :mod:`signeditor.data.handshapes`) and shipped as a small
``.npz`` of finger rotations only (no source keypoints). A handshape covers the 15
finger joints of a hand (the wrist's rotation stays with the arm), stored in the
right hand's frame as the signer's dominant hand; the left hand gets it mirrored.
Letters of two-handed alphabets also keep the non-dominant hand's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core.motion import FEATURE_DIM, STREAM_DIMS, STREAM_SLICES, hand_pose_mirrored
from signeditor.errors import FileFormatError
from signeditor.paths import RESOURCES_DIR

HAND_DIM = STREAM_DIMS["right_hand"]
LIBRARY_VERSION = 1
#: The library shipped with SignEditor (regenerate with ``signeditor data handshapes`` then
#: ``signeditor data handshape-fingers ../shared/signdata/fingerspelling_lexicon``).
DEFAULT_LIBRARY_PATH = RESOURCES_DIR / "handshapes" / "handshapes.npz"
#: Which hands an applied handshape sets.
HAND_TARGETS: tuple[str, ...] = ("right", "left", "both")

#: Display names of the signed languages the corpus has alphabets for (ISO 639-3 codes).
LANGUAGE_NAMES: dict[str, str] = {
    "ase": "American Sign Language", "asq": "Austrian Sign Language", "bzs": "Brazilian Sign Language (Libras)",
    "cse": "Czech Sign Language", "csq": "Croatian Sign Language", "eso": "Estonian Sign Language",
    "gsg": "German Sign Language (DGS)", "gss": "Greek Sign Language", "ise": "Italian Sign Language (LIS)",
    "jos": "Jordanian Sign Language", "lls": "Lithuanian Sign Language", "mfs": "Mexican Sign Language",
    "psr": "Portuguese Sign Language", "sgg": "Swiss-German Sign Language (DSGS)", "ssp": "Spanish Sign Language",
    "svk": "Slovak Sign Language", "swl": "Swedish Sign Language", "tsm": "Turkish Sign Language",
    "ukl": "Ukrainian Sign Language",
}


@dataclass(frozen=True)
class Handshape:
    """One letter's hand pose(s): ``dominant`` in the right hand's frame; ``other`` (left hand's frame) or None."""

    language: str
    letter: str
    dominant: np.ndarray
    other: np.ndarray | None = None
    clips: int = 1

    @property
    def two_handed(self) -> bool:
        return self.other is not None

    @property
    def label(self) -> str:
        return f"{self.letter} (two hands)" if self.two_handed else self.letter


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


class HandshapeLibrary:
    """Handshapes by signed language, letters in alphabet order."""

    def __init__(self, handshapes: list[Handshape]) -> None:
        self.handshapes = sorted(handshapes, key=lambda h: (h.language, h.letter))
        self._by_key = {(h.language, h.letter): h for h in self.handshapes}

    def __len__(self) -> int:
        return len(self.handshapes)

    @property
    def languages(self) -> list[str]:
        return sorted({h.language for h in self.handshapes})

    def for_language(self, language: str) -> list[Handshape]:
        return [h for h in self.handshapes if h.language == language]

    def get(self, language: str, letter: str) -> Handshape:
        try:
            return self._by_key[(language, letter)]
        except KeyError:
            raise KeyError(f"no handshape {letter!r} for {language!r}") from None


def apply_handshape(pose: np.ndarray, handshape: Handshape, hand: str) -> np.ndarray:
    """A copy of ``pose`` (246,) with the handshape's finger rotations on ``hand`` ("right", "left" or "both").

    "left" mirrors the dominant shape onto the left hand; "both" uses the letter's own second hand when the
    alphabet is two-handed, else the mirrored dominant shape.
    """
    if hand not in HAND_TARGETS:
        raise ValueError(f"hand must be one of {HAND_TARGETS}, got {hand!r}")
    result = np.array(pose, dtype=np.float32, copy=True)
    if result.shape != (FEATURE_DIM,):
        raise ValueError(f"a pose has {FEATURE_DIM} values, got {result.shape}")
    if hand in ("right", "both"):
        result[STREAM_SLICES["right_hand"]] = handshape.dominant
    if hand == "left" or (hand == "both" and handshape.other is None):
        result[STREAM_SLICES["left_hand"]] = hand_pose_mirrored(handshape.dominant)
    elif hand == "both":
        result[STREAM_SLICES["left_hand"]] = handshape.other
    return result


def library_arrays(library: HandshapeLibrary) -> dict[str, np.ndarray]:
    """The library as plain arrays (what the ``.npz`` holds; no object arrays, so no pickle on load)."""
    shapes = library.handshapes
    return {
        "version": np.array(LIBRARY_VERSION),
        "language": np.array([h.language for h in shapes], dtype=str),
        "letter": np.array([h.letter for h in shapes], dtype=str),
        "dominant": np.stack([h.dominant for h in shapes]).astype(np.float32) if shapes
        else np.zeros((0, HAND_DIM), np.float32),
        "other": np.stack([h.other if h.other is not None else np.zeros(HAND_DIM, np.float32) for h in shapes])
        .astype(np.float32) if shapes else np.zeros((0, HAND_DIM), np.float32),
        "two_handed": np.array([h.two_handed for h in shapes], dtype=bool),
        "clips": np.array([h.clips for h in shapes], dtype=np.int32),
    }


def load_handshape_library(path: str | Path | None = None) -> HandshapeLibrary:
    """Read a library ``.npz`` (the shipped one by default); a damaged file raises FileFormatError."""
    path = Path(path) if path is not None else DEFAULT_LIBRARY_PATH
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError as exc:
        raise FileFormatError(path, "handshape library not found (regenerate: signeditor data handshapes)") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise FileFormatError(path, f"cannot read the handshape library ({exc})") from exc
    missing = [k for k in ("version", "language", "letter", "dominant", "other", "two_handed", "clips")
               if k not in arrays]
    if missing:
        raise FileFormatError(path, f"not a handshape library (missing {missing})")
    if int(arrays["version"]) != LIBRARY_VERSION:
        raise FileFormatError(path, f"handshape library version {int(arrays['version'])}, expected {LIBRARY_VERSION}")
    n = len(arrays["language"])
    shapes_ok = arrays["dominant"].shape == (n, HAND_DIM) and arrays["other"].shape == (n, HAND_DIM)
    if not shapes_ok or any(len(arrays[k]) != n for k in ("letter", "two_handed", "clips")):
        raise FileFormatError(path, f"handshape arrays disagree in length or are not (N, {HAND_DIM})")
    if not (np.isfinite(arrays["dominant"]).all() and np.isfinite(arrays["other"]).all()):
        raise FileFormatError(path, "handshape library holds non-finite rotations")
    handshapes = [
        Handshape(str(arrays["language"][i]), str(arrays["letter"][i]), arrays["dominant"][i].astype(np.float32),
                  arrays["other"][i].astype(np.float32) if arrays["two_handed"][i] else None,
                  int(arrays["clips"][i]))
        for i in range(n)
    ]
    return HandshapeLibrary(handshapes)
