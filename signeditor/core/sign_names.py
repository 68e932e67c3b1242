"""Names a translator can read for signs on the timeline: the gloss where known, else number, hand shape and place.

A sign from a lexicon, a draft, an ELAN file or a gloss alignment carries its
gloss. A sign the segmenter found in a video does not ("SIGN3" is no name), so it
is numbered and told apart by what a signer would say first: the dominant hand's
shape (the closest fingerspelling handshape of the library) and where the hand is
(e.g. "3 · B-hand, chest").
"""

from __future__ import annotations

import re

import numpy as np

from signeditor.core.hand_features import wrist_positions
from signeditor.core.handshapes import HandshapeLibrary
from signeditor.core.motion import STREAM_SLICES
from signeditor.core.segments import Segment

#: Glosses that only number a sign (the segmenter's and older files' placeholders), not name it.
PLACEHOLDER_GLOSS = re.compile(r"^(SIGN|SEG|SEGMENT)?\s*\d+$", re.IGNORECASE)
#: Places by the dominant wrist's height above the mid-shoulder point (shoulder widths): the lowest bound first met.
PLACES: tuple[tuple[float, str], ...] = ((1.1, "above head"), (0.35, "face"), (0.0, "neck"), (-0.7, "chest"),
                                         (-1.3, "belly"))
LOW_PLACE = "waist"
#: Sideways reach (shoulder widths from the body's midline) beyond which the hand is "to the side".
SIDE_REACH = 1.3
#: Which alphabet names hand shapes when the project's signed language has none in the library.
FALLBACK_ALPHABET = "ase"


def has_gloss(segment: Segment) -> bool:
    gloss = segment.gloss.strip()
    return bool(gloss) and not PLACEHOLDER_GLOSS.match(gloss)


def closest_handshape(hand: np.ndarray, library: HandshapeLibrary, language: str) -> str | None:
    """Letter of the library handshape nearest to ``hand`` (the right hand's 6D finger values), or None."""
    shapes = library.for_language(language) or library.for_language(FALLBACK_ALPHABET)
    if not shapes:
        return None
    distances = [float(np.linalg.norm(np.asarray(hand, np.float32) - shape.dominant)) for shape in shapes]
    return shapes[int(np.argmin(distances))].letter


def hand_place(pose: np.ndarray) -> str:
    """Where the dominant (right) hand is relative to the body: "face", "chest", "side, belly", …"""
    right = wrist_positions(np.asarray(pose, np.float32)[None])[0, 1]
    height = float(right[1])
    place = next((name for bound, name in PLACES if height >= bound), LOW_PLACE)
    return f"side, {place}" if abs(float(right[0])) >= SIDE_REACH else place


def describe_pose(pose: np.ndarray, library: HandshapeLibrary | None, language: str) -> str:
    """"B-hand, chest": the closest handshape (when a library is given) and the hand's place."""
    letter = closest_handshape(pose[STREAM_SLICES["right_hand"]], library, language) if library else None
    place = hand_place(pose)
    return f"{letter}-hand, {place}" if letter else place


def sign_labels(segments: list[Segment], features: np.ndarray, library: HandshapeLibrary | None,
                language: str) -> list[str]:
    """One label per sign: its gloss, else "n · hand shape, place" from the pose at the sign's middle frame."""
    labels = []
    for index, segment in enumerate(segments):
        if has_gloss(segment):
            labels.append(segment.gloss.strip())
            continue
        middle = min(max(segment.middle, 0), len(features) - 1)
        labels.append(f"{index + 1} · {describe_pose(features[middle], library, language)}")
    return labels


#: An anchor label's last part that says where in its sign it sits ("onset", "frame 3"), after the sign's old name.
_ANCHOR_ROLE = re.compile(r"^(?:.*\s)?(onset|middle|offset|frame \d+)$")


def anchor_role(label: str) -> str:
    """Where in its sign an anchor sits ("onset" of "SIGN2 onset", "frame 3" of "HAUS frame 3"), else its label."""
    role = _ANCHOR_ROLE.match(label)
    return role.group(1) if role else label


def sign_at(frame: int, segments: list[Segment], labels: list[str]) -> str | None:
    """The name (``labels``, in ``segments`` order) of the sign whose bar covers ``frame``, or None."""
    return next((name for segment, name in zip(segments, labels, strict=True)
                 if segment.start <= frame < segment.end), None)


def anchor_caption(label: str, frame: int, segments: list[Segment], labels: list[str]) -> str:
    """An anchor named as the timeline names its sign: "2 · C-hand, chest · onset" for "SIGN2 onset".

    The sign is the one whose bar covers ``frame`` now, so the name stays right
    after edits renumber the signs; the label keeps only its role. Outside every
    sign the label is kept as it is.
    """
    sign = sign_at(frame, segments, labels)
    return label if sign is None else " · ".join(part for part in (sign, anchor_role(label)) if part)
