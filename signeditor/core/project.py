"""A project: the motion being edited with everything needed to regenerate it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from signeditor.core.anchors import AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import FaceKey, face_with_keys, head_turns, with_head_turns
from signeditor.core.recording import Recording
from signeditor.core.segments import Segment

#: 2 added the recording (the original take of imported motion); 3 keeps its "captured" flags per stream
#: (body, each hand, face) instead of one per frame. Older files open unchanged (a version 2 frame flag
#: applies to every stream).
PROJECT_FORMAT_VERSION = 3


@dataclass(frozen=True)
class ReferenceVideo:
    """A video shown beside the avatar: where it is (never copied into the project) and how it lines up.

    The reference frame shown at project time ``t`` seconds is the video's
    frame at ``t + offset_s``. ``keypoints`` optionally names a ``.pose`` file
    with the video's detected 2D keypoints (in the video's pixels), drawn as an overlay.
    """

    path: str
    offset_s: float = 0.0
    keypoints: str = ""


@dataclass
class Project:
    motion: Motion
    anchors: AnchorSet = field(default_factory=AnchorSet)
    segments: list[Segment] = field(default_factory=list)
    text: str = ""
    spoken_language: str = ""
    signed_language: str = ""
    #: Names and versions of the models that produced the motion, e.g. {"kf2p": "1"}.
    model_versions: dict[str, str] = field(default_factory=dict)
    #: Where the motion came from (a .pose file, a draft), for the user's reference.
    source: str = ""
    #: The original take of imported motion (None for drafts and generated motion): edits warp and displace it.
    recording: Recording | None = None
    #: A human rendition to compare against (imported video, or attached by the user).
    reference_video: ReferenceVideo | None = None
    #: What an import did (frames, gaps filled, how depth was recovered, plausibility); shown, not saved.
    import_report: str = field(default="", compare=False)
    #: Non-manual keys (core.nonmanual) over the motion's face channel.
    face_keys: tuple[FaceKey, ...] = ()

    def face_at(self, frame: int) -> np.ndarray:
        """The face shown at ``frame``: the motion's face channel with the non-manual keys applied."""
        return face_with_keys(self.motion.face, self.face_keys, self.motion.n_frames, np.array([frame]))[0]

    def pose_shown_at(self, frame: int) -> np.ndarray:
        """The pose shown at ``frame``: the motion's, with the Head lane's turns."""
        turns = head_turns(self.face_keys, self.motion.n_frames, np.array([frame]))
        return with_head_turns(self.motion.features[frame:frame + 1], turns)[0]

    def shown_motion(self) -> Motion:
        """The motion as shown and exported: the non-manual keys applied to its face channel and head."""
        if not self.face_keys:
            return self.motion
        n = self.motion.n_frames
        return replace(self.motion, features=with_head_turns(self.motion.features, head_turns(self.face_keys, n)),
                       face=face_with_keys(self.motion.face, self.face_keys, n))
