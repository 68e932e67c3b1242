"""FAST segmentation speed on CPU: batched frames per second and latency for one 10 s clip, ONNX and torch."""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

from signeditor.core.motion import Motion


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: the shipped one)")
    parser.add_argument("--clips", type=int, default=64, help="clips of 250 frames in the batched run")
    parser.add_argument("--repeats", type=int, default=20, help="timed single-clip runs (median reported)")
    # One thread by default: on a busy machine (this project's 2 shared cores) two threads spin-wait on
    # each other and run 10x slower and erratically; one core is the number a user can count on.
    parser.add_argument("--threads", type=int, default=1, help="inference CPU threads (default: 1; 0 = library's)")
    parser.add_argument("--backend", choices=("onnx", "torch", "both"), default="both",
                        help="what runs the network (default: both that are installed; the editor uses ONNX)")


def _clip(n_frames: int, seed: int) -> Motion:
    """A 10 s clip of synthetic signing (speed does not depend on the content)."""
    from signeditor.ml.fast.synthetic import synthetic_motion

    rng = np.random.default_rng(seed)
    parts = []
    while sum(len(p) for p in parts) < n_frames:
        parts.append(synthetic_motion(rng, 4)[0].features)
    return Motion(25.0, np.concatenate(parts)[:n_frames])


def _measure(backend: str, args: argparse.Namespace) -> dict:
    from signeditor.ml.fast.api import load_segmenter

    segmenter = load_segmenter(args.weights, backend=backend, threads=args.threads or None)
    clip = _clip(250, 0)
    for _ in range(3):
        segmenter.segment(clip)
    times = []
    for _ in range(args.repeats):
        began = time.perf_counter()
        segmenter.segment(clip)
        times.append(time.perf_counter() - began)
    clips = [_clip(250, 1 + i % 4) for i in range(args.clips)]
    segmenter.segment_batch(clips[:4])
    # The network alone as well: features and decoding are numpy and the same for every backend.
    streams = segmenter._streams(clips)
    began = time.perf_counter()
    segmenter.segment_batch(clips)
    batched = time.perf_counter() - began
    began = time.perf_counter()
    segmenter._probabilities_of_streams(streams)
    network = time.perf_counter() - began
    return {"fast_frames_per_s": round(args.clips * 250 / batched, 1),
            "fast_network_frames_per_s": round(args.clips * 250 / network, 1),
            "fast_ms_10s_clip": round(1000 * float(np.median(times)), 2)}


def run(args: argparse.Namespace) -> dict:
    backends = ["onnx", "torch"] if args.backend == "both" else [args.backend]
    if args.backend == "both" and importlib.util.find_spec("torch") is None:
        backends.remove("torch")
    results = {backend: _measure(backend, args) for backend in backends}
    editor = results.get("onnx", results[backends[0]])
    return {
        **editor,  # the editor's path (ONNX) at the top level
        "by_backend": results,
        "threads": args.threads,
        "clips": args.clips,
        "target_frames_per_s": 150000,
        "target_ms_10s_clip": 20.0,
    }
