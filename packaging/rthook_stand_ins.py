"""PyInstaller runtime hook: a stand-in for OpenCV, which the bundle leaves out (305 MB with its Qt 5 and FFmpeg).

MediaPipe imports OpenCV only in ``mediapipe.python.solutions.drawing_utils``, to draw landmarks on images;
Holistic itself takes numpy frames (decoded by PyAV), so video import never calls it. Importing MediaPipe needs the
name to exist; using any of it says that OpenCV is not in the packaged app.
"""

import sys
import types


class _OpenCVStandIn(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"cv2.{name}: OpenCV is not part of the packaged SignEditor (MediaPipe drawing only)")


sys.modules.setdefault("cv2", _OpenCVStandIn("cv2"))
