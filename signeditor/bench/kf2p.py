"""KF2P speed: full 250-frame regeneration and a one-anchor window edit, median milliseconds."""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.ml.kf2p.api import Generator, ModelLoadError, load_generator
from signeditor.ml.kf2p.synthetic import synthetic_clip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default=None, help="KF2P weights (default: shipped)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=None)
    # One thread by default, as the editor runs KF2P (gui.regeneration): more intra-op threads compete with the GL
    # rasteriser there, and on this project's 2 shared cores two threads spin-wait on each other (2x slower).
    parser.add_argument("--threads", type=int, default=1,
                        help="inference CPU threads (default: 1, as the editor; 0 = the library's)")
    parser.add_argument("--backend", choices=("onnx", "torch", "both"), default="both",
                        help="what runs the network (default: both that are installed; the editor uses ONNX)")


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: first call pays for allocation and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def _untrained(device: str | None) -> Generator:
    from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
    from signeditor.ml.kf2p.representation import Normaliser

    return Generator(KF2PNet(KF2PConfig()), Normaliser.identity(), [], device)


def _measure(generator: Generator, steps: int | None, repeats: int) -> dict:
    features, _ = synthetic_clip(np.random.default_rng(0), 250)
    motion = Motion(25.0, features)
    anchors = AnchorSet(Anchor(f, features[f]) for f in range(0, 250, 10))
    full = _median_ms(lambda: generator.regenerate_between_anchors(motion, anchors, steps=steps), repeats)
    base = generator.regenerate_between_anchors(motion, anchors, steps=steps)
    moved = anchors[12]
    edited = anchors.replaced(moved.moved_to(moved.frame + 3))
    before, after = edited.neighbours(moved.frame + 3)
    window = (before or 0, (after or 249) + 1)
    win = _median_ms(lambda: generator.regenerate_between_anchors(base, edited, frame_range=window, steps=steps),
                     repeats)
    return {"kf2p_ms_full_250": round(full, 2), "kf2p_ms_window": round(win, 2),
            "window_frames": window[1] - window[0], "device": str(generator.device)}


def run(args: argparse.Namespace) -> dict:
    backends = ["onnx", "torch"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and importlib.util.find_spec("torch") is None:
        backends.remove("torch")
    results = {}
    weights = "shipped" if args.weights is None else str(args.weights)
    generator = None
    for backend in backends:
        try:
            generator = load_generator(args.weights, args.device, backend=backend, threads=args.threads or None)
        except ModelLoadError:
            if backend != "torch":
                continue
            generator = _untrained(args.device)
            weights = "untrained (no weights found)"
        results[backend] = _measure(generator, args.steps, args.repeats)
    if generator is None:
        raise SystemExit("no KF2P weights could be loaded")
    editor = results.get("onnx", results[backends[-1]])
    return {
        **editor,  # the editor's path (ONNX) at the top level
        "by_backend": results,
        "steps": args.steps or generator.default_steps,
        "threads": args.threads,
        "weights": weights,
        "model_version": generator.version,
        "target_ms_full_250": 10.0,
        "target_ms_window": 5.0,
    }
