"""Non-manual keys: Brows, Eyes, Mouth and Head lanes, and grammatical presets (numpy only).

A key pins one lane's parameters at a frame. Between a lane's keys the face is filled by monotone cubic
interpolation (measured against holding and linear fills by ``signeditor eval face``); outside a lane's first
and last key the motion's own face (fitted from the source) shows. Keys live in the project beside the motion,
so the fitted face is never overwritten and an undo is exact.

Presets place keys over a span (ramp in, hold, ramp out). They compose per lane (:func:`place_preset`): a preset
placed inside another (a negation inside a yes/no question) adds its own parameters on top of the other's in each
lane they share and leaves the rest of that lane as it was, so the question's brow raise holds through the
negation; each key remembers the span of the preset that placed it, so annotation tiers keep each preset whole.

Head rotation lives in the body stream, so the Head lane holds turns added to the Head joint's own rotation
(nod, turn, tilt): a headshake or a role shift's turn rides on whatever the body does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from signeditor.core import rotations
from signeditor.core.face import FACE_DIM, FACE_INDEX, FACE_PARAMETERS, interpolate_face
from signeditor.core.skeleton import ROTATING_JOINTS

LANES: dict[str, tuple[str, ...]] = {
    "Brows": ("brow_raise_l", "brow_raise_r", "brow_furrow_l", "brow_furrow_r"),
    "Eyes": ("eye_close_l", "eye_close_r", "squint_l", "squint_r", "gaze_left", "gaze_right", "gaze_up", "gaze_down"),
    "Mouth": tuple(p for p in FACE_PARAMETERS if not p.startswith(("brow", "eye", "squint", "gaze"))),
    #: Signed turns of the head (1 = HEAD_FULL_TURN): nod (+ down), turn (+ to the signer's left), tilt (+ left).
    "Head": ("head_nod", "head_turn", "head_tilt"),
}
HEAD_FULL_TURN = np.radians(45.0)
_HEAD_JOINT = ROTATING_JOINTS.index("Head")
_ids = itertools.count(1)


@dataclass(frozen=True)
class FaceKey:
    """One lane's parameter values pinned at a frame."""

    frame: int
    lane: str
    values: np.ndarray = field(compare=False, repr=False)
    label: str = ""
    id: int = field(default_factory=lambda: next(_ids))
    #: (start, end) frames of the preset that placed the key (None: placed by hand), for annotation tiers.
    span: tuple[int, int] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.lane not in LANES:
            raise ValueError(f"unknown non-manual lane {self.lane!r} (expected one of {', '.join(LANES)})")
        low = -1.0 if self.lane == "Head" else 0.0
        values = np.clip(np.asarray(self.values, np.float32).reshape(-1), low, 1.0)
        if values.shape != (len(LANES[self.lane]),) or not np.all(np.isfinite(values)):
            raise ValueError(f"a {self.lane} key has {len(LANES[self.lane])} finite values, got {values.shape}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "frame", int(self.frame))

    def moved_to(self, frame: int) -> FaceKey:
        return replace(self, frame=int(frame))


def lane_values(lane: str, **weights: float) -> np.ndarray:
    """A lane's value vector from named parameters (others neutral)."""
    values = np.zeros(len(LANES[lane]), np.float32)
    for name, weight in weights.items():
        values[LANES[lane].index(name)] = weight
    return values


def face_with_keys(face: np.ndarray | None, keys: Iterable[FaceKey], n_frames: int,
                   frames: np.ndarray | None = None) -> np.ndarray:
    """The face shown at ``frames`` (default all): the motion's face, with each keyed lane's span from its keys."""
    frames = np.arange(n_frames) if frames is None else np.asarray(frames, np.int64)
    out = np.zeros((len(frames), FACE_DIM), np.float32) if face is None else np.asarray(face, np.float32)[frames]
    out = out.copy()
    by_lane: dict[str, list[FaceKey]] = {}
    for key in keys:
        by_lane.setdefault(key.lane, []).append(key)
    for lane, lane_keys in by_lane.items():
        if lane == "Head":
            continue
        lane_keys.sort(key=lambda k: (k.frame, k.id))
        key_frames = np.array([k.frame for k in lane_keys])
        inside = (frames >= key_frames[0]) & (frames <= key_frames[-1])
        if not inside.any():
            continue
        columns = [FACE_INDEX[p] for p in LANES[lane]]
        full = np.zeros((len(lane_keys), FACE_DIM), np.float32)
        full[:, columns] = np.stack([k.values for k in lane_keys])
        dense = interpolate_face(key_frames, full, int(key_frames[-1]) + 1)
        out[np.ix_(inside, columns)] = dense[np.ix_(frames[inside], columns)]
    return out


def head_turns(keys: Iterable[FaceKey], n_frames: int, frames: np.ndarray | None = None) -> np.ndarray:
    """Head lane turns (len(frames), 3) in radians (nod, turn, tilt): interpolated inside the keyed span, else 0."""
    frames = np.arange(n_frames) if frames is None else np.asarray(frames, np.int64)
    head = sorted((k for k in keys if k.lane == "Head"), key=lambda k: (k.frame, k.id))
    out = np.zeros((len(frames), 3))
    if not head:
        return out
    key_frames = np.array([k.frame for k in head])
    inside = (frames >= key_frames[0]) & (frames <= key_frames[-1])
    # Monotone cubic on [0, 1] (interpolate_face's range): the map to [-1, 1] is affine, so nothing changes.
    halves = interpolate_face(key_frames, (np.stack([k.values for k in head]) + 1.0) / 2.0, int(key_frames[-1]) + 1)
    out[inside] = (2.0 * halves[frames[inside]] - 1.0) * HEAD_FULL_TURN
    return out


def with_head_turns(features: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """Features (T, 246) with each frame's head turn (T, 3) applied on top of the Head joint's rotation."""
    if not np.any(turns):
        return features
    features = np.array(features, np.float32, copy=True)
    nod, turn, tilt = (turns[:, k] for k in range(3))
    zeros = np.zeros_like(nod)
    offset = (rotations.axis_angle_to_matrix(np.stack([zeros, turn, zeros], -1))
              @ rotations.axis_angle_to_matrix(np.stack([nod, zeros, zeros], -1))
              @ rotations.axis_angle_to_matrix(np.stack([zeros, zeros, -tilt], -1)))
    cols = slice(6 * _HEAD_JOINT, 6 * _HEAD_JOINT + 6)
    local = rotations.rot6d_to_matrix(features[:, cols].astype(np.float64))
    features[:, cols] = rotations.matrix_to_rot6d(offset @ local)
    return features


def lane_values_at(keys: Iterable[FaceKey], lane: str, frames: np.ndarray) -> np.ndarray:
    """(len(frames), lane width) values ``keys`` give ``lane`` at ``frames``: interpolated inside the lane's keyed
    span as shown, neutral (0) outside it."""
    frames = np.asarray(frames, np.int64)
    lane_keys = sorted((k for k in keys if k.lane == lane), key=lambda k: (k.frame, k.id))
    out = np.zeros((len(frames), len(LANES[lane])), np.float32)
    if not lane_keys:
        return out
    key_frames = np.array([k.frame for k in lane_keys])
    inside = (frames >= key_frames[0]) & (frames <= key_frames[-1])
    values = np.stack([k.values for k in lane_keys])
    if lane == "Head":  # signed: interpolate on [0, 1] as head_turns does
        dense = 2.0 * interpolate_face(key_frames, (values + 1.0) / 2.0, int(key_frames[-1]) + 1) - 1.0
    else:
        dense = interpolate_face(key_frames, values, int(key_frames[-1]) + 1)
    out[inside] = dense[frames[inside]]
    return out


def _composed(lane: str, own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Two presets' values of one lane together: the stronger of each face parameter, head turns added."""
    return np.clip(own + other, -1.0, 1.0) if lane == "Head" else np.maximum(own, other)


def place_preset(keys: Iterable[FaceKey], new: Iterable[FaceKey], start: int, end: int) -> tuple[FaceKey, ...]:
    """``keys`` with a preset's ``new`` keys over [start, end], composed per lane.

    In each lane the preset uses, keys of the same preset (same label) and hand-placed keys inside the span are
    replaced; other presets' keys stay. Every key in the span then shows both presets: the new keys take on the
    values the other keys give the lane at their frames, and the other keys inside the span take on the new
    preset's. Lanes the preset does not use are untouched.
    """
    new = tuple(new)
    lanes = {k.lane for k in new}
    labels = {k.label for k in new}
    kept = [k for k in keys if not (k.lane in lanes and start <= k.frame <= end and (k.label in labels or not k.label))]
    composed: list[FaceKey] = []
    for key in kept:
        if key.lane in lanes and start <= key.frame <= end:
            own = lane_values_at(new, key.lane, np.array([key.frame]))[0]
            key = replace(key, values=_composed(key.lane, key.values, own))
        composed.append(key)
    for key in new:
        other = lane_values_at(kept, key.lane, np.array([key.frame]))[0]
        composed.append(replace(key, values=_composed(key.lane, key.values, other)))
    return tuple(sorted(composed, key=lambda k: (k.frame, k.lane, k.id)))


def keys_replacing_span(keys: Iterable[FaceKey], new: Iterable[FaceKey], start: int, end: int) -> tuple[FaceKey, ...]:
    """``keys`` without those in the new keys' lanes inside [start, end], plus the new keys."""
    new = tuple(new)
    lanes = {k.lane for k in new}
    kept = [k for k in keys if not (k.lane in lanes and start <= k.frame <= end)]
    return tuple(sorted((*kept, *new), key=lambda k: (k.frame, k.lane, k.id)))


# --- presets --------------------------------------------------------------------------------------------------------

#: Preset -> lane -> held values; the grammar of common sign languages' non-manual markers.
_HELD: dict[str, dict[str, dict[str, float]]] = {
    "yes/no question": {"Brows": {"brow_raise_l": 0.85, "brow_raise_r": 0.85}, "Head": {"head_nod": 0.15}},
    "wh-question": {"Brows": {"brow_furrow_l": 0.85, "brow_furrow_r": 0.85},
                    "Eyes": {"squint_l": 0.35, "squint_r": 0.35}, "Head": {"head_tilt": 0.1}},
    "negation": {"Brows": {"brow_furrow_l": 0.45, "brow_furrow_r": 0.45},
                 "Mouth": {"frown_l": 0.6, "frown_r": 0.6}},
    "topic": {"Brows": {"brow_raise_l": 0.6, "brow_raise_r": 0.6}, "Head": {"head_nod": -0.12}},
    "conditional": {"Brows": {"brow_raise_l": 0.75, "brow_raise_r": 0.75},
                    "Eyes": {"squint_l": 0.15, "squint_r": 0.15}, "Head": {"head_tilt": 0.12}},
    "role shift": {"Head": {"head_turn": 0.35, "head_tilt": 0.08}, "Eyes": {"gaze_left": 0.6}},
}
PRESETS: tuple[str, ...] = (*_HELD, "mouthing")
#: The negation headshake: turns to each side (HEAD_FULL_TURN units) and frames between the turns.
_SHAKE_TURN, _SHAKE_FRAMES = 0.3, 4
#: Letters -> viseme parameter, for mouthing a typed word (a rough grapheme reading, one mouth shape a letter).
_VISEME_OF: dict[str, str] = {
    **dict.fromkeys("aä", "viseme_aa"), **dict.fromkeys("eé", "viseme_ee"), **dict.fromkeys("iy", "viseme_ih"),
    **dict.fromkeys("oö", "viseme_oh"), **dict.fromkeys("uüw", "viseme_ou"), **dict.fromkeys("mbp", "viseme_mbp"),
    **dict.fromkeys("fv", "viseme_fv"), **dict.fromkeys("tdnl", "viseme_th"), **dict.fromkeys("szcxj", "viseme_s"),
}


def preset_keys(name: str, start: int, end: int, word: str = "") -> list[FaceKey]:
    """Keys for a preset over frames [start, end]: neutral at both ends, the marker held between the ramps."""
    start, end = int(min(start, end)), int(max(start, end))
    if end - start < 2:
        raise ValueError("a non-manual preset needs a span of at least 3 frames")
    if name == "mouthing":
        return mouthing_keys(word, start, end)
    if name not in _HELD:
        raise ValueError(f"unknown preset {name!r} (expected one of {', '.join(PRESETS)})")
    ramp = max(1, min(4, (end - start) // 4))
    keys = []
    span = (start, end)
    for lane, weights in _HELD[name].items():
        neutral, held = np.zeros(len(LANES[lane]), np.float32), lane_values(lane, **weights)
        for frame, values in ((start, neutral), (start + ramp, held), (end - ramp, held), (end, neutral)):
            keys.append(FaceKey(frame, lane, values, label=name, span=span))
    if name == "negation":  # the headshake: side to side across the span, facing forward at both ends
        inner = range(start + _SHAKE_FRAMES, end - _SHAKE_FRAMES // 2, _SHAKE_FRAMES)
        turns = [(start, 0.0), *((f, _SHAKE_TURN * (-1) ** k) for k, f in enumerate(inner)), (end, 0.0)]
        keys += [FaceKey(f, "Head", lane_values("Head", head_turn=v), label=name, span=span) for f, v in turns]
    return keys


def mouthing_keys(word: str, start: int, end: int) -> list[FaceKey]:
    """One Mouth key per letter of ``word`` (its viseme, jaw a little open), evenly over the span, closed at ends."""
    letters = [c for c in word.lower() if c.isalpha()]
    if not letters:
        raise ValueError("type the word to mouth")
    step = (end - start) / (len(letters) + 1)
    label, span = f"mouthing {word}", (start, end)
    keys = [FaceKey(start, "Mouth", lane_values("Mouth"), label=label, span=span)]
    for k, letter in enumerate(letters, start=1):
        viseme = _VISEME_OF.get(letter)
        weights = {"mouth_open": 0.25} | ({viseme: 0.9} if viseme else {})
        keys.append(FaceKey(round(start + k * step), "Mouth", lane_values("Mouth", **weights), label=label, span=span))
    keys.append(FaceKey(end, "Mouth", lane_values("Mouth"), label=label, span=span))
    return keys


def nonmanual_spans(keys: Iterable[FaceKey]) -> list[tuple[int, int, str]]:
    """(start, end, label) of every placed preset, for annotation tiers: the span each key remembers, else (keys
    from older files) each run of consecutive same-label keys in a lane. Unlabelled keys (placed by hand) make
    none, a preset spanning several lanes counts once, and one placed inside another leaves the outer one whole."""
    keys = list(keys)
    spans: set[tuple[int, int, str]] = {(*k.span, k.label) for k in keys if k.label and k.span is not None}
    keys = [k for k in keys if k.span is None]
    for lane in LANES:
        run: list[FaceKey] = []
        for key in [*sorted((k for k in keys if k.lane == lane), key=lambda k: (k.frame, k.id)), None]:
            if run and (key is None or key.label != run[-1].label):
                if run[0].label and len(run) > 1:
                    spans.add((run[0].frame, run[-1].frame, run[0].label))
                run = []
            if key is not None:
                run.append(key)
    return sorted(spans)


#: Question words and negation words by spoken language, for marking drafts from their text.
WH_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["who", "whom", "whose", "what", "where", "when", "why", "how", "which"]),
    "de": frozenset(["wer", "wen", "wem", "wessen", "was", "wo", "wann", "warum", "wieso", "weshalb", "wie",
                     "welche", "welcher", "welches", "woher", "wohin"]),
}
NEGATION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["not", "no", "never", "nothing", "nobody", "none", "cannot", "can't", "don't", "doesn't",
                     "didn't", "won't", "isn't"]),
    "de": frozenset(["nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "nichts",
                     "niemand"]),
}


def grammar_keys(text: str, segments: list, n_frames: int, spoken_language: str = "") -> tuple[FaceKey, ...]:
    """Non-manual keys a sentence's text asks for: a question's brows over the whole sentence (wh-question with a
    question word, else yes/no) and negation over each sign glossed with a negation word (over the sentence when
    no sign is). Within a question, negation keeps the question's brows and adds its mouth."""
    words = {w.strip(".,;:!?\"'()").lower() for w in text.split()}
    languages = [spoken_language] if spoken_language in WH_WORDS else list(WH_WORDS)
    wh = set().union(*(WH_WORDS[lang] for lang in languages))
    negations = set().union(*(NEGATION_WORDS[lang] for lang in languages))
    start = min((s.start for s in segments), default=0)
    end = max((s.end for s in segments), default=n_frames) - 1
    keys: tuple[FaceKey, ...] = ()
    question = text.strip().endswith("?") and end - start >= 2
    if question:
        name = "wh-question" if wh & words else "yes/no question"
        keys = place_preset(keys, preset_keys(name, start, end), start, end)
    negated = negations & words
    spans = [(s.start, s.end - 1) for s in segments if str(s.gloss).lower() in negated and s.end - 1 - s.start >= 2]
    if not spans and negated and end - start >= 2:
        spans = [(start, end)]
    for lo, hi in spans:
        placed = [k for k in preset_keys("negation", lo, hi) if not (question and k.lane == "Brows")]
        keys = place_preset(keys, placed, lo, hi)
    return keys
