"""The formats SignEditor imports, as fuzz targets: valid seeds from our own exporters plus structured mutations.

Seeds are written by SignEditor's exporters (so no real data is needed);
structured mutations reach what random byte flips rarely do: NaN and
infinite values, wrong shapes and dtypes, zero frames, 100,000 frames, wrong
frame rates, unknown point layouts, pickled object arrays, non-UTF-8 text.
``heavy=False`` leaves out the 100,000-frame cases so unit tests stay fast.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment, labels_from_segments
from signeditor.reliability.fuzz import FuzzCase, FuzzTarget, json_changed

MANY_FRAMES = 100_000
SEED_FRAMES = 10


def seed_motion(n_frames: int = SEED_FRAMES, seed: int = 0) -> Motion:
    """A small, plausible motion: random rotations of moderate size on every joint."""
    rng = np.random.default_rng(seed)
    axis_angle = rng.normal(scale=0.3, size=(n_frames, FEATURE_DIM // 6, 3))
    features = rotations.axis_angle_to_rot6d(axis_angle).reshape(n_frames, FEATURE_DIM).astype(np.float32)
    return Motion(25.0, features, expression=rng.normal(size=(n_frames, 10)).astype(np.float32))


def seed_project() -> Project:
    motion = seed_motion()
    anchors = AnchorSet([Anchor(1, motion.features[1], label="A onset"), Anchor(7, motion.features[7],
                                                                                  frozenset({"right_hand"}))])
    from signeditor.core.recording import Recording

    recording = Recording.of(motion, anchors)  # the take and its links to the anchors are fuzzed too
    edited = anchors.replaced(anchors[0].moved_to(3))
    return Project(motion, edited, [Segment(1, 8, "HAUS", 0.9)], text="Das Haus", spoken_language="de",
                   signed_language="gsg", model_versions={"kf2p": "2"}, source="fuzz", recording=recording)


def _written(write: Callable[[Path], None], name: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        write(path)
        if path.is_dir():
            raise ValueError("use _written_folder for folders")
        return path.read_bytes()


# --- sanity checks of loaded results -----------------------------------------------------------------------------
def motion_problem(motion: Motion) -> str | None:
    f = motion.features
    n = f.shape[0] if f.ndim == 2 else 0
    if f.ndim != 2 or f.shape[1] != FEATURE_DIM or n < 1:
        return f"features have shape {f.shape}"
    if not np.all(np.isfinite(f)):
        return "features are not finite"
    if not (np.isfinite(motion.fps) and 1.0 <= motion.fps <= 1000.0):
        return f"fps {motion.fps}"
    if motion.filled is None or motion.filled.shape != (n,):
        return f"filled has shape {None if motion.filled is None else motion.filled.shape}, expected ({n},)"
    if motion.expression is not None and (motion.expression.shape[0] != n or not np.all(np.isfinite(
            motion.expression))):
        return "expression has the wrong length or is not finite"
    norms = np.linalg.norm(f.reshape(n, -1, 2, 3), axis=-1)
    if not np.all(norms > 1e-6):
        return "a 6D rotation has a zero row (not a rotation)"
    return None


def project_problem(project: object) -> str | None:
    if not isinstance(project, Project):
        return f"got {type(project).__name__}, not a Project"
    problem = motion_problem(project.motion)
    if problem:
        return problem
    n = project.motion.n_frames
    for anchor in project.anchors:
        if not 0 <= anchor.frame < n:
            return f"anchor at frame {anchor.frame} outside {n} frames"
        if not np.all(np.isfinite(anchor.pose)):
            return "anchor pose is not finite"
    for segment in project.segments:
        if not 0 <= segment.start < segment.end <= n:
            return f"segment {segment.start}..{segment.end} outside {n} frames"
    return None


def records_problem(records: object) -> str | None:
    if not isinstance(records, list):
        return f"got {type(records).__name__}, not a list of records"
    for record in records:
        problem = motion_problem(record.motion)
        if problem:
            return f"record {record.clip_id}: {problem}"
        if record.segment.shape != (record.motion.n_frames,):
            return f"record {record.clip_id}: segment has shape {record.segment.shape}"
    return None


# --- npz mutations (SMPL-X, SignSparK, the project's arrays) ---------------------------------------------------------
def read_npz_bytes(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def npz_bytes(arrays: dict[str, np.ndarray], compressed: bool = False) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)  # object arrays get pickled: on purpose
    return buffer.getvalue()


class _Boom:
    """A pickled object array element that would run code if anything unpickled it."""

    def __reduce__(self) -> tuple:
        import os

        return (os.system, ("touch /tmp/signeditor-fuzz-pickle-ran",))


def array_variants(key: str, value: np.ndarray, rng: random.Random, heavy: bool) -> Iterator[tuple[str, object]]:
    """Ways one array can be wrong: non-finite, huge, reshaped, retyped, emptied, lengthened, pickled."""
    v = np.asarray(value)
    if v.dtype.kind == "f" and v.size:
        for bad in (np.nan, np.inf, -np.inf, 1e30):
            out = v.copy()
            out.reshape(-1)[rng.randrange(out.size)] = bad
            yield f"{key}: one value {bad}", out
    if v.ndim >= 1:
        yield f"{key}: zero frames", v[:0]
        yield f"{key}: one frame", v[:1]
        yield f"{key}: a frame short", v[:-1]
        if v.ndim >= 2:
            yield f"{key}: one column short", v[..., :-1]
            yield f"{key}: transposed", np.swapaxes(v, 0, -1)
            yield f"{key}: flattened", v.reshape(-1)
        yield f"{key}: extra axis", v[..., None]
        if heavy:
            yield f"{key}: {MANY_FRAMES} frames", np.resize(v, (MANY_FRAMES, *v.shape[1:])) if v.shape[0] else v
    yield f"{key}: scalar", np.asarray(v.reshape(-1)[0] if v.size else 0)
    yield f"{key}: strings", np.full(v.shape, "x")
    yield f"{key}: integers", v.astype(np.int64) if v.dtype.kind in "fiub" else np.zeros(v.shape, np.int64)
    yield f"{key}: complex", np.zeros(v.shape, np.complex64)
    yield f"{key}: pickled object array", np.array([_Boom(), 1], dtype=object)


def npz_mutations(arrays: dict[str, np.ndarray], rng: random.Random, heavy: bool,
                  special: dict[str, list[object]] | None = None) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """Each key removed, each array mutated; ``special`` adds chosen values for named keys (e.g. fps)."""
    for key in arrays:
        yield f"{key} removed", {k: v for k, v in arrays.items() if k != key}
    for key, values in (special or {}).items():
        for value in values:
            yield f"{key} = {value!r}", {**arrays, key: np.asarray(value)}
    keys = list(arrays)
    rng.shuffle(keys)
    for key in keys:
        for description, value in array_variants(key, arrays[key], rng, heavy):
            yield description, {**arrays, key: value}
    if heavy:
        lengths = [v.shape[0] for v in arrays.values() if v.ndim >= 1]
        frames = max(set(lengths), key=lengths.count) if lengths else 0
        yield f"every per-frame array at {MANY_FRAMES} frames", {
            k: np.resize(v, (MANY_FRAMES, *v.shape[1:])) if v.ndim >= 1 and v.shape[0] == frames else v
            for k, v in arrays.items()}
    yield "unknown extra array", {**arrays, "zzz_unknown": np.zeros((3, 3))}
    yield "all arrays zero frames", {k: v[:0] if v.ndim else v for k, v in arrays.items()}


def _npz_target_cases(target: str, entry: str, seed: FuzzCase, rng: random.Random, heavy: bool,
                      special: dict[str, list[object]] | None = None) -> Iterator[FuzzCase]:
    arrays = read_npz_bytes(seed.files[entry])
    for description, mutated in npz_mutations(arrays, rng, heavy, special):
        yield FuzzCase(target, description, {entry: npz_bytes(mutated)}, entry)


FPS_VALUES: list[object] = [0.0, -25.0, float("nan"), float("inf"), 1e-9, 1e9, 0.5, 1001.0, "25", True]


# --- targets ------------------------------------------------------------------------------------------------------
def _open(path: Path) -> object:
    from signeditor.io.formats import open_project

    return open_project(path)


def project_target(heavy: bool) -> FuzzTarget:
    from signeditor.io.project_file import project_to_bytes

    def seeds() -> list[FuzzCase]:
        return [FuzzCase("signproj", "valid project", {"p.signproj": project_to_bytes(seed_project())}, "p.signproj")]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        with zipfile.ZipFile(io.BytesIO(seed.files["p.signproj"])) as zf:
            meta = json.loads(zf.read("project.json"))
            arrays = read_npz_bytes(zf.read("arrays.npz"))

        def pack(meta_value: object, arrays_value: dict[str, np.ndarray], raw_json: bytes | None = None) -> bytes:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("project.json", raw_json if raw_json is not None else json.dumps(meta_value))
                zf.writestr("arrays.npz", npz_bytes(arrays_value))
            return out.getvalue()

        def case(description: str, data: bytes) -> FuzzCase:
            return FuzzCase("signproj", description, {"p.signproj": data}, "p.signproj")

        meta_changes: list[tuple[str, object]] = [
            ("fps", v) for v in FPS_VALUES] + [
            ("format_version", v) for v in (0, 2, 999, "1", None, -1)] + [
            ("format", "other"), ("anchors", "x"), ("anchors", [{"frame": 999, "streams": ["body"]}]),
            ("anchors", [{"frame": -5, "streams": ["body"]}]), ("anchors", [{"frame": 1, "streams": ["tail"]}]),
            ("anchors", [{"frame": 1, "streams": []}]), ("anchors", [{"frame": "a", "streams": ["body"]}]),
            ("anchors", [{"frame": 1.5, "streams": ["body"]}, {"frame": 2}]), ("anchors", [None]),
            ("segments", [{"start": 5, "end": 2}]), ("segments", [{"start": -3, "end": 99999}]),
            ("segments", [{"start": "x", "end": 2}]), ("segments", {"a": 1}), ("segments", [[1, 2]]),
            ("text", {"nested": [1]}), ("model_versions", 5), ("model_versions", [1, 2]), ("model_versions", "abc"),
            ("source", None), ("signed_language", 12), ("recording", "x"), ("recording", {"anchors": [None]}),
            ("recording", {"anchors": [{"frame": 999, "streams": ["body"]}]}),
            ("anchors", [{"frame": 1, "streams": ["body"], "take_anchor": 9}]),
            ("anchors", [{"frame": 1, "streams": ["body"], "take_anchor": -1}]),
            ("anchors", [{"frame": 1, "streams": ["body"], "take_anchor": 0},
                         {"frame": 2, "streams": ["body"], "take_anchor": 0}]),
        ]
        for key, value in meta_changes:
            yield case(f"project.json {key} = {value!r}", pack({**meta, key: value}, arrays))
        yield case("project.json is a list", pack([1, 2], arrays))
        yield case("project.json not UTF-8", pack(None, arrays, json.dumps(meta).encode() + b"\xff\xfe"))
        yield case("project.json latin-1 text", pack(None, arrays, json.dumps(
            {**meta, "text": "é"}, ensure_ascii=False).encode("latin-1")))
        yield case("project.json truncated", pack(None, arrays, json.dumps(meta).encode()[:40]))
        yield case("project.json NaN fps", pack(None, arrays, json.dumps({**meta, "fps": float("nan")}).encode()))
        yield case("project.json deeply nested", pack(None, arrays, b"[" * 100_000 + b"]" * 100_000))
        for description, mutated in npz_mutations(arrays, rng, heavy):
            yield case(f"arrays.npz {description}", pack(meta, mutated))
        yield case("arrays.npz missing", _zip_without(seed.files["p.signproj"], "arrays.npz"))
        yield case("project.json missing", _zip_without(seed.files["p.signproj"], "project.json"))

    return FuzzTarget("signproj", seeds, _open, project_problem, structured)


def _zip_without(data: bytes, member: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return out.getvalue()


def pose_target(heavy: bool) -> FuzzTarget:
    from signeditor.io.pose_export import write_pose

    def seeds() -> list[FuzzCase]:
        return [FuzzCase("pose", "valid holistic .pose", {"c.pose": _written(
            lambda p: write_pose(seed_motion(), p), "c.pose")}, "c.pose")]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase | None]:
        from pose_format import Pose
        from pose_format.numpy.pose_body import NumPyPoseBody
        from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

        pose = Pose.read(seed.files["c.pose"])
        header = pose.header
        data = np.ma.getdata(pose.body.data).astype(np.float32)
        confidence = np.asarray(pose.body.confidence, np.float32)

        def build(description: str, values: np.ndarray | None = None, conf: np.ndarray | None = None,
                  fps: float | None = None, components: list | None = None,
                  dims: PoseHeaderDimensions | None = None) -> FuzzCase | None:
            """The mutated file, or None where pose-format itself refuses to write such a file."""
            values = data if values is None else values
            conf = confidence if conf is None else conf
            body = NumPyPoseBody(pose.body.fps if fps is None else fps, np.ma.masked_array(values), conf)
            new_header = PoseHeader(header.version, dims or header.dimensions, components or header.components)
            buffer = io.BytesIO()
            try:
                Pose(new_header, body).write(buffer)
            except (ValueError, IndexError, struct.error):
                return None
            return FuzzCase("pose", description, {"c.pose": buffer.getvalue()}, "c.pose")

        for fps in (0.0, -25.0, float("nan"), float("inf"), 1e-6, 1e6):
            yield build(f"fps {fps}", fps=fps)
        for bad in (np.nan, np.inf, 1e30, -1e30):
            values = data.copy()
            values[rng.randrange(len(values)), 0, rng.randrange(values.shape[2])] = bad
            yield build(f"a keypoint is {bad}", values)
        all_nan = data.copy()
        all_nan[:] = np.nan
        yield build("every keypoint NaN", all_nan)
        yield build("all keypoints equal", np.zeros_like(data))
        yield build("zero frames", data[:0], confidence[:0])
        yield build("one frame", data[:1], confidence[:1])
        yield build("no person", data[:, :0], confidence[:, :0])
        yield build("two people", np.concatenate([data, data], 1), np.concatenate([confidence] * 2, 1))
        yield build("nothing detected", conf=np.zeros_like(confidence))
        yield build("negative confidence", conf=-confidence)
        yield build("2D points", data[..., :2])
        yield build("4D points", np.concatenate([data, data[..., :1]], -1))
        renamed = [PoseHeaderComponent(f"UNKNOWN_{i}", c.points, c.limbs, c.colors, c.format)
                   for i, c in enumerate(header.components)]
        yield build("unknown point layout", components=renamed)
        shuffled = [PoseHeaderComponent(c.name, list(reversed(c.points)), c.limbs, c.colors, c.format)
                    for c in header.components]
        yield build("points renamed in reverse order", components=shuffled)
        yield build("only the face component", data[:, :, 33:33 + 468], confidence[:, :, 33:33 + 468],
                    components=[header.components[1]])
        first = header.components[0]
        yield build("fewer header points than data", components=[
            PoseHeaderComponent(first.name, first.points[:5], [], [], first.format), *header.components[1:]])
        yield build("depth 0 (normalised z)", dims=PoseHeaderDimensions(header.dimensions.width,
                                                                          header.dimensions.height, 0))
        yield build("width 0", dims=PoseHeaderDimensions(0, 0, 0))
        if heavy:
            hands = [c for c in header.components if "HAND" in c.name]
            offset = sum(len(c.points) for c in header.components[:2])
            columns = slice(offset, offset + 2 * 21)
            reps = (MANY_FRAMES // len(data)) + 1
            yield build(f"{MANY_FRAMES} frames (hands only)", np.tile(data[:, :, columns], (reps, 1, 1, 1))[
                :MANY_FRAMES], np.tile(confidence[:, :, columns], (reps, 1, 1))[:MANY_FRAMES], components=hands)

    def written(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        yield from (case for case in structured(seed, rng) if case is not None)

    return FuzzTarget("pose", seeds, _open, project_problem, written)


def bvh_target(heavy: bool) -> FuzzTarget:
    from signeditor.io.bvh import write_bvh

    def seeds() -> list[FuzzCase]:
        return [FuzzCase("bvh", "valid BVH", {"m.bvh": _written(lambda p: write_bvh(seed_motion(), p), "m.bvh")},
                         "m.bvh")]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        text = seed.files["m.bvh"].decode("ascii")
        hierarchy, motion = text.split("MOTION\n", 1)
        rows = motion.splitlines()[2:]

        def case(description: str, new_text: str | bytes) -> FuzzCase:
            data = new_text.encode("latin-1") if isinstance(new_text, str) else new_text
            return FuzzCase("bvh", description, {"m.bvh": data}, "m.bvh")

        for frames in ("0", "-1", "1", str(MANY_FRAMES), "10000000000000", "x", "1.5"):
            yield case(f"Frames: {frames}", re.sub(r"Frames: \d+", f"Frames: {frames}", text))
        for frame_time in ("0", "-0.04", "nan", "inf", "1e-9", "100", "x"):
            yield case(f"Frame Time: {frame_time}", re.sub(r"Frame Time: \S+", f"Frame Time: {frame_time}", text))
        for count in ("0", "-1", "1000000000", "2", "x"):
            yield case(f"first CHANNELS {count}", text.replace("CHANNELS 6", f"CHANNELS {count}", 1))
        yield case("unknown channel names", text.replace("Zrotation", "Qrotation"))
        yield case("repeated rotation axis", text.replace("Zrotation Xrotation", "Zrotation Zrotation", 1))
        yield case("four rotation channels", text.replace("CHANNELS 3 Zrotation Xrotation Yrotation",
                                                          "CHANNELS 4 Zrotation Xrotation Yrotation Xrotation", 1))
        yield case("no MOTION section", hierarchy)
        yield case("no HIERARCHY", "MOTION\n" + motion)
        yield case("an extra closing brace", hierarchy.replace("}", "}}", 1) + "MOTION\n" + motion)
        yield case("braces removed", hierarchy.replace("{", "") + "MOTION\n" + motion)
        yield case("joint inside End Site", hierarchy.replace("End Site\n", "End Site\nJOINT X\n", 1)
                   + "MOTION\n" + motion)
        yield case("deep nesting", "HIERARCHY\n" + "JOINT a {\n" * 5000 + "MOTION\nFrames: 1\nFrame Time: 0.04\n")
        yield case("joints renamed (unknown rig)", re.sub(r"(JOINT|ROOT) (\S+)", r"\1 bone_\2x", text))
        yield case("OFFSET nan", text.replace("OFFSET", "OFFSET nan", 1))
        yield case("OFFSET short", re.sub(r"OFFSET \S+ \S+ \S+", "OFFSET 1", text, count=1))
        for value in ("nan", "inf", "1e308", "x"):
            row = rng.randrange(len(rows))
            values = rows[row].split(" ")
            values[rng.randrange(len(values))] = value
            new_rows = [*rows[:row], " ".join(values), *rows[row + 1:]]
            yield case(f"motion value {value}", hierarchy + "MOTION\n" + "\n".join(motion.splitlines()[:2] + new_rows))
        yield case("rows cut short", hierarchy + "MOTION\n" + "\n".join(motion.splitlines()[:2] + [
            r[: len(r) // 2] for r in rows]))
        yield case("UTF-8 joint name", text.replace("ROOT Pelvis", "ROOT Pélvis").encode("utf-8"))
        yield case("UTF-16 file", text.encode("utf-16"))
        yield case("Windows line endings", text.replace("\n", "\r\n"))
        if heavy:
            n = MANY_FRAMES
            many = "\n".join(rows[i % len(rows)] for i in range(n))
            yield case(f"{n} frames", hierarchy + f"MOTION\nFrames: {n}\nFrame Time: 0.04\n" + many)

    return FuzzTarget("bvh", seeds, _open, project_problem, structured, text=True)


def _glb_split(data: bytes) -> tuple[dict, bytes]:
    json_len = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20:20 + json_len])
    rest = data[20 + json_len:]
    blob = rest[8:] if len(rest) >= 8 else b""
    return gltf, blob


def _glb_join(gltf: dict | bytes, blob: bytes) -> bytes:
    text = gltf if isinstance(gltf, bytes) else json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * (-len(blob) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(blob), 0x004E4942) + blob
    return struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body


def gltf_mutations(gltf: dict, blob: bytes, rng: random.Random) -> Iterator[tuple[str, dict, bytes]]:
    """JSON-level damage to a glTF: bad indices, counts, types, cycles, NaN keyframe times."""
    animation = gltf["animations"][0]
    time_accessor = animation["samplers"][0]["input"]
    out_accessor = animation["samplers"][0]["output"]

    def changed(path: list[object], value: object) -> dict:
        return json_changed(gltf, path, value)

    for value in (-1, 10**6, None, "x", 1.5):
        yield f"sampler input = {value!r}", changed(["animations", 0, "samplers", 0, "input"], value), blob
        yield f"channel node = {value!r}", changed(["animations", 0, "channels", 0, "target", "node"], value), blob
        yield f"accessor bufferView = {value!r}", changed(["accessors", out_accessor, "bufferView"], value), blob
    for value in (0, 10**9, -1):
        yield f"time accessor count = {value}", changed(["accessors", time_accessor, "count"], value), blob
    for value in ("MAT2", "VEC9", 7):
        yield f"accessor type = {value!r}", changed(["accessors", out_accessor, "type"], value), blob
    for value in (5130, 0, 5125):
        yield f"componentType = {value}", changed(["accessors", out_accessor, "componentType"], value), blob
    yield "byteStride 0", changed(["bufferViews", 0, "byteStride"], 0), blob
    yield "huge byteOffset", changed(["bufferViews", 0, "byteOffset"], 2**40), blob
    yield "negative byteOffset", changed(["accessors", time_accessor, "byteOffset"], -8), blob
    yield "interpolation CUBICSPLINE", changed(["animations", 0, "samplers", 0, "interpolation"], "CUBICSPLINE"), blob
    yield "no animations", changed(["animations"], []), blob
    yield "no nodes", changed(["nodes"], []), blob
    yield "node is its own child", changed(["nodes", 1, "children"], [1]), blob
    yield "node child out of range", changed(["nodes", 1, "children"], [10**6]), blob
    yield "node names removed", {**gltf, "nodes": [{k: v for k, v in n.items() if k != "name"}
                                                   for n in gltf["nodes"]]}, blob
    yield "node rotation NaN", changed(["nodes", 2, "rotation"], [float("nan")] * 4), blob
    yield "channel target missing", changed(["animations", 0, "channels", 0, "target"], None), blob
    yield "node translation of two numbers", changed(["nodes", 2, "translation"], [1, 2]), blob
    yield "node translation huge", changed(["nodes", 2, "translation"], [1e308, 1e308, 1e308]), blob
    yield "node scale zero", changed(["nodes", 2, "scale"], [0, 0, 0]), blob
    view = gltf["bufferViews"][gltf["accessors"][time_accessor]["bufferView"]]
    start = view.get("byteOffset", 0) + gltf["accessors"][time_accessor].get("byteOffset", 0)
    for bad in (np.nan, np.inf, -1.0, 1e12):
        damaged = bytearray(blob)
        damaged[start + 4:start + 8] = np.float32(bad).tobytes()
        yield f"keyframe time {bad}", gltf, bytes(damaged)
    out_view = gltf["bufferViews"][gltf["accessors"][out_accessor]["bufferView"]]
    damaged = bytearray(blob)
    damaged[out_view.get("byteOffset", 0):out_view.get("byteOffset", 0) + 16] = np.full(4, np.nan, np.float32).tobytes()
    yield "rotation keyframe NaN", gltf, bytes(damaged)
    yield "buffer empty", gltf, b""


def gltf_target(binary: bool) -> FuzzTarget:
    from signeditor.io.gltf_export import write_gltf

    name = "glb" if binary else "gltf"
    entry = f"m.{name}"

    def seeds() -> list[FuzzCase]:
        motion = seed_motion(4)
        return [FuzzCase(name, f"valid {name}", {entry: _written(lambda p: write_gltf(motion, p), entry)}, entry)]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        import base64

        data = seed.files[entry]
        if binary:
            gltf, blob = _glb_split(data)
        else:
            gltf = json.loads(data)
            uri = gltf["buffers"][0]["uri"]
            blob = base64.b64decode(uri.split(",", 1)[1])
        for description, new_gltf, new_blob in gltf_mutations(gltf, blob, rng):
            if binary:
                packed = _glb_join(new_gltf, new_blob)
            else:
                new_gltf = {**new_gltf, "buffers": [{**new_gltf["buffers"][0], "byteLength": len(new_blob),
                                                     "uri": "data:application/octet-stream;base64,"
                                                            + base64.b64encode(new_blob).decode()}]}
                packed = json.dumps(new_gltf).encode()
            yield FuzzCase(name, description, {entry: packed}, entry)
        if binary:
            yield FuzzCase(name, "JSON chunk not UTF-8", {entry: _glb_join(json.dumps(gltf).encode() + b"\xff",
                                                                          blob)}, entry)
            yield FuzzCase(name, "chunk length too large", {entry: data[:12] + struct.pack("<I", 2**31)
                                                             + data[16:]}, entry)
        else:
            yield FuzzCase(name, "external buffer file missing", {entry: json.dumps(
                {**gltf, "buffers": [{"byteLength": len(blob), "uri": "missing.bin"}]}).encode()}, entry)
            yield FuzzCase(name, "buffer path escapes the folder", {entry: json.dumps(
                {**gltf, "buffers": [{"byteLength": 10, "uri": "../../../../etc/passwd"}]}).encode()}, entry)

    return FuzzTarget(name, seeds, _open, project_problem, structured, text=not binary)


def smplx_target(heavy: bool) -> FuzzTarget:
    from signeditor.io.smplx_params import write_smplx_npz

    def seeds() -> list[FuzzCase]:
        data = _written(lambda p: write_smplx_npz(seed_motion(), p), "m.npz")
        arrays = read_npz_bytes(data)
        poses = np.concatenate([arrays["global_orient"], arrays["body_pose"].reshape(SEED_FRAMES, -1),
                                arrays["jaw_pose"], np.zeros((SEED_FRAMES, 6), np.float32),
                                arrays["left_hand_pose"].reshape(SEED_FRAMES, -1),
                                arrays["right_hand_pose"].reshape(SEED_FRAMES, -1)], axis=1)
        amass = npz_bytes({"poses": poses, "mocap_framerate": np.array(60.0)})
        return [FuzzCase("npz", "valid SMPL-X npz", {"m.npz": data}, "m.npz"),
                FuzzCase("npz", "valid AMASS-style poses npz", {"m.npz": amass}, "m.npz")]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        yield from _npz_target_cases("npz", "m.npz", seed, rng, heavy, {"mocap_framerate": FPS_VALUES,
                                                                       "flat_hand_mean": [False, "x"]})

    return FuzzTarget("npz", seeds, _open, project_problem, structured)


def _signspark_record():
    from signeditor.io.signspark import SignSparkRecord

    labels = np.array(labels_from_segments([Segment(1, 8, "HAUS")], SEED_FRAMES))
    return SignSparkRecord("clip", seed_motion(), labels, "gsg", "Das Haus", "HAUS")


def signspark_target(heavy: bool) -> FuzzTarget:
    from signeditor.io.signspark import record_bytes

    entry = "r.signspark.npz"

    def seeds() -> list[FuzzCase]:
        return [FuzzCase("signspark", "valid SignSparK record", {entry: record_bytes(_signspark_record())}, entry)]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        yield from _npz_target_cases("signspark", entry, seed, rng, heavy,
                                     {"segment": [np.full(SEED_FRAMES, 7), np.full(SEED_FRAMES, -99)],
                                      "gloss": [np.array(["A B C D E F G H I J K L"]), np.array([])]})

    return FuzzTarget("signspark", seeds, _open, project_problem, structured)


def _lmdb_files(records: list, meta: bytes | None = None, raw: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Write a SignSparK LMDB (optionally with a replaced __meta__ or raw record bytes) and return its files."""
    import lmdb

    from signeditor.io.signspark import record_bytes

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db"
        env = lmdb.open(str(path), map_size=1 << 24)
        with env.begin(write=True) as txn:
            ids = []
            for record in records:
                txn.put(record.clip_id.encode(), record_bytes(record))
                ids.append(record.clip_id)
            for key, value in (raw or {}).items():
                txn.put(key.encode(), value)
            txn.put(b"__meta__", meta if meta is not None else pickle.dumps({"clip_ids": ids, "num_clips": len(ids)}))
        env.close()
        return {f"db/{p.name}": p.read_bytes() for p in path.iterdir()}


