"""What a KF2P model file is, for both of its forms (the torch ``.pt`` and its ONNX export), without torch."""

from __future__ import annotations

from pathlib import Path

CHECKPOINT_FORMAT = "signeditor-kf2p"
#: Bump when the network inputs or the representation change; older files are refused with a clear error.
CHECKPOINT_VERSION = 2


class ModelLoadError(RuntimeError):
    """Weights are missing, damaged, unsafe or from an incompatible version; the message says which."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
