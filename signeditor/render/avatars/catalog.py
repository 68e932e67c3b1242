"""Which figure the viewport shows: the mannequin, a shipped avatar, the user's own .vrm/.glb, or SMPL-X.

A choice is one string, so the editor can remember it in its settings: ``mannequin``, ``shipped:NAME``,
``file:PATH`` or ``smplx:PATH``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from signeditor.io.errors import FileFormatError
from signeditor.paths import RESOURCES_DIR
from signeditor.render.avatars.mannequin import PosedMesh

SHIPPED_DIR = RESOURCES_DIR / "avatars"
DEFAULT_AVATAR = "shipped:Hispanic_F_2_Busi"
MANNEQUIN = "mannequin"
#: Export formats that draw a figure (``--avatar``).
FIGURE_FORMATS = ("glb", "gltf", "mp4", "gif")


class Figure(Protocol):
    """What the viewport and the exporters need from a figure (mannequin, SMPL-X model or glTF avatar)."""

    faces: np.ndarray

    def posed(self, pose_features: np.ndarray, key: object = None) -> PosedMesh: ...


def shipped_avatars() -> dict[str, Path]:
    """Name -> file of every avatar shipped in resources/avatars/ (sorted by name)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*/*.glb"))}


def describe(choice: str) -> str:
    """A short label for menus and messages."""
    kind, _, value = choice.partition(":")
    if kind == "shipped":
        return value.replace("_", " ")
    if kind in ("file", "smplx"):
        return Path(value).name
    return "Mannequin"


def load_avatar(choice: str) -> Figure:
    """The avatar object for a choice; raises FileFormatError naming the file and the problem."""
    kind, _, value = choice.partition(":")
    if kind == MANNEQUIN or not choice:
        from signeditor.render.avatars.mannequin import Avatar

        return Avatar()
    if kind == "smplx":
        from signeditor.render.avatars.smplx import SmplxAvatar

        return SmplxAvatar(value)
    from signeditor.render.avatars.gltf_avatar import GltfAvatar

    if kind == "shipped":
        path = shipped_avatars().get(value)
        if path is None:
            raise FileFormatError(SHIPPED_DIR / f"{value}.glb", "no such shipped avatar")
        return GltfAvatar(path)
    if kind == "file":
        return GltfAvatar(value)
    raise ValueError(f"unknown avatar choice {choice!r}")


def export_options(format_name: str, avatar: str) -> dict:
    """What every file of an export shares, loaded once: the figure, for the formats that draw one (the editor's
    default avatar unless ``avatar`` names another, so a GLB or video from the command line has the face too)."""
    from signeditor.io.formats import EXPORT_FORMATS

    if EXPORT_FORMATS[format_name].name in FIGURE_FORMATS:
        return {"avatar": load_avatar(avatar or DEFAULT_AVATAR)}
    return {}