def _read_lmdb(path: Path) -> object:
    from signeditor.io.signspark import read_signspark_lmdb

    return read_signspark_lmdb(path)


def lmdb_target(heavy: bool) -> FuzzTarget:
    def seeds() -> list[FuzzCase]:
        record = _signspark_record()
        return [FuzzCase("lmdb", "valid SignSparK LMDB", _lmdb_files([record]), "db")]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        record = _signspark_record()
        metas: list[tuple[str, bytes]] = [
            ("meta not a dict", pickle.dumps([1, 2])), ("clip_ids not a list", pickle.dumps({"clip_ids": "abc"})),
            ("clip_ids lists a missing clip", pickle.dumps({"clip_ids": ["clip", "nope"]})),
            ("clip_ids holds numbers", pickle.dumps({"clip_ids": [1, 2.5, None]})),
            ("meta holds a set", pickle.dumps({"clip_ids": ["clip"], "s": {1}})),
            ("meta pickle calls os.system", pickle.dumps(_Boom())),
            ("meta is not a pickle", b"not a pickle"), ("meta empty", b""),
            ("meta pickle truncated", pickle.dumps({"clip_ids": ["clip"]})[:-3]),
            ("meta deeply nested", b"(" * 10_000 + b"l" * 1 + b"."),
        ]
        for description, meta in metas:
            yield FuzzCase("lmdb", description, _lmdb_files([record], meta), "db")
        arrays = read_npz_bytes(_lmdb_record_bytes(record))
        for description, mutated in npz_mutations(arrays, rng, heavy=False):
            files = _lmdb_files([], pickle.dumps({"clip_ids": ["clip"]}), {"clip": npz_bytes(mutated)})
            yield FuzzCase("lmdb", f"record {description}", files, "db")
        yield FuzzCase("lmdb", "record is a pickle", _lmdb_files(
            [], pickle.dumps({"clip_ids": ["clip"]}), {"clip": pickle.dumps(_Boom())}), "db")
        yield FuzzCase("lmdb", "data.mdb only, lock file missing", {"db/data.mdb": seed.files["db/data.mdb"]}, "db")
        yield FuzzCase("lmdb", "empty folder", {"db/readme.txt": b""}, "db")

    return FuzzTarget("lmdb", seeds, _read_lmdb, records_problem, structured)


