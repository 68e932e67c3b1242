"""Our face parameters (core.face) as an avatar's morph-target weights, by a table per rig family.

Families: VALID (``h_expressions.*`` targets, with the lower teeth's ``t_*`` twins), ARKit blend shapes,
VRChat visemes (``vrc_v_*``, common in VRM 0.x files whose expression groups are unlinked) and VRM expression
presets (0.x blend-shape groups or 1.0 expressions, linked to morphs by the file). A parameter no table reaches
simply does not show on that avatar.
"""

from __future__ import annotations

import numpy as np

from signeditor.core.face import FACE_DIM, FACE_INDEX

#: Eye bone turn at full gaze weight (radians): sideways and up/down.
GAZE_YAW, GAZE_PITCH = np.radians(25.0), np.radians(18.0)

Table = dict[str, tuple[tuple[str, float], ...]]

_VALID: Table = {
    "brow_raise_l": (("lbrowup_h", 1.0), ("llbrowup_h", 0.6)),
    "brow_raise_r": (("rbrowup_h", 1.0), ("rrbrowup_h", 0.6)),
    "brow_furrow_l": (("lbrowdown_h", 1.0), ("llbrowdown_h", 0.4)),
    "brow_furrow_r": (("rbrowdown_h", 1.0), ("rrbrowdown_h", 0.4)),
    "eye_close_l": (("leyeclose_h", 1.0),), "eye_close_r": (("reyeclose_h", 1.0),),
    "squint_l": (("lsquint_h", 1.0),), "squint_r": (("rsquint_h", 1.0),),
    "mouth_open": (("mouthopen_h", 1.0),),
    "smile_l": (("lsmileclose_h", 1.0),), "smile_r": (("rsmileclose_h", 1.0),),
    "frown_l": (("lmouthsad_h", 1.0),), "frown_r": (("rmouthsad_h", 1.0),),
    "lip_pucker": (("kiss_h", 1.0),), "lip_stretch": (("llipside_h", 0.5), ("rlipside_h", 0.5)),
    "cheek_puff": (("lblow_h", 1.0), ("rblow_h", 1.0)),
    "viseme_aa": (("ae_aa_h", 1.0),), "viseme_ee": (("ax_e_h", 1.0),), "viseme_ih": (("td_i_h", 1.0),),
    "viseme_oh": (("ao_a_h", 1.0),), "viseme_ou": (("uw_u_h", 1.0),),
    "viseme_mbp": (("mpb_up_h", 1.0), ("mpb_down_h", 1.0)), "viseme_fv": (("fv_h", 1.0),),
    "viseme_th": (("td_i_h", 0.5),), "viseme_s": (("s_h", 1.0),),
}
_ARKIT: Table = {
    "brow_raise_l": (("browouterupleft", 1.0), ("browinnerup", 0.5)),
    "brow_raise_r": (("browouterupright", 1.0), ("browinnerup", 0.5)),
    "brow_furrow_l": (("browdownleft", 1.0),), "brow_furrow_r": (("browdownright", 1.0),),
    "eye_close_l": (("eyeblinkleft", 1.0),), "eye_close_r": (("eyeblinkright", 1.0),),
    "squint_l": (("eyesquintleft", 1.0),), "squint_r": (("eyesquintright", 1.0),),
    "mouth_open": (("jawopen", 1.0),),
    "smile_l": (("mouthsmileleft", 1.0),), "smile_r": (("mouthsmileright", 1.0),),
    "frown_l": (("mouthfrownleft", 1.0),), "frown_r": (("mouthfrownright", 1.0),),
    "lip_pucker": (("mouthpucker", 1.0),),
    "lip_stretch": (("mouthstretchleft", 1.0), ("mouthstretchright", 1.0)),
    "cheek_puff": (("cheekpuff", 1.0),),
    "viseme_aa": (("jawopen", 0.6),), "viseme_oh": (("mouthfunnel", 1.0), ("jawopen", 0.3)),
    "viseme_ou": (("mouthpucker", 1.0),), "viseme_mbp": (("mouthclose", 1.0), ("mouthpressleft", 0.5),
                                                          ("mouthpressright", 0.5)),
    "viseme_fv": (("mouthrolllower", 1.0),), "viseme_ee": (("mouthstretchleft", 0.5), ("mouthstretchright", 0.5)),
    "gaze_left": (("eyelookoutleft", 1.0), ("eyelookinright", 1.0)),
    "gaze_right": (("eyelookoutright", 1.0), ("eyelookinleft", 1.0)),
    "gaze_up": (("eyelookupleft", 1.0), ("eyelookupright", 1.0)),
    "gaze_down": (("eyelookdownleft", 1.0), ("eyelookdownright", 1.0)),
}
_VRCHAT: Table = {
    "viseme_aa": (("vrc_v_aa", 1.0),), "mouth_open": (("vrc_v_aa", 0.8),), "viseme_ee": (("vrc_v_ee", 1.0),),
    "viseme_ih": (("vrc_v_ih", 1.0),), "viseme_oh": (("vrc_v_oh", 1.0),), "viseme_ou": (("vrc_v_ou", 1.0),),
    "viseme_mbp": (("vrc_v_pp", 1.0),), "viseme_fv": (("vrc_v_ff", 1.0),), "viseme_th": (("vrc_v_th", 1.0),),
    "viseme_s": (("vrc_v_ss", 1.0),), "eye_close_l": (("vrc_blink", 0.5),), "eye_close_r": (("vrc_blink", 0.5),),
}
#: VRM expression presets (0.x names; 1.0 names mapped onto them in _vrm_presets).
_VRM: dict[str, tuple[tuple[str, float], ...]] = {
    "mouth_open": (("a", 0.8),), "viseme_aa": (("a", 1.0),), "viseme_ih": (("i", 1.0),), "viseme_ou": (("u", 1.0),),
    "viseme_ee": (("e", 1.0),), "viseme_oh": (("o", 1.0),), "eye_close_l": (("blink_l", 1.0),),
    "eye_close_r": (("blink_r", 1.0),), "brow_furrow_l": (("angry", 0.4),), "brow_furrow_r": (("angry", 0.4),),
    "brow_raise_l": (("surprised", 0.5),), "brow_raise_r": (("surprised", 0.5),),
    "smile_l": (("joy", 0.5),), "smile_r": (("joy", 0.5),), "frown_l": (("sorrow", 0.5),),
    "frown_r": (("sorrow", 0.5),), "gaze_left": (("lookleft", 1.0),), "gaze_right": (("lookright", 1.0),),
    "gaze_up": (("lookup", 1.0),), "gaze_down": (("lookdown", 1.0),),
}
_VRM1_TO_0 = {"aa": "a", "ih": "i", "ou": "u", "ee": "e", "oh": "o", "blinkLeft": "blink_l",
              "blinkRight": "blink_r", "happy": "joy", "sad": "sorrow", "relaxed": "fun", "lookLeft": "lookleft",
              "lookRight": "lookright", "lookUp": "lookup", "lookDown": "lookdown"}


