"""Continuous-signing training material: isolated signs and spelled words run together as in a sentence.

In a sentence the hands do not go back to rest between signs: one sign's
hands travel straight to the next sign's start (the *movement epenthesis*,
100-400 ms), signs are produced faster than their citation forms, and
annotators mark the travel as transition, not sign. Joining isolated clips
with a 1-5 frame straight cut (the shipped recipe's only continuous material)
shows none of this, and the shipped FAST tags a whole stretch of continuous
signing as one sign.

Here a sentence starts and ends with a whole isolated clip (its rise from rest
and its return, a little faster than cited), and in between every sign takes
its *sentence form*: a part of its citation form (50-100%, holds and
approach shrink) played at a sentence's pace, 10-30 frames (0.4-1.2 s), and
fingerspelled letters 4-14 frames each. Consecutive items are joined by a
transition with minimum-jerk timing (the hand speeds out of one sign and
slows into the next, as reaching movements do), labelled non-sign.

A spelled word is spelled *in place*: the arm holds the first letter's
position and only the hand (fingers and wrist) changes from letter to letter,
as a signer spells. Letters joined as the lexicon recorded them, each with its
own arm position, separate at every arm movement; real spelling has none, and
a segmenter trained only on those finds a whole spelled word as one sign.

Not in the shipped recipe (``train fast --mix ...,continuous=0.3
--spelled-in-place 0.7`` trains with it): FAST learns this material well but
it did not transfer to real continuous signing or fluent spelling
(models/fast/MODEL_CARD.md, issue #13). It stays as the held-out groups
``joined_continuous`` and ``spelled_in_place`` of ``eval segment``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from signeditor.core.motion import STREAM_SLICES, interpolate_features
from signeditor.core.segments import IN_SIGN, NON_SIGN
from signeditor.core.skeleton import BODY_JOINTS

#: Transition length between signs, frames at 25 fps (80-320 ms, the range of movement epentheses).
TRANSITION_FRAMES: tuple[int, int] = (2, 8)
#: How much faster than cited the whole clips that open and close a sentence are played.
SPEED_UP: tuple[float, float] = (1.0, 1.8)
#: Frames of a sign, and of a fingerspelled letter, inside a sentence.
SIGN_FRAMES: tuple[int, int] = (10, 30)
LETTER_FRAMES: tuple[int, int] = (4, 14)
#: Frames the hand takes to change from one letter's shape to the next.
LETTER_CHANGE_FRAMES: tuple[int, int] = (3, 10)
#: Body columns a spelling arm holds still: all but the wrists' own rotations.
_HELD_ARM_COLUMNS = np.concatenate([
    np.arange(STREAM_SLICES["body"].start + 6 * j, STREAM_SLICES["body"].start + 6 * j + 6)
    for j, name in enumerate(BODY_JOINTS) if not name.endswith("_Wrist")])


def sentence_form(features: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  frames: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The clip's sign as produced inside a sentence: a part (50-100%) of its labelled span, ``frames`` long.

    Returns sign frames only, every one tagged in-sign; the clip must carry a sign.
    """
    signing = np.flatnonzero(labels >= IN_SIGN)
    start, span = int(signing[0]), int(signing[-1]) + 1 - int(signing[0])
    kept = max(2, round(span * rng.uniform(0.5, 1.0)))
    first = start + int(rng.integers(0, span - kept + 1))
    length = int(rng.integers(frames[0], frames[1] + 1))
    times = np.linspace(first, first + kept - 1, length)
    return interpolate_features(features, times).astype(np.float32), np.full(length, IN_SIGN, dtype=np.int8)


def spelled_in_place(letters: Sequence[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
                     frames: tuple[int, int] = LETTER_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """Letters in their sentence form, spelled with the arm held where the first letter puts it."""
    forms = [sentence_form(features, labels, rng, frames) for features, labels in letters]
    held = forms[0][0][0, _HELD_ARM_COLUMNS]
    for features, _ in forms:
        features[:, _HELD_ARM_COLUMNS] = held
    return join_continuous(forms, rng, LETTER_CHANGE_FRAMES)


def minimum_jerk_transition(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames from pose ``a`` to pose ``b`` (ends excluded), fast in the middle and slow at both ends."""
    u = np.linspace(0.0, 1.0, n + 2)[1:-1]
    timing = u**3 * (10.0 - 15.0 * u + 6.0 * u * u)
    return interpolate_features(np.stack([a, b]), timing)


def join_continuous(
    items: Sequence[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
    transition_frames: tuple[int, int] = TRANSITION_FRAMES,
) -> tuple[np.ndarray, np.ndarray]:
    """One continuous sequence from (features, labels) items, cut to their signing and joined by transitions.

    Items without sign frames are skipped. Sign starts are not marked: the caller normalises the tags.
    """
    parts_f: list[np.ndarray] = []
    parts_l: list[np.ndarray] = []
    signing_items = [(f, lab) for f, lab in items if np.any(lab >= IN_SIGN)]
    last = len(signing_items) - 1
    for i, (features, labels) in enumerate(signing_items):
        signing = np.flatnonzero(labels >= IN_SIGN)
        begin = 0 if i == 0 else int(signing[0])
        finish = len(features) if i == last else int(signing[-1]) + 1
        if parts_f:
            n = int(rng.integers(transition_frames[0], transition_frames[1] + 1))
            parts_f.append(minimum_jerk_transition(parts_f[-1][-1], features[begin], n))
            parts_l.append(np.full(n, NON_SIGN, dtype=np.int8))
        parts_f.append(features[begin:finish])
        parts_l.append(labels[begin:finish].astype(np.int8))
    if not parts_f:
        raise ValueError("no item carries a sign")
    return np.concatenate(parts_f).astype(np.float32), np.concatenate(parts_l)
