"""Saving and loading KF2P weights safely: tensors and plain data only, never arbitrary pickles."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import torch

from signeditor.io.atomic import write_bytes_atomically
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.model_file import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, ModelLoadError
from signeditor.ml.kf2p.representation import Normaliser


def save_checkpoint(path: str | Path, net: KF2PNet, normaliser: Normaliser, languages: list[str],
                    meta: dict | None = None) -> None:
    """Write the (EMA) weights with everything needed to rebuild the network, atomically."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "config": net.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
        "normaliser": normaliser.to_dict(),
        "languages": list(languages),
        "meta": dict(meta or {}),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_bytes_atomically(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> tuple[KF2PNet, Normaliser, list[str], dict]:
    """Rebuild the network from a file; raises :class:`ModelLoadError` for every way a file can be wrong."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(path, "KF2P weights not found")
    try:
        # weights_only=True: a crafted file cannot run code while loading.
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError,
            AttributeError, TypeError) as exc:
        raise ModelLoadError(path, f"not a loadable KF2P weights file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ModelLoadError(path, "file is not a SignEditor KF2P checkpoint")
    version = payload.get("format_version")
    if version != CHECKPOINT_VERSION:
        raise ModelLoadError(path, f"checkpoint version {version!r} is not supported (expected {CHECKPOINT_VERSION})")
    try:
        config = KF2PConfig.from_dict(payload["config"])
        net = KF2PNet(config)
        net.load_state_dict(payload["state_dict"])
        normaliser = Normaliser.from_dict(payload["normaliser"])
        languages = [str(x) for x in payload["languages"]]
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(path, f"checkpoint contents are inconsistent ({exc})") from exc
    net.eval()
    return net, normaliser, languages, dict(payload.get("meta", {}))