def _lmdb_record_bytes(record: object) -> bytes:
    from signeditor.io.signspark import record_bytes

    return record_bytes(record)


LEXICON_SEED = (
    "path,spoken_language,signed_language,start,end,words,glosses,priority\n"
    "gsg/haus.pose,de,gsg,0,0,Haus,HAUS,0\n"
    "gsg/gross.pose,de,gsg,120,1480,groß,GROSS,1\n"
    "ase/a.pose,en,ase,0,2720,A,A,0\n"
    '"gsg/komma,name.pose",de,gsg,0,0,"Haus, groß",HAUS-GROSS,-2\n'
)


def lexicon_problem(lexicon: object) -> str | None:
    entries = getattr(lexicon, "entries", None)
    folders = getattr(lexicon, "folders", None)
    if not isinstance(entries, list) or not folders:
        return f"got {type(lexicon).__name__} without entries and folders"
    root = os.path.normpath(folders[0])
    for entry in entries:
        if not (isinstance(entry.start, int) and isinstance(entry.end, int) and entry.start >= 0 and entry.end >= 0):
            return f"line {entry.line}: start/end {entry.start!r}/{entry.end!r}"
        if not all(isinstance(v, str) for v in (entry.spoken_language, entry.signed_language, entry.words,
                                                entry.glosses)):
            return f"line {entry.line}: a text field is not a string"
        if not os.path.normpath(entry.path).startswith(root + os.sep):
            return f"line {entry.line}: clip path {entry.path} points outside the lexicon folder"
    return None


