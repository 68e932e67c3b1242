"""Video in: decode (PyAV), find the signer in every frame (MediaPipe Holistic), write ``.pose``, open it.

After the ``.pose`` is written, the import is the ordinary open path (IK,
FAST anchors), so a video gives the same project as its keypoints would. The
project keeps the video as its reference (path and offset, never a copy).

Nothing is half-written: the ``.pose`` and the project are written atomically
only after every frame was read; a cancelled or failed import leaves no file.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from signeditor.core.project import Project, ReferenceVideo
from signeditor.io.errors import FileFormatError
from signeditor.video.decode import VideoInfo, check_video, iter_frames
from signeditor.video.holistic import HolisticDetector, MediaPipeHolistic, check_points, holistic_header

#: Frames larger than this (longest side, pixels) are downscaled before detection: MediaPipe works on
#: 256-pixel crops, so full HD only costs colour conversion time; landmarks stay in the original's pixels.
DETECTION_MAX_SIDE = 960
#: Frames decoded ahead of the detector, on their own thread.
_PREFETCH = 8
OUTPUT_SUFFIXES = (".signproj", ".pose")


class ImportCancelled(Exception):
    """The user stopped the import; nothing was written."""


@dataclass(frozen=True)
class ImportProgress:
    stage: str  # "detecting" or "fitting"
    frame: int
    total: int
    frames_per_s: float
    seconds_left: float | None


@dataclass
class VideoImportResult:
    project: Project
    pose_path: Path
    project_path: Path | None
    info: VideoInfo
    #: Frame spans [start, end) where no person was found (filled by interpolation and flagged in the motion).
    gaps: list[tuple[int, int]] = field(default_factory=list)
    #: The signer was seen from behind (no face found, left shoulder on the image's left) and turned around.
    turned: bool = False
    detect_s: float = 0.0
    total_s: float = 0.0
    #: Frames the container announced, when fewer could be read (a truncated file imported as far as it goes).
    announced_frames: int | None = None

    def warnings(self) -> list[str]:
        notes = ["no face found and the signer's left shoulder is on the image's left: taken as seen from "
                 "behind and turned to face the camera"] if self.turned else []
        if self.announced_frames is not None:
            notes.append(f"the video is truncated or damaged: only {self.info.n_frames} of its "
                         f"{self.announced_frames} frames could be read; those were imported")
        if not self.gaps:
            return notes
        missing = sum(b - a for a, b in self.gaps)
        spans = ", ".join(f"{a}–{b - 1}" for a, b in self.gaps[:5]) + (" …" if len(self.gaps) > 5 else "")
        return [*notes, f"no person detected in {missing} of {self.info.n_frames} frames ({spans}); "
                "those frames were filled by interpolation and are flagged as filled"]


ProgressFn = Callable[[ImportProgress], None]
StopFn = Callable[[], bool]
DetectorFactory = Callable[[int, int], HolisticDetector]


def pose_path_for(output: Path) -> Path:
    """Where the keypoints go: the output itself, or ``OUT.pose`` beside ``OUT.signproj``."""
    return output if output.suffix.lower() == ".pose" else output.with_suffix(".pose")


def _gaps(found: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[1], found.astype(np.int8), [1]]))
    return list(zip(np.flatnonzero(edges == -1).tolist(), np.flatnonzero(edges == 1).tolist(), strict=True))


def _prefetched(frames: Iterator[np.ndarray], stop: threading.Event) -> Iterator[np.ndarray]:
    """Decode on a helper thread while the detector works on the previous frames (errors re-raised here)."""
    buffer: queue.Queue = queue.Queue(maxsize=_PREFETCH)
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised in its thread
            put(exc)
        finally:
            frames.close()  # the container closes in the thread that used it

    thread = threading.Thread(target=produce, name="video-decode", daemon=True)
    thread.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def detect_keypoints(video: Path, info: VideoInfo, detector: HolisticDetector, n_points: int,
                     progress: ProgressFn | None, should_stop: StopFn | None) -> tuple[np.ndarray, np.ndarray]:
    """(T, P, 3) points and (T, P) confidence for every frame of ``video`` that decodes (a file damaged part way
    gives the frames before the damage; FileFormatError when not even the first one decodes)."""
    points: list[np.ndarray] = []
    confidence: list[np.ndarray] = []
    stop = threading.Event()
    start = time.perf_counter()
    frames = _prefetched(iter_frames(video, DETECTION_MAX_SIDE), stop)
    try:
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except FileFormatError:
                if not points:
                    raise
                break  # damaged part way: the frames before the damage are good and kept
            if should_stop is not None and should_stop():
                raise ImportCancelled()
            p, c = detector.detect(frame)
            check_points(p, c, n_points, video)
            points.append(p)
            confidence.append(c)
            if progress is not None:
                done = len(points)
                rate = done / max(time.perf_counter() - start, 1e-9)
                total = max(info.n_frames, done)
                progress(ImportProgress("detecting", done, total, rate, (total - done) / rate))
    finally:
        frames.close()
    return np.stack(points), np.stack(confidence)


def seen_from_behind(points: np.ndarray, confidence: np.ndarray) -> bool:
    """True when the detector took the signer to be seen from behind: no face, left shoulder on the image's left.

    MediaPipe then labels and orders everything as for a back view (our
    faceless mannequin is always taken this way). Readers assume a signer
    facing the camera, so such detections are turned around before writing.
    """
    body = confidence[:, 11] > 0
    if not body.any():
        return False
    face_seen = (confidence[:, 33:33 + 468].max(axis=1) > 0)[body].mean()
    left_on_left = (points[body, 11, 0] < points[body, 12, 0]).mean()
    return bool(face_seen < 0.1 and left_on_left > 0.5)


def turned_to_face_camera(points: np.ndarray, width: int) -> np.ndarray:
    """A back view as the same body seen from the front: half a turn about the vertical axis.

    Image landmarks: x mirrored in the frame, depth negated; world landmarks
    (the last 33 points): x and depth negated.
    """
    out = points.copy()
    image, world = out[:, :-33], out[:, -33:]
    image[..., 0] = width - image[..., 0]
    image[..., 2] *= -1.0
    world[..., 0] *= -1.0
    world[..., 2] *= -1.0
    return out


def write_holistic_pose(path: Path, info: VideoInfo, points: np.ndarray, confidence: np.ndarray) -> None:
    """Write the keypoints as a pose-format ``.pose`` (missing detections masked, confidence 0), atomically."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    from signeditor.io.atomic import atomic_writer

    missing = confidence <= 0
    data = np.ma.masked_array(points[:, None], mask=np.repeat(missing[:, None, :, None], 3, axis=-1))
    pose = Pose(holistic_header(info.width, info.height), NumPyPoseBody(info.fps, data, confidence[:, None]))
    with atomic_writer(path) as handle:
        pose.write(handle)


