"""Run under a real X server with the [video] extra: film the avatar's fitted-face parameters, re-detect the face
with MediaPipe Holistic and fit the face channel again. Prints one JSON report (tests/test_face_redetect.py)."""

from __future__ import annotations

import json
import sys

import numpy as np


def face_track(n_frames: int = 36) -> np.ndarray:
    """Neutral, brows raised on frames 8-15, mouth open on 20-27, neutral again."""
    from signeditor.core.face import FACE_DIM, FACE_INDEX

    face = np.zeros((n_frames, FACE_DIM), np.float32)
    face[8:16, FACE_INDEX["brow_raise_l"]] = face[8:16, FACE_INDEX["brow_raise_r"]] = 1.0
    face[20:28, FACE_INDEX["mouth_open"]] = 0.8
    return face


def main() -> None:
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["face-redetect-probe"])
    from signeditor.core.face import FACE_INDEX, fit_face_parameters
    from signeditor.core.motion import identity_features
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar
    from signeditor.render.viewport import Viewport
    from signeditor.video.holistic import MediaPipeHolistic

    width, height = 640, 480
    viewport = Viewport(size=(width, height))
    viewport.native.show()
    app.processEvents()
    viewport.set_avatar(load_avatar(DEFAULT_AVATAR))
    viewport.set_theme("light")
    pose = identity_features(1)[0]
    head = viewport.avatar.joint_positions(pose)["Head"]
    viewport.view.camera.center = tuple(head + np.array([0.0, -0.05, 0.0]))
    viewport.view.camera.distance = 1.1
    detector = MediaPipeHolistic(width, height)
    face = face_track()
    points, seen = [], []
    for frame in range(len(face)):
        viewport.set_pose(pose, face=face[frame])
        detected, confidence = detector.detect(np.asarray(viewport.render_image())[..., :3])
        points.append(detected[33:33 + 468])
        seen.append(bool(confidence[33:33 + 468].max() > 0))
    detector.close()
    points_by_index = {str(i): np.stack([p[i] for p in points]).astype(np.float64) for i in range(468)}
    fitted = fit_face_parameters(points_by_index, np.array(seen))

    def correlation(*names: str) -> float:
        source = face[:, [FACE_INDEX[n] for n in names]].mean(axis=1)
        found = fitted[:, [FACE_INDEX[n] for n in names]].mean(axis=1)
        return round(float(np.corrcoef(source, found)[0, 1]), 3)

    print(json.dumps({"frames_with_face": int(sum(seen)), "frames": len(face),
                      "brow_correlation": correlation("brow_raise_l", "brow_raise_r"),
                      "mouth_correlation": correlation("mouth_open")}))


if __name__ == "__main__":
    main()
    sys.exit(0)
