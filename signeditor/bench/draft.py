"""Text-to-sign drafts against spoken-to-signed's concatenation: smoothness at the joins and speed.

Both sides join the *same* lexicon clips for the same sentences. Ours is the
draft pipeline (FAST sign spans, KF2P transitions); theirs is the
``spoken-to-signed`` package's own ``concatenate_poses`` (trim to the active
signing span, cap signs at 0.8 s, best connection point, 0.07 s padding,
Butterworth low-pass). Their keypoint output is fitted by our IK, and both
motions are measured after the same forward kinematics at 25 fps, so jerk
and velocity are compared on the same skeleton in the same units (metres):
that is the motion a user would get into the editor either way.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import WRIST_AND_HAND_POINT_INDICES
from signeditor.drafts.clips import DRAFT_FPS
from signeditor.drafts.pipeline import DraftResult
from signeditor.io.lexicon import Lexicon, LexiconEntry
from signeditor.paths import SHARED_SIGNDATA

#: (text, spoken language, signed language): dictionary signs, fingerspelled names and numbers, 8 signed languages.
SENTENCES: tuple[tuple[str, str, str], ...] = (
    ("Kleine Kinder essen Pizza", "de", "sgg"),
    ("Kinder essen Pizza", "de", "sgg"),
    ("Pizza essen kleine Kinder", "de", "sgg"),
    ("Essen Kinder Pizza?", "de", "sgg"),
    ("Kinder essen Pizza mit Ali", "de", "sgg"),
    ("Kleine Kinder essen", "de", "sgg"),
    ("Das Haus ist verschieden", "de", "gsg"),
    ("Junge Fantasie", "de", "gsg"),
    ("Haus gleich, Haus glatt", "de", "gsg"),
    ("Jung und verschieden", "de", "gsg"),
    ("young house", "en", "gsg"),
    ("different imagination, equal house", "en", "gsg"),
    ("smooth young imagination", "en", "gsg"),
    ("hi Bob", "en", "ase"),
    ("my cat", "en", "ase"),
    ("ciao Luca", "it", "ise"),
    ("hola Ana", "es", "ssp"),
    ("ahoj Eva", "sk", "svk"),
    ("hej Bo", "sv", "swl"),
    ("ola Rui", "pt", "psr"),
    ("Pizza, Anna!", "de", "sgg"),
    ("house Tom", "en", "gsg"),
)
#: Lexicon hit rate (words signed by a lexicon sign, not fingerspelled): the bench sentences plus inflected forms
#: ("Häuser", "isst", "Pizzen") whose citation forms are in the development lexicon.
HIT_RATE_SENTENCES: tuple[tuple[str, str, str], ...] = (
    *SENTENCES,
    ("Die Häuser sind verschieden", "de", "gsg"),
    ("Gleiche Häuser, glatte Fantasien", "de", "gsg"),
    ("Die jungen Häuser", "de", "gsg"),
    ("Das Kind isst Pizzen", "de", "sgg"),
    ("Kleinen Kindern essen", "de", "sgg"),
    ("houses are different", "en", "gsg"),
    ("younger imaginations", "en", "gsg"),
    ("the equal houses", "en", "gsg"),
)
#: Words the lexicon lacks but its synonyms table groups with a signed word (the development lexicon's groups).
SYNONYM_SENTENCES: tuple[tuple[str, str, str], ...] = (
    ("Die Gebäude sind unterschiedlich", "de", "gsg"),
    ("jugendliche Vorstellungskraft, rutschig und identisch", "de", "gsg"),
    ("the same buildings", "en", "gsg"),
    ("slick youthful fantasy", "en", "gsg"),
)
#: Glosses typed the way translators write them (capitals, DGS Corpus glosses without their variant marks) and
#: compounds of lexicon words: what typed-gloss lookup and compound splitting reach.
GLOSS_AND_COMPOUND_SENTENCES: tuple[tuple[str, str, str], ...] = (
    ("HOUSE YOUNG DIFFERENT", "de", "gsg"),
    ("IMAGINATION EQUAL, HOUSE SMOOTH-OR-SLICK", "en", "gsg"),
    ("KINDER ESSEN PIZZA", "de", "sgg"),
    ("Kinderpizza essen", "de", "sgg"),
    ("Das Fantasiehaus ist verschieden", "de", "gsg"),
)
#: Frames on each side of a join's transition included in its window.
WINDOW_MARGIN = 5
_EPS = 1e-9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(SHARED_SIGNDATA), help="sign data folder (default ../shared/signdata)")
    parser.add_argument("--lexicon", action="append", default=[],
                        help="lexicon folder(s); default: a development lexicon built over --data in a temp folder")
    parser.add_argument("--limit", type=int, default=0, help="only the first N sentences (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-variants", action="store_true", help="skip the cubic and regenerate-everything variants")


@dataclass
class JoinStats:
    peak_jerk: float  # m/s^3, hand-joint mean, peak over the window
    velocity_jump: float  # m/s, hand-joint mean, largest frame-to-frame velocity change in the window


def hand_positions(features: np.ndarray) -> np.ndarray:
    return forward_kinematics(features)[:, list(WRIST_AND_HAND_POINT_INDICES)]


def join_stats(positions: np.ndarray, start: int, stop: int, fps: float = DRAFT_FPS) -> JoinStats:
    """Smoothness of the hands within ``[start - margin, stop + margin)`` (a join's transition plus margins)."""
    lo, hi = max(0, start - WINDOW_MARGIN), min(len(positions), stop + WINDOW_MARGIN)
    window = positions[lo:hi]
    velocity = np.diff(window, axis=0) * fps
    dv = np.linalg.norm(np.diff(velocity, axis=0), axis=-1).mean(axis=1)
    jerk = np.linalg.norm(np.diff(window, n=3, axis=0), axis=-1).mean(axis=1) * fps**3
    return JoinStats(float(jerk.max()) if len(jerk) else 0.0, float(dv.max()) if len(dv) else 0.0)


def _read_pose(path: Path, start_ms: int, end_ms: int, fps: float) -> object:
    """A lexicon clip as spoken-to-signed's lookup returns it (start/end cut), resampled to a common rate."""
    from pose_format import Pose

    pose = Pose.read(path.read_bytes())
    frame_ms = 1000 / pose.body.fps
    first = int(start_ms // frame_ms)
    last = int(np.ceil(end_ms // frame_ms)) if end_ms > 0 else len(pose.body.data)
    pose = Pose(pose.header, pose.body[first:last])
    if abs(pose.body.fps - fps) > 1e-3:
        # Their lexicons are single-rate; ours mixes 24-50 fps, which their concatenation would splice unscaled.
        pose = pose.interpolate(fps)
    return pose


def peer_concatenation(entries: list[LexiconEntry], fps: float = DRAFT_FPS) -> tuple[bytes, list[tuple[int, int]]]:
    """Their concatenated pose (file bytes) and the frame span of each join (the padding between clips).

    The output comes from their ``concatenate_poses`` unchanged (except
    ``hide_idle_hands=False``: it only hides hands for drawing, by zeroing
    confidence). The join spans replay their trimming and connection-point
    search with their own functions on copies, since the package does not
    report where it joined.
    """
    from spoken_to_signed.gloss_to_pose import concatenate as peer
    from spoken_to_signed.gloss_to_pose.smoothing import create_padding, find_best_connection_point

    def fresh() -> list:
        return [_read_pose(e.path, e.start, e.end, fps) for e in entries]

    with contextlib.redirect_stdout(io.StringIO()):
        pose = peer.concatenate_poses(fresh(), hide_idle_hands=False)
        poses = [peer.normalize_pose(peer.reduce_holistic(p)) for p in fresh()]
        last = len(poses) - 1
        poses = [peer.process_sign(p, keep_onset=i == 0, keep_offset=i == last, max_sign_seconds=0.8)
                 for i, p in enumerate(poses)]
        padding = len(create_padding(0.07, poses[0]).data)
        joins, length, start = [], 0, 0
        for i in range(last):
            end, next_start = find_best_connection_point(poses[i], poses[i + 1])
            length += end - start
            joins.append((length, length + padding))
            length += padding
            start = next_start
    buffer = io.BytesIO()
    pose.write(buffer)
    return buffer.getvalue(), joins


def _peer_positions(pose_bytes: bytes) -> np.ndarray:
    from signeditor.io.pose_import import motion_from_pose_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "peer.pose"
        path.write_bytes(pose_bytes)
        motion = motion_from_pose_file(path, fps=DRAFT_FPS)
    return hand_positions(motion.features)


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def _lexicon(args: argparse.Namespace, tmp: Path) -> Lexicon:
    from signeditor.data.dev_lexicon import build_dev_lexicon
    from signeditor.io.lexicon import read_lexicons

    if args.lexicon:
        return read_lexicons(args.lexicon)
    build_dev_lexicon(args.data, tmp / "lexicon")
    return read_lexicons([tmp / "lexicon"])


def run(args: argparse.Namespace) -> dict:
    data = Path(args.data)
    if not data.is_dir() and not args.lexicon:
        return {"skipped": f"sign data folder {data} not found (the bench needs the lexicon clips)"}
    try:
        import spoken_to_signed  # noqa: F401
    except ImportError:
        return {"skipped": "the peer package spoken-to-signed is not installed (pip install spoken-to-signed)"}
    import torch

    from signeditor.drafts.pipeline import DraftBuilder, DraftSettings, load_draft_models
    from signeditor.drafts.plan import DraftError, lexicon_hit_rate, tokenize

    torch.set_num_threads(max(1, args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        lexicon = _lexicon(args, Path(tmp))
        hit_rate = {"words": sum(1 for text, _, _ in HIT_RATE_SENTENCES for t in tokenize(text) if not t.isdigit()),
                    "without_lemmas": round(lexicon_hit_rate(lexicon, HIT_RATE_SENTENCES, lemmatise=False), 3),
                    "with_lemmas": round(lexicon_hit_rate(lexicon, HIT_RATE_SENTENCES), 3),
                    "by_signed_language": {
                        lang: round(lexicon_hit_rate(lexicon, [t for t in HIT_RATE_SENTENCES if t[2] == lang]), 3)
                        for lang in sorted({t[2] for t in HIT_RATE_SENTENCES})},
                    "glosses_and_compounds": round(lexicon_hit_rate(lexicon, GLOSS_AND_COMPOUND_SENTENCES), 3),
                    "synonym_sentences": {
                        "with_synonyms": round(lexicon_hit_rate(lexicon, SYNONYM_SENTENCES), 3),
                        "without_synonyms": round(lexicon_hit_rate(lexicon, SYNONYM_SENTENCES, synonyms=False), 3)}}
        clips, generator, warnings = load_draft_models(cache_dir=None)
        sentences = SENTENCES[: args.limit] if args.limit else SENTENCES
        builder = DraftBuilder(lexicon, clips, generator)
        # Cold: every distinct clip is fitted (IK) and segmented (FAST) on first use; models are already loaded.
        results, skipped, cold_ms, n_signs = [], [], 0.0, 0
        for text, spoken, signed in sentences:
            start = time.perf_counter()
            try:
                result = builder.build(text, spoken, signed)
            except DraftError as exc:
                skipped.append(f"{text!r}: {exc}")
                continue
            cold_ms += 1000 * (time.perf_counter() - start)
            n_signs += sum(1 for s in result.plan.signs if s.entry is not None)
            results.append(((text, spoken, signed), result))
        warm_ms = 0.0
        for (text, spoken, signed), _ in results:
            start = time.perf_counter()
            builder.build(text, spoken, signed)
            warm_ms += 1000 * (time.perf_counter() - start)

        variants = {"ours": builder}
        if not args.no_variants:
            variants["cubic"] = DraftBuilder(lexicon, clips, None)
            variants["regen_all"] = DraftBuilder(lexicon, clips, generator,
                                                 replace(DraftSettings(), keep_sign_motion=False))
            variants["no_low_pass"] = DraftBuilder(lexicon, clips, generator, replace(DraftSettings(), low_pass_hz=0.0))
            variants["regen_every4"] = DraftBuilder(lexicon, clips, generator, replace(
                DraftSettings(), keep_sign_motion=False, generation_every=4))
        ratios: dict[str, dict[str, list[float]]] = {k: {"jerk": [], "dv": []} for k in variants}
        raw: dict[str, dict[str, list[float]]] = {k: {"jerk": [], "dv": []} for k in (*variants, "theirs")}
        fidelity: dict[str, list[float]] = {k: [] for k in variants}
        languages = set()
        for (text, spoken, signed), result in results:
            entries = [s.entry for s in result.plan.signs if s.entry is not None]
            if len(entries) < 2:
                continue
            peer_bytes, peer_joins = peer_concatenation(entries)
            theirs = _peer_positions(peer_bytes)
            their_stats = [join_stats(theirs, a, b) for a, b in peer_joins]
            for name, variant in variants.items():
                ours_result = result if name == "ours" else variant.build(text, spoken, signed)
                ours = hand_positions(ours_result.project.motion.features)
                joins = _sign_joins(ours_result)
                fidelity[name].append(in_sign_error_cm(ours_result))
                for (a, b), their in zip(joins, their_stats, strict=False):
                    mine = join_stats(ours, a, b)
                    ratios[name]["jerk"].append(mine.peak_jerk / max(their.peak_jerk, _EPS))
                    ratios[name]["dv"].append(mine.velocity_jump / max(their.velocity_jump, _EPS))
                    raw[name]["jerk"].append(mine.peak_jerk)
                    raw[name]["dv"].append(mine.velocity_jump)
            raw["theirs"]["jerk"] += [s.peak_jerk for s in their_stats]
            raw["theirs"]["dv"] += [s.velocity_jump for s in their_stats]
            languages.add(signed)
    report = {
        "join_peak_jerk_ratio": round(_median(ratios["ours"]["jerk"]), 3),
        "join_velocity_jump_ratio": round(_median(ratios["ours"]["dv"]), 3),
        "draft_ms_per_sign": round(cold_ms / max(n_signs, 1), 1),
        "draft_ms_per_sign_warm": round(warm_ms / max(n_signs, 1), 1),
        "sentences": len(results),
        "signs": n_signs,
        "joins": len(ratios["ours"]["jerk"]),
        "signed_languages": sorted(languages),
        "lexicon_hit_rate": hit_rate,
        "median_peak_jerk_m_s3": {k: round(_median(v["jerk"]), 2) for k, v in raw.items()},
        "median_velocity_jump_m_s": {k: round(_median(v["dv"]), 4) for k, v in raw.items()},
        "in_sign_error_cm": {k: round(_median(v), 2) for k, v in fidelity.items()},
        "generator": str(getattr(generator, "version", "cubic")),
        "warnings": warnings + skipped,
    }
    for name in variants:
        if name != "ours":
            report[f"{name}_join_peak_jerk_ratio"] = round(_median(ratios[name]["jerk"]), 3)
            report[f"{name}_join_velocity_jump_ratio"] = round(_median(ratios[name]["dv"]), 3)
    return report


def in_sign_error_cm(result: DraftResult) -> float:
    """Mean hand-joint distance (cm) inside signs between the draft and the lexicon clips it was laid out from."""
    segments = [s for s in result.project.segments if s.confidence > 0]
    frames = np.concatenate([np.arange(s.start, s.end) for s in segments])
    assert result.layout is not None, "the pipeline records its clip layout"
    draft = hand_positions(result.project.motion.features[frames])
    clips = hand_positions(result.layout.features[frames])
    return float(np.linalg.norm(draft - clips, axis=-1).mean() * 100)


def _sign_joins(result: DraftResult) -> list[tuple[int, int]]:
    """Our joins between consecutive lexicon clips: the gaps between consecutive signed segments."""
    segments = [s for s in result.project.segments if s.confidence > 0]
    return [(a.end, b.start) for a, b in itertools.pairwise(segments)]