def import_video(video: str | Path, output: str | Path, *, progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None, detector_factory: DetectorFactory | None = None,
                 ) -> VideoImportResult:
    """Turn ``video`` into ``output`` (``.pose``, or ``.signproj`` with its ``.pose`` beside it).

    Raises FileFormatError for unusable input (not a video, truncated, no
    person), ImportCancelled when ``should_stop`` says so, VideoExtraMissing
    without MediaPipe. The motion is resampled to the editor's rate like any opened ``.pose``.
    """
    from signeditor.app_services import open_document

    video, output = Path(video).resolve(), Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise FileFormatError(output, "video import writes a .signproj project or a .pose keypoint file")
    began = time.perf_counter()
    check = check_video(video)  # fail fast: an unreadable file is named before the detector even loads
    info = check.info
    header = holistic_header(info.width, info.height)
    detector = (detector_factory or MediaPipeHolistic)(info.width, info.height)
    try:
        readable = replace(info, n_frames=min(info.n_frames, check.readable_frames) or check.readable_frames)
        points, confidence = detect_keypoints(video, readable, detector, header.total_points(), progress, should_stop)
    finally:
        detector.close()
    lost_on_decoding = points.shape[0] < check.readable_frames - max(2, check.readable_frames // 50)
    announced = info.n_frames if check.truncated or lost_on_decoding else None
    info = replace(info, n_frames=points.shape[0])
    found = confidence[:, :33].max(axis=1) > 0  # POSE_LANDMARKS: the body
    if not found.any():
        raise FileFormatError(video, f"no person detected in any of the video's {info.n_frames} frames")
    turned = seen_from_behind(points, confidence)
    if turned:
        points = turned_to_face_camera(points, info.width)
    detect_s = time.perf_counter() - began
    if should_stop is not None and should_stop():
        raise ImportCancelled()
    if progress is not None:
        progress(ImportProgress("fitting", info.n_frames, info.n_frames, 0.0, None))
    pose_path = pose_path_for(output)
    existed = pose_path.exists()
    write_holistic_pose(pose_path, info, points, confidence)
    try:
        project = open_document(pose_path)  # the editor's and the CLI's open: FAST anchors, recording kept
        project.source = str(video)
        # The overlay draws the keypoints where they were found: not possible once they were turned around.
        keypoints = "" if turned else str(pose_path.resolve())
        project.reference_video = ReferenceVideo(str(video), 0.0, keypoints)
        project_path = None
        if output.suffix.lower() == ".signproj":
            from signeditor.io.project_file import save_project

            save_project(project, output)
            project_path = output
    except BaseException:
        if not existed:  # never leave a half-finished import behind
            pose_path.unlink(missing_ok=True)
        raise
    return VideoImportResult(project, pose_path, project_path, info, _gaps(found), turned, detect_s,
                             time.perf_counter() - began, announced)
