"""Train the KF2P keyframe-to-pose generator from the corpus (CPU, GPU or torchrun DDP)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from signeditor.data.corpus import clips_for_split, load_corpus
from signeditor.ml.kf2p.api import DEFAULT_WEIGHTS
from signeditor.ml.kf2p.model import KF2PConfig
from signeditor.ml.kf2p.training import TrainClip, TrainConfig, train

MIN_CLIP_FRAMES = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path("data"), help="corpus folder (index.json + clips/)")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_WEIGHTS, help="where to write the EMA weights")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop early after this wall time")
    parser.add_argument("--channels", type=str, default="96,128,192", help="U-Net widths per level")
    parser.add_argument("--blocks", type=int, default=1, help="residual blocks per level")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--default-steps", type=int, default=4, help="sampler steps the shipped model uses")
    parser.add_argument("--noise-scale", type=float, default=1.0, help="sampling noise scale stored with the model")
    parser.add_argument("--no-text", action="store_true", help="ablation: train without text conditioning")


def load_train_clips(data: Path, split: str, *, with_text: bool = True) -> list[TrainClip]:
    """Clips of one split as float arrays; never called with split 'test'."""
    if split == "test":
        raise ValueError("KF2P never trains or validates on the test split")
    clips = []
    for record in clips_for_split(load_corpus(data), split):
        if record.n_frames < MIN_CLIP_FRAMES:
            continue
        arrays = record.load()
        labels = arrays["labels"].astype(np.int8) if "labels" in arrays else np.full(record.n_frames, -1, np.int8)
        text = " ".join([record.text, *record.glosses]).strip() if with_text else ""
        clips.append(TrainClip(arrays["features"].astype(np.float32), labels, text, record.signed_language))
    return clips


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    train_clips = load_train_clips(args.data, "train", with_text=not args.no_text)
    val_clips = load_train_clips(args.data, "val", with_text=not args.no_text)
    if not train_clips:
        raise SystemExit(f"no training clips in {args.data}")
    model = KF2PConfig(channels=tuple(int(c) for c in args.channels.split(",")), blocks_per_level=args.blocks)
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      max_minutes=args.max_minutes, model=model)
    meta = {"run_id": time.strftime("%Y%m%d%H%M", time.gmtime()), "default_steps": args.default_steps,
            "sampler": "euler", "noise_scale": args.noise_scale,
            "train_clips": len(train_clips), "val_clips": len(val_clips), "text": not args.no_text}
    summary = train(train_clips, val_clips, cfg, args.out, meta=meta)
    for key in ("ema_model", "normaliser", "languages", "history"):
        summary.pop(key, None)
    summary["out"] = str(args.out)
    summary["train_clips"] = len(train_clips)
    summary["val_clips"] = len(val_clips)
    return summary
