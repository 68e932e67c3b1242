"""PyInstaller runtime hook: stand-ins for OpenCV and matplotlib, which the bundle leaves out.

MediaPipe imports both only in ``mediapipe.python.solutions.drawing_utils``, to draw landmarks on images (OpenCV is
305 MB with its Qt 5 and FFmpeg; matplotlib, kiwisolver and contourpy about 22 MB). Holistic itself takes numpy
frames (decoded by PyAV), so video import never calls them, and nothing else in the app imports them. Importing
MediaPipe needs the names to exist; using anything from them says that the library is not in the packaged app.
"""

import sys
import types


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"{self.__name__}.{name}: {self.__name__} is not part of the packaged SignEditor "
                          "(MediaPipe drawing only)")


def _stand_in(name: str) -> types.ModuleType:
    module = sys.modules.setdefault(name, _StandIn(name))
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(_stand_in(parent), child, module)  # `import matplotlib.pyplot as plt` reads the attribute
    return module


for _name in ("cv2", "matplotlib.pyplot"):
    _stand_in(_name)
