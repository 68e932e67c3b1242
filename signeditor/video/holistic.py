"""MediaPipe Holistic behind a small seam: one RGB frame in, the holistic layout's points out.

The layout (component and point names, limbs) and the per-frame conversion are
pose-format's own (``pose_format.utils.holistic``), so the files we write are
the ones every pose-format tool and ``../shared/signdata``'s full holistic files
use: POSE_LANDMARKS, FACE_LANDMARKS, LEFT/RIGHT_HAND_LANDMARKS in image pixels
(z in MediaPipe's width-normalised units) and POSE_WORLD_LANDMARKS (metres,
hip-centred, x and y scaled by the image size as pose-format stores them),
which carry real depth for the body.

Only ``mediapipe==0.10.14`` is known to work (see the ``[video]`` extra in
pyproject.toml). A later release without ``mp.solutions.holistic`` needs
another :class:`HolisticDetector` (the tasks API's landmarker) behind the
same protocol; nothing else would change.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import numpy as np

from signeditor.io.errors import FileFormatError

if TYPE_CHECKING:
    from pose_format.pose_header import PoseHeader

#: The only model complexity whose models ship inside the wheel (0 and 2 are downloaded at run time).
MODEL_COMPLEXITY = 1
_OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")
VIDEO_EXTRA_HINT = "install the video extra: pip install 'signeditor[video]' (mediapipe 0.10.14)"


class HolisticDetector(Protocol):
    """Finds one person per frame; frames of one video must be passed in order (tracking)."""

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P, 3) points in the holistic layout (original image pixels) and (P,) confidence (0 = missing)."""
        ...

    def close(self) -> None: ...


class VideoExtraMissing(RuntimeError):
    """MediaPipe is not installed (or too new): video import is unavailable, everything else works."""


def _holistic_module() -> ModuleType:
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging is noise for users
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
    # MediaPipe's OpenCV wheel points Qt at its own (Qt 5) plugins and fonts on import; the editor's Qt must not
    # follow it (nor must any process started from here).
    saved = {key: os.environ.get(key) for key in _OPENCV_QT_VARIABLES}
    try:
        import pose_format.utils.holistic as pf_holistic
    except ImportError as exc:
        raise VideoExtraMissing(f"video import needs MediaPipe: {VIDEO_EXTRA_HINT}") from exc
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return pf_holistic


def video_import_available() -> bool:
    try:
        _holistic_module()
    except VideoExtraMissing:
        return False
    return True


def holistic_header(width: int, height: int) -> PoseHeader:
    """pose-format's holistic header (543 + 33 world points) for a video of ``width``×``height`` pixels."""
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions

    pf_holistic = _holistic_module()
    return PoseHeader(version=0.2, dimensions=PoseHeaderDimensions(width=width, height=height, depth=0),
                      components=pf_holistic.holistic_components("XYZC"))


class MediaPipeHolistic:
    """MediaPipe's Holistic solution in video mode (tracking between frames), landmarks as pose-format writes them.

    ``width``/``height`` are the original video's: landmarks are normalised,
    so a downscaled frame gives coordinates in the original's pixels.
    """

    def __init__(self, width: int, height: int) -> None:
        self._pf = _holistic_module()
        self.width, self.height = int(width), int(height)
        solutions = getattr(self._pf.mp, "solutions", None)
        if solutions is None or not hasattr(solutions, "holistic"):
            raise VideoExtraMissing(f"this MediaPipe has no Holistic solution; {VIDEO_EXTRA_HINT}")
        with _quiet_stderr():
            self._holistic = solutions.holistic.Holistic(
                static_image_mode=False, model_complexity=MODEL_COMPLEXITY, smooth_landmarks=True,
                refine_face_landmarks=False)
        self._started = False

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._started:
            results = self._holistic.process(np.ascontiguousarray(rgb))
        else:  # the graph starts on the first frame, with a burst of C++ log lines
            with _quiet_stderr():
                results = self._holistic.process(np.ascontiguousarray(rgb))
            self._started = True
        pf, w, h = self._pf, self.width, self.height
        parts = (
            pf.body_points(results.pose_landmarks, w, h, 33),
            pf.component_points(results.face_landmarks, w, h, pf.FACE_POINTS_NUM()),
            pf.component_points(results.left_hand_landmarks, w, h, 21),
            pf.component_points(results.right_hand_landmarks, w, h, 21),
            pf.body_points(results.pose_world_landmarks, w, h, 33),
        )
        points = np.concatenate([p for p, _ in parts]).astype(np.float32)
        confidence = np.concatenate([c for _, c in parts]).astype(np.float32)
        if results.pose_landmarks is not None:  # visibility can round to 0 for a detected point: keep it observed
            confidence[:33] = np.maximum(confidence[:33], 1e-3)
            confidence[-33:] = np.maximum(confidence[-33:], 1e-3)
        return points, confidence

    def close(self) -> None:
        self._holistic.close()


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C++ graph's start-up chatter on fd 2 (TensorFlow Lite, absl), which Python cannot filter."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def check_points(points: np.ndarray, confidence: np.ndarray, n_points: int, path: str | Path) -> None:
    """A detector's output must match the layout; anything else is a bug worth a clear message."""
    if points.shape != (n_points, 3) or confidence.shape != (n_points,):
        raise FileFormatError(path, f"detector returned {points.shape} points for a {n_points}-point layout")
