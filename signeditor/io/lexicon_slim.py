"""A copy of a lexicon folder whose ``.pose`` clips keep only the keypoints a draft reads (a packaging step).

The fingerspelling alphabets the app ships (spoken-to-signed's, 600 clips)
are MediaPipe Holistic files: 478 of their 586 points are the face mesh.
A draft fits the body, the hands and the head to a clip and drops the face
expression (:class:`signeditor.drafts.clips.ClipLibrary` keeps features
only), so IK reads five face points: the eyes and chin for the head's
rotation, the lips for the jaw. Keeping just those makes the same drafts from
a fifth of the bytes; ``packaging/signeditor.spec`` ships such a copy instead
of the installed folder, which stays untouched.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from signeditor.core import ik
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.pose_reader import FACE, LEFT_HAND, POSE, POSE_WORLD, RIGHT_HAND

#: Components copied whole: IK's body and hands, and the world landmarks the depth lifting reads.
WHOLE_COMPONENTS: tuple[str, ...] = (POSE, LEFT_HAND, RIGHT_HAND, POSE_WORLD)
#: The face-mesh points IK reads (head rotation and jaw); the rest of the mesh only feeds the face expression.
DRAFT_FACE_POINTS: tuple[str, ...] = (ik.FACE_RIGHT_EYE, ik.FACE_LEFT_EYE, ik.FACE_CHIN, ik.FACE_UPPER_LIP,
                                      ik.FACE_LOWER_LIP)


def slim_pose_bytes(data: bytes, path: Path) -> bytes:
    """``data`` (a ``.pose`` file) with only :data:`WHOLE_COMPONENTS` and the face's :data:`DRAFT_FACE_POINTS`."""
    from pose_format import Pose

    try:
        pose = Pose.read(data)
    except Exception as exc:  # pose-format raises many types on truncated/corrupt input
        raise FileFormatError(path, f"not a readable .pose file ({exc})") from exc
    present = {c.name: c.points for c in pose.header.components}
    kept = [name for name in (*WHOLE_COMPONENTS, FACE) if name in present]
    points = {}
    if FACE in present:
        points[FACE] = [p for p in DRAFT_FACE_POINTS if p in present[FACE]]
    buffer = io.BytesIO()
    pose.get_components(kept, points).write(buffer)
    return buffer.getvalue()


def write_slim_lexicon(source: str | Path, target: str | Path) -> Path:
    """Copy the lexicon folder ``source`` to ``target`` with slim ``.pose`` clips; other files are copied as is.

    ``target`` is replaced. Hidden files (``.DS_Store``) and ``__pycache__`` are left out. Returns ``target``.
    """
    source, target = Path(source), Path(target)
    if target.exists():
        shutil.rmtree(target)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".pose":
            out.write_bytes(slim_pose_bytes(read_file_bytes(path), path))
        else:
            shutil.copyfile(path, out)
    return target
