"""Opening an exported network with ONNX Runtime: the editor's inference path, no torch needed.

``signeditor train`` writes each network as ``NAME.onnx`` beside ``NAME.pt``, with a JSON header in the ONNX
metadata (config, normalisation, the SHA-256 of the ``.pt`` it came from), so the editor needs no pickle and
no torch to load a model, and can tell an ONNX file left behind by a retrained ``.pt``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnxruntime

#: Metadata key of the JSON header every exported SignEditor network carries.
HEADER_KEY = "signeditor"


class OnnxModelError(RuntimeError):
    """An ONNX file cannot be used: missing, damaged, foreign, or exported from a different ``.pt``."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_runtime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def providers(device: str | None) -> list[str]:
    """CUDA first where ONNX Runtime has it (unless ``device`` says cpu), CPU always as the fallback."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    wanted = [] if device == "cpu" else ["CUDAExecutionProvider"]
    return [p for p in wanted if p in available] + ["CPUExecutionProvider"]


def open_session(path: str | Path, device: str | None = None,
                 threads: int | None = None) -> tuple[onnxruntime.InferenceSession, dict[str, Any]]:
    """The session and its JSON header; ``threads`` caps intra-op threads (default: OMP_NUM_THREADS or ORT's)."""
    path = Path(path)
    try:
        import onnxruntime
    except ImportError as exc:
        raise OnnxModelError(path, "running an ONNX model needs onnxruntime (pip install onnxruntime)") from exc
    if not path.is_file():
        raise OnnxModelError(path, "ONNX model not found")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=providers(device))
        raw = session.get_modelmeta().custom_metadata_map.get(HEADER_KEY)
    except Exception as exc:  # ORT raises its own exception types for damaged files
        raise OnnxModelError(path, f"not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc
    if raw is None:
        raise OnnxModelError(path, "ONNX model has no SignEditor header (`signeditor train export-onnx` writes it)")
    try:
        header = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OnnxModelError(path, f"ONNX model header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise OnnxModelError(path, "ONNX model header is not a JSON object")
    return session, header


def stale_export(onnx_path: Path, header: dict[str, Any]) -> str | None:
    """Why ``onnx_path`` no longer matches the ``.pt`` beside it (None when it matches or no ``.pt`` is there)."""
    source = onnx_path.with_suffix(".pt")
    if not source.is_file():
        return None
    if header.get("source_sha256") != sha256_of(source):
        return (f"exported from a different {source.name} than the one beside it; "
                f"re-export with `signeditor train export-onnx {source}`")
    return None


def session_device(session: onnxruntime.InferenceSession) -> str:
    return "cuda" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
