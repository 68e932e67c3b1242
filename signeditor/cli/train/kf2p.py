"""Train the KF2P keyframe-to-pose generator from the corpus (CPU, GPU, or several with torchrun)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from signeditor.cli.train._outputs import add_output_arguments, file_sha256, training_output
from signeditor.core.motion import Motion
from signeditor.core.segments import labels_from_segments
from signeditor.data.corpus import clips_for_split, load_corpus
from signeditor.data.signspark_corpus import is_signspark_corpus, signspark_clips
from signeditor.io.errors import FileFormatError
from signeditor.ml.distributed import init_distributed
from signeditor.ml.fast.api import DEFAULT_WEIGHTS as FAST_WEIGHTS
from signeditor.ml.kf2p.api import DEFAULT_WEIGHTS
from signeditor.ml.kf2p.checkpoint import ModelLoadError, load_checkpoint
from signeditor.ml.kf2p.model import KF2PConfig
from signeditor.ml.kf2p.trainer import train
from signeditor.ml.kf2p.training import TrainClip, TrainConfig

MIN_CLIP_FRAMES = 16


#: The shipped recipe: the command's defaults come from here, so there is one place that states it.
RECIPE = TrainConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    net = RECIPE.model
    parser.add_argument("--data", type=Path, default=Path("data"),
                        help="corpus folder (index.json + clips/) or SignSparK LMDB corpus (train/ val/ databases)")
    add_output_arguments(parser, DEFAULT_WEIGHTS)
    parser.add_argument("--fast-weights", type=Path, default=FAST_WEIGHTS,
                        help="FAST weights that lay out half the training keyframes (default: the shipped ones; "
                             "their SHA-256 is recorded in the checkpoint)")
    parser.add_argument("--steps", type=int, default=RECIPE.steps)
    parser.add_argument("--batch-size", type=int, default=RECIPE.batch_size)
    parser.add_argument("--lr", type=float, default=RECIPE.lr)
    parser.add_argument("--weight-decay", type=float, default=RECIPE.weight_decay)
    parser.add_argument("--seed", type=int, default=RECIPE.seed)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop early after this wall time")
    parser.add_argument("--channels", type=str, default=",".join(map(str, net.channels)), help="U-Net widths")
    parser.add_argument("--blocks", type=int, default=net.blocks_per_level, help="residual blocks per level")
    parser.add_argument("--dropout", type=float, default=net.dropout, help="dropout inside the residual blocks")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: bit-exact reruns)")
    parser.add_argument("--default-steps", type=int, default=RECIPE.default_steps,
                        help="sampler steps the shipped model uses")
    parser.add_argument("--noise-scale", type=float, default=RECIPE.default_noise_scale,
                        help="the shipped model's default sampling noise scale (0: most likely motion)")
    parser.add_argument("--train-noise-scales", type=str, default=",".join(map(str, RECIPE.noise_scales)),
                        help="starting-noise widths trained on, comma-separated (several: the net is told which)")
    parser.add_argument("--t-zero-prob", type=float, default=RECIPE.t_zero_prob,
                        help="share of noise-scale-0 examples at flow time 0 (the sampler's first step)")
    parser.add_argument("--end-tension", type=float, default=RECIPE.end_tension,
                        help="base-spline tension at the first and last key (default: fitted; 0: Catmull-Rom)")
    parser.add_argument("--position-weight", type=float, default=RECIPE.loss_weights["position"],
                        help="weight of the finger-position loss after forward kinematics (0: off)")
    parser.add_argument("--hand-shape-weight", type=float, default=RECIPE.loss_weights["hand_shape"],
                        help="weight of the wrist-relative hand-shape loss after forward kinematics (0: off)")
    parser.add_argument("--continuous-share", type=float, default=RECIPE.continuous_share,
                        help="share of training crops drawn from continuous signing (sentences)")
    parser.add_argument("--no-timing-channels", action="store_true",
                        help="ablation: do not give the network each frame's phase and gap length between anchors")
    parser.add_argument("--time-warp-prob", type=float, default=RECIPE.time_warp_prob,
                        help="chance of replaying a training clip 0.8-1.25x as fast")
    parser.add_argument("--layout-augmentation", type=float, default=RECIPE.layout_augmentation,
                        help="how often training disturbs anchor layouts (deletions, partial streams, context)")
    parser.add_argument("--select-every", type=int, default=RECIPE.select_every,
                        help="score the EMA weights on validation every N steps and keep the best")
    parser.add_argument("--no-fast-keyframes", action="store_true",
                        help="train on annotated keyframe layouts only (not also on FAST's)")
    parser.add_argument("--no-text", action="store_true", help="ablation: train without text conditioning")
    parser.add_argument("--no-gate", action="store_true",
                        help="keep the whole network output (no residual gate fitted on validation)")
    parser.add_argument("--state", type=Path, default=None,
                        help="training state file to write every --state-every steps (for --resume)")
    parser.add_argument("--state-every", type=int, default=100, help="steps between training state saves")
    parser.add_argument("--resume", action="store_true", help="continue from --state (same number of processes)")


def _segmenter_tags(weights: Path) -> Callable[[np.ndarray], np.ndarray] | None:
    """FAST's per-frame tags for a clip, or None when FAST's weights are unusable (training then uses labels only)."""
    try:
        from signeditor.ml.fast.api import load_segmenter

        segmenter = load_segmenter(weights)
    except FileFormatError as exc:
        print(f"training on annotated keyframes only: {exc}", file=sys.stderr)
        return None

    def tags(features: np.ndarray) -> np.ndarray:
        segments = segmenter.segment(Motion(25.0, features))
        return np.asarray(labels_from_segments(segments, len(features)), dtype=np.int8)

    return tags


def load_train_clips(data: Path, split: str, *, with_text: bool = True,
                     segmenter_tags: Callable[[np.ndarray], np.ndarray] | None = None,
                     shard: Callable[[list], list] | None = None) -> list[TrainClip]:
    """Clips of one split as float arrays; never called with split 'test'.

    ``data`` is a ``signeditor data build`` corpus or a SignSparK LMDB corpus; ``shard`` keeps this rank's
    share of the clips (before their arrays are read) when training runs on several processes.
    """
    if split == "test":
        raise ValueError("KF2P never trains or validates on the test split")
    keep = shard or (lambda items: items)
    if is_signspark_corpus(data):
        return [TrainClip(c.features, c.labels, " ".join([c.text, *c.glosses]).strip() if with_text else "",
                          c.signed_language, segmenter_tags(c.features) if segmenter_tags is not None else None,
                          "sentence")
                for c in signspark_clips(data, split, keep) if len(c.features) >= MIN_CLIP_FRAMES]
    clips = []
    for record in keep([r for r in clips_for_split(load_corpus(data), split) if r.n_frames >= MIN_CLIP_FRAMES]):
        arrays = record.load()
        labels = arrays["labels"].astype(np.int8) if "labels" in arrays else np.full(record.n_frames, -1, np.int8)
        text = " ".join([record.text, *record.glosses]).strip() if with_text else ""
        features = arrays["features"].astype(np.float32)
        fast_tags = segmenter_tags(features) if segmenter_tags is not None else None
        clips.append(TrainClip(features, labels, text, record.signed_language, fast_tags, record.kind,
                               arrays["stitched"].astype(bool), record.natural_continuous))
    return clips


def run(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    ctx = init_distributed()
    tags = None if args.no_fast_keyframes else _segmenter_tags(args.fast_weights)
    fast_sha256 = file_sha256(args.fast_weights) if tags is not None else None
    if ctx.is_main:
        _warn_if_fast_differs_from_shipped_kf2p(fast_sha256)
    out = training_output("kf2p", args.out, args.install, DEFAULT_WEIGHTS)
    train_clips = load_train_clips(args.data, "train", with_text=not args.no_text, segmenter_tags=tags,
                                   shard=ctx.shard)
    # Validation and model selection run on rank 0 only.
    val_clips = load_train_clips(args.data, "val", with_text=not args.no_text, segmenter_tags=tags) \
        if ctx.is_main else []
    if not train_clips:
        raise SystemExit(f"no training clips in {args.data}" + (f" for rank {ctx.rank}" if ctx.distributed else ""))
    n_train = int(ctx.all_reduce_sum(np.array(float(len(train_clips)))))
    noise_scales = tuple(float(v) for v in args.train_noise_scales.split(","))
    model = KF2PConfig(channels=tuple(int(c) for c in args.channels.split(",")), blocks_per_level=args.blocks,
                       dropout=args.dropout, noise_conditioning=len(noise_scales) > 1,
                       timing_channels=not args.no_timing_channels)
    cfg = replace(RECIPE, steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
                  seed=args.seed, max_minutes=args.max_minutes, noise_scales=noise_scales,
                  t_zero_prob=args.t_zero_prob, end_tension=args.end_tension,
                  loss_weights={**RECIPE.loss_weights, "position": args.position_weight,
                                "hand_shape": args.hand_shape_weight},
                  continuous_share=args.continuous_share,
                  time_warp_prob=args.time_warp_prob, layout_augmentation=args.layout_augmentation,
                  default_steps=args.default_steps, default_noise_scale=args.noise_scale,
                  select_every=args.select_every, model=model)
    meta = {"run_id": time.strftime("%Y%m%d%H%M", time.gmtime()),
            "train_clips": n_train, "val_clips": len(val_clips), "text": not args.no_text,
            "fast_weights_sha256": fast_sha256}
    summary = train(train_clips, val_clips, cfg, out, meta=meta, state_path=args.state,
                    state_every=args.state_every, resume=args.resume)
    if not ctx.is_main:
        return {}
    if not args.no_gate and val_clips and Path(out).is_file():  # a run stopped before any weights has none
        summary["residual_gate"], summary["residual_gate_report"] = install_residual_gate(out, val_clips)
    for key in ("ema_model", "normaliser", "languages", "history"):
        summary.pop(key, None)
    summary["out"] = str(out)
    if Path(out).is_file():  # the editor runs the ONNX export
        from signeditor.ml.onnx_export import export_onnx

        summary["onnx"] = export_onnx(out)
    summary["fast_weights_sha256"] = fast_sha256
    summary["train_clips"] = n_train
    summary["val_clips"] = len(val_clips)
    return summary


def install_residual_gate(weights: Path, clips: list[TrainClip]) -> tuple[list[float], dict]:
    """Choose the residual gate of ``weights`` on ``clips`` (validation) and write it into the checkpoint."""
    from signeditor.ml.kf2p.api import Generator
    from signeditor.ml.kf2p.checkpoint import save_checkpoint
    from signeditor.ml.kf2p.gate import fit_residual_gate

    net, normaliser, languages, meta = load_checkpoint(weights)
    gate, report = fit_residual_gate(Generator(net, normaliser, languages, "cpu", meta), clips)
    print(f"residual gate (rest gaps then signing gaps; per gap-length bucket, edges {report['gap_edges']}: "
          f"body/left/right/jaw) {gate}: mean error ratio to cubic on val {report['mean_ratio_to_cubic']:.4f}",
          file=sys.stderr)
    save_checkpoint(weights, net, normaliser, languages, {**meta, "residual_gate": gate,
                                                          "residual_gate_gap_edges": report["gap_edges"],
                                                          "residual_gate_val": report["ratios_to_cubic"]})
    return gate, report


def _warn_if_fast_differs_from_shipped_kf2p(fast_sha256: str | None) -> None:
    """Half the training keyframes come from FAST: other FAST weights give other KF2P weights. Say so up front."""
    try:
        shipped = load_checkpoint(DEFAULT_WEIGHTS)[3].get("fast_weights_sha256")
    except ModelLoadError:
        return
    if shipped and shipped != fast_sha256:
        print(f"note: the shipped KF2P was trained with FAST weights {shipped[:12]}, this run uses "
              f"{(fast_sha256 or 'none')[:12]}: it will not reproduce the shipped KF2P", file=sys.stderr)
