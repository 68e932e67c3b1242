"""A real X display for the GL viewport when none is present (benchmarks and headless runs).

The viewport draws through OpenGL on Qt's xcb platform; Qt's offscreen
platform has no GL context to give vispy, so headless runs start Xvfb.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def real_display(width: int = 1400, height: int = 900) -> Iterator[str | None]:
    """Yield a DISPLAY usable by Qt's xcb platform: the current one, or a private Xvfb (None if impossible).

    Sets QT_QPA_PLATFORM=xcb for this process while it is active, so call it before the QApplication exists.
    """
    previous = {k: os.environ.get(k) for k in ("DISPLAY", "QT_QPA_PLATFORM")}
    process = None
    try:
        if not os.environ.get("DISPLAY"):
            xvfb = shutil.which("Xvfb")
            if xvfb is None:
                yield None
                return
            number = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
            process = subprocess.Popen([xvfb, f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            socket = Path(f"/tmp/.X11-unix/X{number}")
            deadline = time.monotonic() + 10
            while not socket.exists() and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            os.environ["DISPLAY"] = f":{number}"
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        yield os.environ["DISPLAY"]
    finally:
        if process is not None:
            process.terminate()
            process.wait(5)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
