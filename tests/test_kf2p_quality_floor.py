"""Quality floor: the shipped KF2P is no worse than cubic interpolation on any kind of signing.

A few held-out clips (the corpus's test split) per group from the shared sign data, with the two keyframe
layouts of issue #24 (FAST's onset / middle / offset and regular keyframes every 8 frames), scored on natural
frames only (stitched transitions left out). A retrain that makes any group worse than cubic fails here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import Motion

#: Up to 8 held-out clips a group (all the test split has for the sentence groups): with 3, one short DSGS clip
#: decided its group although the whole DSGS test split is 9.5% below cubic (models/kf2p/MODEL_CARD.md).
CLIPS_PER_GROUP = 8
GROUPS = ("dgs_sentences", "how2sign_sentences", "phoenix_ptslp", "dsgs_isolated", "fingerspelling_lexicon")


@cache
def _held_out_clips(root: Path) -> dict[str, list[dict[str, np.ndarray]]]:
    from signeditor.data.build import build_clip
    from signeditor.data.sources import all_sources

    chosen: dict[str, list[dict[str, np.ndarray]]] = {g: [] for g in GROUPS}
    for source in all_sources(root):
        group = chosen.get(source.dataset)
        if group is None or source.split != "test" or len(group) >= CLIPS_PER_GROUP:
            continue
        if source.dataset == "dgs_sentences" and "original" not in source.source:
            continue
        group.append(build_clip(source, log=lambda _: None)[0])
    return chosen


@pytest.mark.parametrize("layout", ["fast", "every8"])
def test_shipped_kf2p_is_no_worse_than_cubic_on_any_group(shared_signdata: Path, layout: str) -> None:
    from signeditor.evaluation.kf2p import _fast_segmenter, clip_metrics, keyframes_for
    from signeditor.ml.kf2p.api import load_generator

    generator = load_generator(None, "cpu")
    segmenter = _fast_segmenter() if layout == "fast" else None
    for group, clips in _held_out_clips(shared_signdata).items():
        assert clips, group
        errors = {"kf2p": [], "cubic": []}
        for arrays in clips:
            motion = Motion(25.0, arrays["features"])
            frames, _ = keyframes_for(motion, arrays["labels"], segmenter, layout)
            anchors = AnchorSet(Anchor(int(f), motion.features[f]) for f in frames)
            preds = {"kf2p": generator.regenerate_between_anchors(motion, anchors).features,
                     "cubic": interpolate_between_anchors(motion.n_frames, anchors, "cubic")}
            scored = {m: clip_metrics(p, motion.features, frames, 25.0, ~arrays["stitched"]) for m, p in preds.items()}
            if all(v is not None for v in scored.values()):
                for m, v in scored.items():
                    errors[m].append((v["mpjpe_hands"], v["mpjpe_body"]))
        assert errors["kf2p"], group
        kf2p, cubic = np.mean(errors["kf2p"], axis=0), np.mean(errors["cubic"], axis=0)
        assert kf2p[0] <= cubic[0] * (1 + 1e-4), f"{group} ({layout}): hands {kf2p[0]:.4f} vs cubic {cubic[0]:.4f}"
        assert kf2p[1] <= cubic[1] * (1 + 1e-4), f"{group} ({layout}): body {kf2p[1]:.4f} vs cubic {cubic[1]:.4f}"