def eye_gaze(face: np.ndarray | None) -> np.ndarray | None:
    """Eye bone turns (1, 2) from one frame's face: yaw towards the signer's left, pitch down; None when neutral."""
    if face is None:
        return None
    face = np.asarray(face, np.float64)
    yaw = (face[..., FACE_INDEX["gaze_left"]] - face[..., FACE_INDEX["gaze_right"]]) * GAZE_YAW
    pitch = (face[..., FACE_INDEX["gaze_down"]] - face[..., FACE_INDEX["gaze_up"]]) * GAZE_PITCH
    return None if not (np.any(yaw) or np.any(pitch)) else np.stack([yaw, pitch], axis=-1).reshape(-1, 2)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def _vrm_presets(extensions: dict, mesh_morphs: dict[int, list[int]], node_meshes: dict[int, int]
                 ) -> dict[str, list[tuple[int, float]]]:
    """Preset name -> (morph id, weight) from the file's VRM 0.x groups or VRM 1.0 expressions."""
    presets: dict[str, list[tuple[int, float]]] = {}

    def bind(preset: str, mesh: int | None, index: int, weight: float) -> None:
        ids = mesh_morphs.get(mesh, []) if mesh is not None else []
        if 0 <= index < len(ids) and weight > 0:
            presets.setdefault(preset, []).append((ids[index], weight))

    for group in extensions.get("VRM", {}).get("blendShapeMaster", {}).get("blendShapeGroups", []):
        for b in group.get("binds", []):
            bind(str(group.get("presetName", "")).lower(), b.get("mesh"), int(b.get("index", -1)),
                 float(b.get("weight", 0)) / 100.0)
    for name, spec in extensions.get("VRMC_vrm", {}).get("expressions", {}).get("preset", {}).items():
        for b in spec.get("morphTargetBinds", []):
            bind(_VRM1_TO_0.get(name, name.lower()), node_meshes.get(b.get("node")), int(b.get("index", -1)),
                 float(b.get("weight", 0)))
    return presets


class FaceRig:
    """A (morphs x face parameters) matrix: morph weights = clip(matrix @ face, 0, 1)."""

    def __init__(self, morph_names: list[str], extensions: dict | None = None,
                 mesh_morphs: dict[int, list[int]] | None = None, node_meshes: dict[int, int] | None = None) -> None:
        self.matrix = np.zeros((len(morph_names), FACE_DIM), np.float32)
        ids: dict[str, list[int]] = {}
        for k, name in enumerate(morph_names):
            ids.setdefault(_short(name), []).append(k)
            if name.startswith("t_") or _short(name).startswith("t_"):  # VALID lower teeth follow the face
                ids.setdefault(_short(name)[2:], []).append(k)
        self.families: list[str] = []
        for family, table in (("VALID", _VALID), ("ARKit", _ARKIT), ("VRChat visemes", _VRCHAT)):
            hits = 0
            for parameter, targets in table.items():
                for target, weight in targets:
                    for k in ids.get(target, []):
                        self.matrix[k, FACE_INDEX[parameter]] += weight
                        hits += 1
            if hits >= 3:
                self.families.append(family)
        presets = _vrm_presets(extensions or {}, mesh_morphs or {}, node_meshes or {})
        if presets:
            self.families.append("VRM expressions")
            for parameter, targets in _VRM.items():
                if self.matrix[:, FACE_INDEX[parameter]].any():
                    continue  # a name table already drives it
                for preset, weight in targets:
                    for k, bind_weight in presets.get(preset, []):
                        self.matrix[k, FACE_INDEX[parameter]] += weight * bind_weight
        self.driven = np.flatnonzero(self.matrix.any(axis=1))

    @property
    def notes(self) -> list[str]:
        return [] if self.families else ["no known face morphs: the face channel does not show on this avatar"]

    def weights(self, face: np.ndarray | None) -> dict[int, float]:
        """Morph id -> weight for one frame's face parameters (only the morphs the rig drives)."""
        if face is None or not len(self.driven):
            return {}
        values = np.clip(self.matrix[self.driven] @ np.asarray(face, np.float32), 0.0, 1.0)
        return {int(k): float(v) for k, v in zip(self.driven, values, strict=True) if v > 1e-4}
