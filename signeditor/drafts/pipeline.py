"""Build a draft: lexicon clips laid on a timeline, KF2P transitions between them, an ordinary Project out.

Inside each sign the clip's own motion is kept frame for frame (its FAST
anchors pin it for later edits); only the transitions between signs are new.
Dictionary clips start and end at rest, so joining them end to end makes the
hands drop to the lap and come back between every pair of signs; the draft
drops that preparation and retraction and lets KF2P, conditioned on the text
and the signed language, generate a direct transition whose length follows
the distance the hands travel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.keyframes import anchors_from_segments
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, Motion, interpolate_features
from signeditor.core.project import Project
from signeditor.core.protocols import MotionGenerator
from signeditor.core.segments import Segment
from signeditor.core.skeleton import JOINT_NAMES
from signeditor.drafts.clips import DRAFT_FPS, ClipLibrary, SignClip, low_pass
from signeditor.drafts.plan import DraftError, DraftPlan, PlannedSign, Planner
from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import Lexicon

#: (done, total, message) while a draft builds.
ProgressFn = Callable[[int, int, str], None]
_WRISTS = [JOINT_NAMES.index("L_Wrist"), JOINT_NAMES.index("R_Wrist")]
#: ``Project.source`` of a draft from text (the editor replaces a draft by a new one as one undoable step).
DRAFT_SOURCE = "draft from text"
#: Fingerspelling pace of the draft: fluent fingerspelling runs at roughly 2.5-4 letters a second.
DEFAULT_LETTERS_PER_SECOND = 3.0
#: Share of each letter's time spent moving to the next letter (the rest holds the handshape).
LETTER_TRANSITION_SHARE = 0.4


@dataclass(frozen=True)
class DraftSettings:
    """Timing of the layout; defaults follow typical fluent-signing transition durations (0.15-0.6 s)."""

    #: Frames of the first clip's preparation (and the last clip's retraction) kept, so the draft starts from rest.
    lead_frames: int = 10
    #: Transition time = base + hand travel / speed, clamped to [min_gap, max_gap] frames.
    gap_base_s: float = 0.2
    hand_speed_m_s: float = 0.8
    min_gap: int = 5
    max_gap: int = 18
    #: Frames held open for each word that could not be signed (a marked gap the user fills).
    missing_word_frames: int = 12
    keyframe_policy: str = "onset_middle_offset"
    #: True: the clips' motion is kept inside signs; False: KF2P regenerates everything between the FAST anchors.
    keep_sign_motion: bool = True
    #: With keep_sign_motion False: pin every Nth in-sign frame for the generator (0: only the project's anchors).
    generation_every: int = 0
    steps: int | None = None
    seed: int = 0
    #: Cut-off (Hz) of the zero-phase low-pass over the finished draft; 0 keeps the raw join.
    low_pass_hz: float = 6.0
    #: Cut-off (Hz) of a stronger low-pass over each join (its transition plus join_blend_frames into the signs,
    #: faded in and out over those frames); 0 leaves the joins as generated. See join_smoothed.
    join_low_pass_hz: float = 3.0
    join_blend_frames: int = 8
    #: Hold (seconds) after a sign followed by a comma, colon, semicolon or sentence end within the text.
    pause_s: float = 0.3
    #: Letters per second of fingerspelled words (each letter's clip is retimed to fit).
    letters_per_second: float = DEFAULT_LETTERS_PER_SECOND


@dataclass
class DraftResult:
    project: Project
    plan: DraftPlan
    warnings: list[str] = field(default_factory=list)
    #: (start, stop) frames of every generated transition (the joins between signs).
    transitions: list[tuple[int, int]] = field(default_factory=list)
    #: The clips laid out before transitions were generated (what the signs looked like in the lexicon).
    layout: Motion | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


def transition_frames(end_pose: np.ndarray, start_pose: np.ndarray, settings: DraftSettings,
                      fps: float = DRAFT_FPS) -> int:
    """Frames for the hands to travel from one sign's last pose to the next one's first pose."""
    wrists = forward_kinematics(np.stack([end_pose, start_pose]))[:, _WRISTS]
    travel = float(np.max(np.linalg.norm(wrists[1] - wrists[0], axis=-1)))
    frames = round((settings.gap_base_s + travel / settings.hand_speed_m_s) * fps)
    return int(np.clip(frames, settings.min_gap, settings.max_gap))


def letter_timing(settings: DraftSettings, fps: float = DRAFT_FPS) -> tuple[int, int]:
    """(frames holding a letter's handshape, frames moving to the next letter) at the settings' pace."""
    per_letter = fps / max(settings.letters_per_second, 0.1)
    move = max(1, round(per_letter * LETTER_TRANSITION_SHARE))
    return max(1, round(per_letter) - move), move


def _retimed(core: np.ndarray, n_frames: int) -> np.ndarray:
    """``core`` resampled to ``n_frames`` frames (a letter's handshape at the fingerspelling pace)."""
    if len(core) == n_frames:
        return core
    return interpolate_features(core, np.linspace(0.0, len(core) - 1.0, n_frames)).astype(np.float32)


def _bridge(before: np.ndarray, after: np.ndarray, n_frames: int) -> np.ndarray:
    """A cubic first guess for a transition from the two frames before to the two frames after (n_frames long)."""
    keys = [(0, before[0]), (1, before[-1]), (n_frames + 2, after[0]), (n_frames + 3, after[-1])]
    anchors = AnchorSet(Anchor(f, pose) for f, pose in keys)
    return interpolate_between_anchors(n_frames + 4, anchors, method="cubic")[2 : 2 + n_frames]


def join_smoothed(features: np.ndarray, windows: list[tuple[int, int]], fps: float, cutoff_hz: float,
                  blend_frames: int) -> np.ndarray:
    """The joins low-passed at ``cutoff_hz``, the signs left as they are.

    Where a transition meets a kept sign the hands change speed abruptly (the transition is pinned to the sign
    in position only), which reads as a jolt rather than signing. Fluent signers blend a sign's end into the
    movement to the next; the draft approximates that by a zero-phase low-pass over each transition that fades
    out over ``blend_frames`` into each neighbouring sign (weight 1 inside the transition, a linear ramp to 0),
    so sign cores away from a join are unchanged.
    """
    weight = np.zeros(len(features))
    ramp = np.arange(1, blend_frames + 1) / (blend_frames + 1)
    for start, stop in windows:
        weight[start:stop] = 1.0
        for frames, values in ((np.arange(start - blend_frames, start), ramp),
                               (np.arange(stop, stop + blend_frames), ramp[::-1])):
            keep = (frames >= 0) & (frames < len(features))
            weight[frames[keep]] = np.maximum(weight[frames[keep]], values[keep])
    if not weight.any():
        return features
    smooth = low_pass(features, fps, cutoff_hz)
    return (weight[:, None] * smooth + (1 - weight[:, None]) * features).astype(np.float32)


@dataclass
class _Placed:
    sign: PlannedSign
    clip: SignClip
    core: tuple[int, int]  # timeline frames of the kept sign motion


class DraftBuilder:
    """Turns text into a draft Project; reusable across sentences (clips and models stay loaded)."""

    def __init__(self, lexicon: Lexicon, clips: ClipLibrary, generator: MotionGenerator | None = None,
                 settings: DraftSettings | None = None, generator_warning: str = "") -> None:
        self.lexicon = lexicon
        self.clips = clips
        #: Anything with KF2P's ``regenerate_between_anchors``; None uses cubic interpolation.
        self.generator = generator
        self.settings = settings or DraftSettings()
        self.generator_warning = generator_warning

    def _load_clips(self, plan: DraftPlan, progress: ProgressFn | None) -> list[tuple[PlannedSign, SignClip | None]]:
        loaded: list[tuple[PlannedSign, SignClip | None]] = []
        for i, sign in enumerate(plan.signs):
            if progress is not None:
                progress(i, len(plan.signs) + 1, f"loading {sign.label}")
            clip = None
            if sign.entry is not None:
                try:
                    clip = self.clips.load(sign.entry)
                except FileFormatError as exc:
                    plan.warnings.append(f"{sign.label}: clip unusable ({exc}); marked as a gap")
                    sign = PlannedSign(f"?{sign.word}", None, sign.word, "gap")
            loaded.append((sign, clip))
        return loaded

    def build(self, text: str, spoken_language: str, signed_language: str,
              progress: ProgressFn | None = None) -> DraftResult:
        """The draft for ``text``; DraftError when nothing can be signed (the message says why)."""
        t0 = time.perf_counter()
        plan = Planner(self.lexicon, spoken_language, signed_language).plan(text)
        loaded = self._load_clips(plan, progress)
        if not any(clip is not None for _, clip in loaded):
            raise DraftError("no clip of the text's signs could be read: " + "; ".join(plan.warnings))
        t1 = time.perf_counter()
        features, placed, gaps, windows, holds = self._layout(loaded)
        motion = Motion(DRAFT_FPS, features)
        segments = self._segments(placed, gaps)
        anchors = anchors_from_segments(motion, self._fast_segments(placed), policy=self.settings.keyframe_policy)
        if progress is not None:
            progress(len(plan.signs), len(plan.signs) + 1, "generating transitions")
        layout = motion
        generation_anchors = anchors
        if not self.settings.keep_sign_motion and self.settings.generation_every > 0:
            generation_anchors = anchors_from_segments(motion, self._fast_segments(placed), policy="every_n",
                                                       every=self.settings.generation_every)
        motion = self._fill(motion, generation_anchors, windows, text, signed_language)
        if self.settings.low_pass_hz > 0:
            # One low-pass over the joined draft (as spoken-to-signed does over its keypoints) evens out the seams
            # where generated transitions meet clip motion; anchors are then re-taken from the final motion.
            motion = Motion(motion.fps, low_pass(motion.features, motion.fps, self.settings.low_pass_hz))
        if self.settings.join_low_pass_hz > 0:
            joins = [(next((h for h, end in holds if end == a), a), b) for a, b in windows]  # a hold blends in too
            motion = Motion(motion.fps, join_smoothed(motion.features, joins, motion.fps,
                                                      self.settings.join_low_pass_hz, self.settings.join_blend_frames))
        if self.settings.low_pass_hz > 0 or self.settings.join_low_pass_hz > 0:
            anchors = anchors_from_segments(motion, self._fast_segments(placed), policy=self.settings.keyframe_policy)
        t2 = time.perf_counter()
        project = Project(
            motion=motion, anchors=anchors, segments=segments, text=text, spoken_language=spoken_language,
            signed_language=signed_language, model_versions=self._versions(), source=DRAFT_SOURCE,
        )
        warnings = list(plan.warnings) + ([self.generator_warning] if self.generator_warning else [])
        return DraftResult(project, plan, warnings, windows, layout,
                           {"lookup_and_clips": 1000 * (t1 - t0), "layout_and_transitions": 1000 * (t2 - t1)})

    @staticmethod
    def _fast_segments(placed: list[_Placed]) -> list[Segment]:
        """FAST's sign segments of every clip, moved onto the timeline and named by the sign's gloss."""
        out = []
        for p in placed:
            if p.sign.kind == "letter":  # shortened to the fingerspelling pace: the letter is its kept span
                out.append(Segment(p.core[0], p.core[1], p.sign.label))
                continue
            offset = p.core[0] - p.clip.sign_span[0]
            for s in p.clip.segments or (Segment(*p.clip.sign_span),):
                out.append(Segment(s.start + offset, s.end + offset, p.sign.label))
        return out

    def _versions(self) -> dict[str, str]:
        version = getattr(self.generator, "version", None) if self.generator is not None else "cubic"
        return {"kf2p": str(version), "fast": self.clips.segmenter_id}

    def _layout(self, loaded: list[tuple[PlannedSign, SignClip | None]]) -> tuple[
            np.ndarray, list[_Placed], list[tuple[int, int, str]], list[tuple[int, int]], list[tuple[int, int]]]:
        """Concatenate kept sign cores with transition windows (first guesses filled in) between them; after a
        sign followed by punctuation its last pose is held (``pause_s``) before the transition. Returns the
        features, the placed signs, the gaps, the transition windows and the holds."""
        settings = self.settings
        pieces: list[np.ndarray] = []
        placed: list[_Placed] = []
        gaps: list[tuple[int, int, str]] = []
        windows: list[tuple[int, int]] = []
        holds: list[tuple[int, int]] = []
        pending: list[str] = []
        length = 0
        last = max(i for i, (_, c) in enumerate(loaded) if c is not None)
        for i, (sign, clip) in enumerate(loaded):
            if clip is None:
                pending.append(sign.label)
                continue
            start, stop = clip.sign_span
            core = clip.motion.features[start:stop]
            if sign.kind == "letter":
                core = _retimed(core, letter_timing(settings)[0])
            if not placed:
                lead = clip.motion.features[max(0, start - settings.lead_frames) : start]
                if pending:  # words before the first sign: an open stretch from the first pose
                    n = settings.missing_word_frames * len(pending)
                    first = lead[0] if len(lead) else core[0]
                    pieces.append(np.repeat(first[None], n, axis=0))
                    gaps += self._gap_labels(0, n, pending)
                    windows.append((0, n))
                    length, pending = n, []
                pieces.append(lead)
                length += len(lead)
            else:
                if placed[-1].sign.pause_after and settings.pause_s > 0:
                    hold = max(1, round(settings.pause_s * DRAFT_FPS))
                    pieces.append(np.repeat(pieces[-1][-1:], hold, axis=0))
                    holds.append((length, length + hold))
                    length += hold
                previous = pieces[-1]
                n = transition_frames(previous[-1], core[0], settings) + settings.missing_word_frames * len(pending)
                if sign.kind == "letter" and placed[-1].sign.kind == "letter" and not pending:
                    n = letter_timing(settings)[1]  # within a fingerspelled word: the pace the user set
                before = previous[-2:] if len(previous) >= 2 else previous[-1:].repeat(2, axis=0)
                after = core[:2] if len(core) >= 2 else core[:1].repeat(2, axis=0)
                pieces.append(_bridge(before, after, n))
                gaps += self._gap_labels(length, n, pending)
                windows.append((length, length + n))
                length, pending = length + n, []
            pieces.append(core)
            placed.append(_Placed(sign, clip, (length, length + len(core))))
            length += len(core)
            if i == last:
                tail = clip.motion.features[stop : stop + settings.lead_frames]
                pieces.append(tail)
                length += len(tail)
        if pending:  # words after the last sign
            n = settings.missing_word_frames * len(pending)
            pieces.append(np.repeat(pieces[-1][-1:], n, axis=0))
            gaps += self._gap_labels(length, n, pending)
            windows.append((length, length + n))
            length += n
        features = np.concatenate([p for p in pieces if len(p)], axis=0).astype(np.float32)
        assert features.shape == (length, FEATURE_DIM)
        return features, placed, gaps, windows, holds

    def _gap_labels(self, start: int, n_frames: int, labels: list[str]) -> list[tuple[int, int, str]]:
        """Unsignable words sit in the middle of their transition, each missing_word_frames long."""
        if not labels:
            return []
        width = self.settings.missing_word_frames
        first = start + (n_frames - width * len(labels)) // 2
        return [(first + k * width, first + (k + 1) * width, label) for k, label in enumerate(labels)]

    @staticmethod
    def _segments(placed: list[_Placed], gaps: list[tuple[int, int, str]]) -> list[Segment]:
        segments = [Segment(p.core[0], p.core[1], p.sign.label) for p in placed]
        segments += [Segment(a, b, label, confidence=0.0) for a, b, label in gaps if b > a]
        return sorted(segments, key=lambda s: s.start)

    def _fill(self, motion: Motion, anchors: AnchorSet, windows: list[tuple[int, int]], text: str,
              signed_language: str) -> Motion:
        generator = self.generator
        if generator is None:
            from signeditor.ml.kf2p.api import InterpolationGenerator

            generator = InterpolationGenerator("cubic")
        kwargs = {"steps": self.settings.steps, "seed": self.settings.seed, "text": text,
                  "signed_language": signed_language}
        if not self.settings.keep_sign_motion:
            return generator.regenerate_between_anchors(motion, anchors, **kwargs)
        for start, stop in windows:
            motion = generator.regenerate_between_anchors(
                motion, anchors, frame_range=(start, stop), **kwargs)
        return motion


def load_draft_models(cache_dir: object | None = None, use_kf2p: bool = True,
                      use_fast: bool = True) -> tuple[ClipLibrary, object | None, list[str]]:
    """FAST-backed clip library and the KF2P generator, with warnings for whatever could not be loaded.

    Without FAST the whole clip counts as the sign; without KF2P the
    transitions are cubic interpolation. Both still give a usable draft.
    """
    from pathlib import Path

    warnings: list[str] = []
    segmenter = None
    if use_fast:
        try:
            from signeditor.ml.fast.api import load_segmenter

            segmenter = load_segmenter()
        except (FileFormatError, ImportError) as exc:
            warnings.append(f"FAST could not be loaded ({exc}); whole lexicon clips are kept")
    generator = None
    if use_kf2p:
        try:
            from signeditor.ml.kf2p.api import ModelLoadError, load_generator

            try:
                generator = load_generator(device="cpu")
            except (ModelLoadError, FileFormatError, OSError) as exc:
                warnings.append(f"KF2P could not be loaded ({exc}); transitions use cubic interpolation")
        except ImportError as exc:
            warnings.append(f"KF2P is unavailable ({exc}); transitions use cubic interpolation")
    clips = ClipLibrary(segmenter, Path(cache_dir) if cache_dir is not None else None)
    return clips, generator, warnings
