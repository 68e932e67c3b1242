"""Fuzzing every importer: each damaged file loads sanely or raises FileFormatError naming the file and problem.

The engine (signeditor.reliability.fuzz) and the per-format seeds and
structured mutations (fuzz_targets) are shared with `signeditor bench
reliability`, which runs many more cases; here the counts are bounded so the
suite stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signeditor.io.errors import FileFormatError
from signeditor.reliability.fuzz import FuzzCase, FuzzTarget, run_case, run_fuzz, time_limit
from signeditor.reliability.fuzz_targets import MANY_FRAMES, all_targets, motion_problem

TARGETS = {t.name: t for t in all_targets(heavy=False)}
#: Byte-level mutations per format in the unit run (every structured mutation runs too, except glTF JSON's,
#: which are slow to decode and share their code with GLB's).
BYTE_CASES = 30


def test_every_importer_is_fuzzed():
    assert {"signproj", "pose", "bvh", "glb", "gltf", "npz", "signspark", "lmdb", "lexicon", "avatar"} <= set(TARGETS)


#: Formats whose run takes over 5 s here (LMDB reads each database in a child process; glTF decodes a mesh).
SLOW = {"lmdb", "glb", "gltf", "avatar"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(TARGETS)])
def test_mutated_files_load_sanely_or_raise_a_clear_error(name: str, tmp_path: Path):
    """Every structured mutation (NaN, shapes, zero/long clips, fps, layouts, encodings, pickles) and byte damage."""
    target = TARGETS[name]
    if name == "gltf":
        report = run_fuzz([target], 20, seed=1, timeout_s=30, folder=tmp_path)
    else:
        report = run_fuzz([target], BYTE_CASES, seed=1, timeout_s=30, folder=tmp_path, all_structured=True)
        assert report.cases > BYTE_CASES + 20, "structured mutations ran"
    assert report.loaded >= len(target.seeds()), "the valid seed files load"
    assert report.rejected > 0, "the mutations include files that must be refused"
    assert not report.failures, report.summary()


def _byte_damage(data: bytes, flips: list[tuple[float, int]], cut: float | None) -> bytes:
    out = bytearray(data)
    for where, mask in flips:
        if out:
            out[min(int(where * len(out)), len(out) - 1)] ^= mask
    if cut is not None:
        out = out[: int(cut * len(out))]
    return bytes(out)


_damage = st.tuples(
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=6),
    st.none() | st.floats(0, 1),
)


@pytest.mark.parametrize("name", ["signproj", "pose", "bvh", "npz", "signspark", "lexicon", "glb"])
def test_hypothesis_byte_damage(name: str, tmp_path_factory: pytest.TempPathFactory):
    """Hypothesis chooses where to flip bits and where to cut; shrinking points at the smallest bad damage."""
    target = TARGETS[name]
    seed = target.seeds()[0]
    entry_file = next(k for k in seed.files if k.endswith(Path(seed.entry).name) or k.startswith(seed.entry))
    folder = tmp_path_factory.mktemp(f"hyp-{name}")

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_damage)
    def check(damage: tuple[list[tuple[float, int]], float | None]) -> None:
        flips, cut = damage
        files = {**seed.files, entry_file: _byte_damage(seed.files[entry_file], flips, cut)}
        outcome, problem = run_case(target, FuzzCase(name, "hypothesis", files, seed.entry), folder / "case", 30)
        assert outcome != "failed", problem

    check()


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=6, max_size=6),
       st.integers(0, 40), st.floats(allow_nan=True, allow_infinity=True))
def test_hypothesis_smplx_values(tmp_path_factory, values, frames, fps):
    """Arbitrary numbers (NaN, infinities, huge) in an SMPL-X file, any frame count, any frame rate."""
    from signeditor.reliability.fuzz_targets import npz_bytes

    body = np.resize(np.asarray(values, np.float32), (frames, 21, 3))
    data = npz_bytes({"body_pose": body, "mocap_framerate": np.asarray(fps)})
    case = FuzzCase("npz", "hypothesis values", {"m.npz": data}, "m.npz")
    outcome, problem = run_case(TARGETS["npz"], case, tmp_path_factory.mktemp("smplx") / "case", 30)
    assert outcome != "failed", problem


def test_a_100000_frame_project_loads(tmp_path: Path):
    """A valid hour-long clip opens (not refused, not hung) and comes back intact."""
    from signeditor.core.motion import Motion
    from signeditor.core.project import Project
    from signeditor.io.formats import open_project
    from signeditor.io.project_file import save_project
    from signeditor.reliability.fuzz_targets import seed_motion

    small = seed_motion()
    motion = Motion(25.0, np.resize(small.features, (MANY_FRAMES, small.features.shape[1])))
    save_project(Project(motion), tmp_path / "long.signproj")
    with time_limit(60):
        loaded = open_project(tmp_path / "long.signproj")
    assert loaded.motion.n_frames == MANY_FRAMES and motion_problem(loaded.motion) is None


def test_the_runner_reports_each_kind_of_failure(tmp_path: Path):
    """The engine itself: wrong exception types, unnamed files, hangs and insane results all count as failures."""
    import time

    def loader(behaviour: str):
        def load(path: Path) -> object:
            if behaviour == "key":
                raise KeyError("boom")
            if behaviour == "unnamed":
                raise FileFormatError("elsewhere.bin", "bad")
            if behaviour == "hang":
                time.sleep(5)
            if behaviour == "good":
                raise FileFormatError(path, "bad header")
            return "insane"
        return load

    seed = FuzzCase("t", "seed", {"f.bin": b"x"}, "f.bin")
    outcomes = {}
    for behaviour in ("key", "unnamed", "hang", "good", "insane"):
        target = FuzzTarget("t", lambda: [seed], loader(behaviour), lambda r: "not sane" if r == "insane" else None)
        outcomes[behaviour] = run_case(target, seed, tmp_path / behaviour, timeout_s=0.5)
    assert outcomes["good"] == ("rejected", None)
    assert outcomes["key"][0] == outcomes["unnamed"][0] == outcomes["hang"][0] == outcomes["insane"][0] == "failed"
    assert "KeyError" in outcomes["key"][1] and "hang" in outcomes["hang"][1]



def test_an_npz_header_claiming_terabytes_is_refused_without_allocating(tmp_path: Path):
    """numpy allocates the declared shape before reading; a damaged shape must not ask for a terabyte."""
    import io
    import zipfile

    from signeditor.io.smplx_params import read_smplx_npz

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 21, 3)})
    member.write(np.zeros(63, np.float32).tobytes())
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("body_pose.npy", member.getvalue())
    with time_limit(10), pytest.raises(FileFormatError, match="declares shape"):
        read_smplx_npz(path)


def test_a_pose_file_whose_hand_collapses_in_one_frame_loads_with_that_frame_filled(tmp_path: Path):
    """Coinciding keypoints give IK nothing to fit: the joints take the rest pose and the frame is marked filled."""
    from pose_format import Pose

    from signeditor.io.formats import open_project
    from signeditor.io.pose_export import write_pose
    from signeditor.reliability.fuzz_targets import seed_motion

    path = tmp_path / "c.pose"
    write_pose(seed_motion(), path)
    pose = Pose.read(path.read_bytes())
    names = [c.name for c in pose.header.components]
    start = sum(len(c.points) for c in pose.header.components[: names.index("RIGHT_HAND_LANDMARKS")])
    data = pose.body.data
    data[3, 0, start:start + 21] = data[3, 0, start]  # every right-hand point on the wrist in frame 3
    with path.open("wb") as handle:
        pose.write(handle)
    project = open_project(path)
    assert motion_problem(project.motion) is None
    assert project.motion.filled[3] and not project.motion.filled[[0, 6]].any()
