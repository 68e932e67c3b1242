"""Gloss-guided segmentation: exactly N signs, named by a known gloss sequence, laid on frame probabilities.

Annotators and translators usually know what was signed (a gloss list, the
draft text, an ELAN gloss tier) but not where each sign starts. Then the
question is no longer how many signs there are but where the N-1 cuts fall:
a semi-Markov Viterbi over "gap, sign 1, gap, sign 2, ..., sign N, gap"
(gaps may be empty) picks the one labelling with exactly N signs that the
segmenter's per-frame probabilities and a sign-duration prior like best.

Frame scores: a gap frame costs -log P(non-sign), a sign's first frame
-log P(sign start), its other frames -log P(in sign); a sign of d frames
adds -weight * log N(log d; mean, std), a log-normal prior on its length in
seconds. All terms are numpy on (T, 3) probabilities from any segmenter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START, Segment


class GlossAlignmentError(ValueError):
    """The gloss list cannot be laid on the clip (empty, or more glosses than frames)."""


@dataclass(frozen=True)
class DurationPrior:
    """Log-normal prior on sign length; defaults measured on BOSTON-104's training sentences (natural ASL).

    (A heavy-tailed Student-t on log length was tried for isolated signs with long holds; it did not beat the
    log-normal on the corpus groups or BOSTON-104, so the simpler prior stays.)"""

    log_mean_s: float = -1.118  # median sign about 0.33 s
    log_std_s: float = 0.424
    weight: float = 1.0
    #: Longest sign considered, unless the clip holds so few glosses that signs must be longer (then up to
    #: twice the clip's length per gloss): isolated signs with long holds run 5-8 s.
    max_s: float = 10.0


def parse_glosses(text: str) -> list[str]:
    """Glosses from typed text: separated by spaces or commas, empty items dropped."""
    return [g for g in text.replace(",", " ").split() if g]


def gloss_list_problem(n_glosses: int, n_frames: int) -> str | None:
    """Why ``n_glosses`` glosses cannot be laid on ``n_frames`` frames, or None (the editor asks before aligning)."""
    if n_glosses == 0:
        return "the gloss list is empty: give at least one gloss"
    if n_glosses > n_frames:
        return f"{n_glosses} glosses but only {n_frames} frames: each sign needs a frame"
    return None


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, 1e-6, 1.0))


def align_glosses(
    probabilities: np.ndarray, glosses: list[str], fps: float, prior: DurationPrior | None = None
) -> list[Segment]:
    """Exactly ``len(glosses)`` segments in order, each named by its gloss, maximising the labelling's score.

    ``probabilities`` (T, 3) are non-sign / in-sign / sign-start per frame.
    Raises GlossAlignmentError for an empty list or more glosses than frames. Where placements tie exactly, the
    signs lie as late as possible: from the last sign back, each ends and then starts as late as a best placement
    allows.
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    n_signs, n_frames = len(glosses), len(probs)
    problem = gloss_list_problem(n_signs, n_frames)
    if problem:
        raise GlossAlignmentError(problem)
    prior = prior or DurationPrior()
    confidence = probs[:, IN_SIGN] + probs[:, SIGN_START]
    gap = _log(probs[:, NON_SIGN])
    start = _log(probs[:, SIGN_START])
    inside = np.concatenate([[0.0], np.cumsum(_log(probs[:, IN_SIGN]))])  # inside[b] - inside[a]: frames a..b-1
    max_len = int(min(n_frames, max(2, round(prior.max_s * fps), -(-2 * n_frames // n_signs))))
    lengths = np.arange(1, max_len + 1)
    log_len = np.log(lengths / fps)
    duration = -prior.weight * 0.5 * ((log_len - prior.log_mean_s) / prior.log_std_s) ** 2

    # best[a]: best score of frames [0, a) holding the signs placed so far, ending in a sign or a gap.
    gaps = np.concatenate([[0.0], np.cumsum(gap)])  # gaps[b] - gaps[c]: frames c..b-1 as gap
    best = gaps.copy()
    frames = np.arange(n_frames + 1)
    sign_length = np.zeros((n_signs, n_frames + 1), dtype=np.int64)  # length of sign k ending at b
    sign_end = np.zeros((n_signs, n_frames + 1), dtype=np.int64)  # where sign k ends when frame b ends its gap
    for k in range(n_signs):
        ending = np.full(n_frames + 1, -np.inf)
        for d in lengths:
            b = frames[d:]
            a = b - d
            score = best[a] + start[a] + inside[b] - inside[a + 1] + duration[d - 1]
            better = score > ending[b]
            ending[b[better]] = score[better]
            sign_length[k, b[better]] = d
        # The sign may be followed by gap frames: best[b] = max over c <= b of ending[c] + gap frames c..b-1.
        value = ending - gaps
        running = np.maximum.accumulate(value)
        sign_end[k] = np.maximum.accumulate(np.where(value == running, frames, 0))
        best = gaps + running
    if not np.isfinite(best[n_frames]):
        raise GlossAlignmentError(f"{n_signs} glosses cannot be laid on {n_frames} frames")
    segments: list[Segment] = []
    b = n_frames
    for k in range(n_signs - 1, -1, -1):
        b = int(sign_end[k, b])
        a = b - int(sign_length[k, b])
        segments.append(Segment(a, b, glosses[k], confidence=float(np.mean(confidence[a:b]))))
        b = a
    return segments[::-1]
