"""KF2P speed: full 250-frame regeneration and a one-anchor window edit, median milliseconds."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.ml.kf2p.api import Generator, ModelLoadError, load_generator
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet, count_parameters
from signeditor.ml.kf2p.representation import Normaliser
from signeditor.ml.kf2p.synthetic import synthetic_clip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default=None, help="KF2P weights (default: shipped)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: first call pays for allocation and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def run(args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        generator = load_generator(args.weights, args.device)
        weights = "shipped" if args.weights is None else str(args.weights)
    except ModelLoadError:
        device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        generator = Generator(KF2PNet(KF2PConfig()), Normaliser.identity(), [], device)
        weights = "untrained (no weights found)"
    features, _ = synthetic_clip(np.random.default_rng(0), 250)
    motion = Motion(25.0, features)
    anchors = AnchorSet(Anchor(f, features[f]) for f in range(0, 250, 10))
    full = _median_ms(lambda: generator.regenerate_between_anchors(motion, anchors, steps=args.steps), args.repeats)
    base = generator.regenerate_between_anchors(motion, anchors, steps=args.steps)
    moved = anchors[12]
    edited = anchors.replaced(moved.moved_to(moved.frame + 3))
    before, after = edited.neighbours(moved.frame + 3)
    window = (before or 0, (after or 249) + 1)
    win = _median_ms(lambda: generator.regenerate_between_anchors(base, edited, frame_range=window, steps=args.steps),
                     args.repeats)
    return {
        "kf2p_ms_full_250": round(full, 2),
        "kf2p_ms_window": round(win, 2),
        "window_frames": window[1] - window[0],
        "steps": args.steps or generator.default_steps,
        "params": count_parameters(generator.net),
        "device": str(generator.device),
        "torch_threads": torch.get_num_threads(),
        "weights": weights,
        "model_version": generator.version,
    }
