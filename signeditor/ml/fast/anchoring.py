"""Open any supported file as an editable project: FAST finds the signs of imported motion and anchors them.

Shared by the editor (File > Open, video import) and the command line, so an
imported file gets the same anchors wherever it is opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

from signeditor.core.keyframes import anchors_from_segments
from signeditor.core.project import Project
from signeditor.io.formats import open_project

logger = logging.getLogger(__name__)


def open_anchored_project(path: str | Path) -> Project:
    """Open a project, or import any motion file as a new one, its signs found by FAST and anchored.

    Imported motion has no anchors yet; without anchors there is nothing to
    edit, so segments (FAST's, or the file's own) become onset/middle/offset anchors.
    The imported motion is also kept as the recording that later edits warp and displace.
    """
    project = open_project(path)
    if len(project.anchors) == 0:
        if not project.segments:
            try:
                from signeditor.ml.fast.api import load_segmenter

                project.segments = load_segmenter().segment(project.motion)
            except Exception as exc:  # a broken model must not stop the import: the user can anchor by hand
                logger.warning("FAST could not segment %s: %s", path, exc)
        project.anchors = anchors_from_segments(project.motion, project.segments)
    if project.recording is None and Path(path).suffix.lower() != ".signproj":
        from signeditor.core.recording import Recording

        project.recording = Recording.of(project.motion, project.anchors)  # edits warp it, never replace it
    return project