def _read_lexicon(path: Path) -> object:
    from signeditor.io.lexicon import read_lexicon

    return read_lexicon(path)


def lexicon_target(heavy: bool = False) -> FuzzTarget | None:
    """The lexicon reader (``signeditor.io.lexicon``); None in a checkout that does not have it yet."""
    try:
        import signeditor.io.lexicon  # noqa: F401
    except ImportError:
        return None

    def case(description: str, text: str | bytes) -> FuzzCase:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return FuzzCase("lexicon", description, {"lex/index.csv": data}, "lex")

    def seeds() -> list[FuzzCase]:
        return [case("valid index.csv", LEXICON_SEED)]

    def structured(seed: FuzzCase, rng: random.Random) -> Iterator[FuzzCase]:
        header, *rows = LEXICON_SEED.splitlines(keepends=True)
        yield case("header only", header)
        yield case("empty file", "")
        yield case("BOM and CRLF", "\ufeff" + LEXICON_SEED.replace("\n", "\r\n"))
        yield case("latin-1 text", LEXICON_SEED.encode("latin-1"))
        yield case("UTF-16 text", LEXICON_SEED.encode("utf-16"))
        yield case("NUL byte", LEXICON_SEED.replace("Haus", "Ha\x00us", 1))
        yield case("columns reordered", "priority,glosses,words,end,start,signed_language,spoken_language,path\n"
                   "0,HAUS,Haus,0,0,gsg,de,gsg/haus.pose\n")
        yield case("a column missing", header.replace(",priority", "") + rows[0])
        yield case("header repeated column", header.replace("priority", "words") + rows[0])
        yield case("extra column", header.rstrip("\n") + ",extra\n" + rows[0].rstrip("\n") + ",x\n")
        yield case("row too short", header + "a.pose,de\n")
        yield case("row too long", header + rows[0].rstrip("\n") + ",1,2,3\n")
        yield case("unclosed quote", header + '"a.pose,de,gsg,0,0,Haus,HAUS,0\n')
        for column, value in (("start", "-5"), ("start", "1e3"), ("start", "nan"), ("end", "inf"), ("end", "x"),
                              ("priority", "99999999999999999999999"), ("start", "99999999999999999999999"),
                              ("start", "٣"), ("path", ""), ("path", "/etc/passwd"), ("path", "../../secret.pose"),
                              ("path", "a\\..\\..\\b.pose"), ("words", ""), ("spoken_language", ""),
                              ("end", "10"), ("words", "x" * 5000)):
            fields = rows[1].rstrip("\n").split(",")
            fields[COLUMN_INDEX[column]] = value
            yield case(f"{column} = {value[:20]!r}", header + ",".join(fields) + "\n")
        if heavy:
            rows_text = "".join(f"c{i}.pose,de,gsg,0,0,w{i},G{i},0\n" for i in range(MANY_FRAMES))
            yield case("100,000 rows", header + rows_text)
        yield case("one huge line", header + "a" * 2_000_000 + "\n")

    return FuzzTarget("lexicon", seeds, _read_lexicon, lexicon_problem, structured, text=True)


COLUMN_INDEX = {name: i for i, name in enumerate(
    ("path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority"))}


def all_targets(heavy: bool = False) -> list[FuzzTarget]:
    from signeditor.reliability.avatar_fuzz import avatar_target

    targets = [project_target(heavy), pose_target(heavy), bvh_target(heavy), gltf_target(True), gltf_target(False),
               smplx_target(heavy), signspark_target(heavy), lmdb_target(heavy), avatar_target(heavy)]
    lexicon = lexicon_target(heavy)
    if lexicon is not None:
        targets.append(lexicon)
    return targets
