"""``signeditor batch``: outputs byte-identical to the single-file commands, manifest resume, failures, workers."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from draft_helpers import write_fixture_lexicon
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signeditor.batch.driver import expand_inputs, plan_jobs, run_batch
from signeditor.batch.manifest import MANIFEST_NAME
from signeditor.batch.tasks import TASKS, BatchTask
from signeditor.batch.worker import BatchWorker
from signeditor.cli import main
from signeditor.core.project import Project
from signeditor.io.project_file import load_project, save_project
from signeditor.ml.fast.synthetic import synthetic_motion

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    """Three small projects of synthetic signing and one broken file."""
    folder = tmp_path / "clips"
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        motion, _ = synthetic_motion(rng, 2 + i)
        paths.append(folder / f"clip{i}.signproj")
        save_project(Project(motion=motion), paths[-1])
    (folder / "broken.signproj").write_bytes(b"PK\x03\x04 not a project")
    return paths


def _without_save_time(eaf: Path) -> bytes:
    """An ELAN file's bytes without the time it was written (pympi stamps each document with it)."""
    data = eaf.read_bytes()
    assert data.count(b' DATE="') == 1
    return re.sub(rb' DATE="[^"]*"', b' DATE=""', data)


def _zip_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / MANIFEST_NAME).read_text().splitlines()]


def test_batch_segment_matches_single_file_resumes_and_reports_failures(clips: list[Path], tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    folder = clips[0].parent
    assert main(["batch", "segment", str(folder), "-o", str(out), "--workers", "2", "--local", "--no-progress"]) == 1
    assert "local process pool" in capsys.readouterr().err
    for clip in clips:
        single = tmp_path / f"single_{clip.stem}.json"
        assert main(["segment", str(clip), "-o", str(single)]) == 0
        assert (out / f"{clip.stem}.json").read_bytes() == single.read_bytes()
    records = _manifest(out)
    assert sorted(r["status"] for r in records) == ["done", "done", "done", "failed"]
    failure = next(r for r in records if r["status"] == "failed")
    assert failure["input"].endswith("broken.signproj") and "broken.signproj" in failure["error"]
    assert not (out / "broken.json").exists()
    # Models load once per worker process, not once per file.
    assert sum(r["loaded_models"] for r in records) == len({r["worker"] for r in records})
    # A rerun skips what is done and retries only the failure; a deleted output is redone.
    (out / "clip1.json").unlink()
    capsys.readouterr()
    assert main(["batch", "segment", str(folder), "-o", str(out), "--local", "--json", "--no-progress"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["done"], summary["failed"], summary["skipped"]) == (1, 1, 2)
    assert list(summary["failures"]) == [str(folder.resolve() / "broken.signproj")]
    assert (out / "clip1.json").exists()
    # Once more with nothing deleted: only the failure runs again, the three done files are counted as skipped.
    assert main(["batch", "segment", str(folder), "-o", str(out), "--local", "--json", "--no-progress"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["done"], summary["failed"], summary["skipped"]) == (0, 1, 3)


def test_batch_export_and_segment_on_ray_match_single_file(local_ray: object, clips: list[Path],
                                                           tmp_path: Path) -> None:
    inputs = [str(SAMPLE), *map(str, clips[:2])]
    out = tmp_path / "ray"
    assert main(["batch", "export", *inputs, "-f", "bvh", "-o", str(out), "--workers", "2", "--no-progress"]) == 0, \
        _manifest(out)
    assert main(["export", *inputs, "-f", "bvh", "-o", str(tmp_path / "single")]) == 0
    for name in ("sample.bvh", "clip0.bvh", "clip1.bvh"):
        assert (out / name).read_bytes() == (tmp_path / "single" / name).read_bytes()
    assert main(["batch", "segment", *map(str, clips), "-o", str(out), "--suffix", ".eaf", "--no-progress"]) == 0, \
        _manifest(out)
    assert main(["segment", str(clips[2]), "-o", str(tmp_path / "single.eaf")]) == 0
    assert _without_save_time(out / "clip2.eaf") == _without_save_time(tmp_path / "single.eaf")
    records = _manifest(out)
    assert len(records) == 6 and {r["status"] for r in records} == {"done"}
    segment_records = records[3:]
    assert sum(r["loaded_models"] for r in segment_records) == len({r["worker"] for r in segment_records})


def test_batch_draft_matches_the_draft_command(tmp_path: Path) -> None:
    lexicon = write_fixture_lexicon(tmp_path / "lexicon")
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "one.txt").write_text("Kinder essen Pizza\n", encoding="utf-8")
    (texts / "empty.txt").write_text("  \n", encoding="utf-8")
    common = ["--spoken", "de", "--signed", "sgg", "--lexicon", str(lexicon), "--no-kf2p",
              "--cache-dir", str(tmp_path / "cache")]
    out = tmp_path / "out"
    assert main(["batch", "draft", str(texts), "-o", str(out), *common, "--local", "--workers", "1",
                 "--no-progress"]) == 1
    assert main(["draft", "Kinder essen Pizza", *common, "-o", str(tmp_path / "single.signproj")]) == 0
    # A .signproj is a zip whose entries carry the time of saving: the entries must be byte-identical.
    assert _zip_entries(out / "one.signproj") == _zip_entries(tmp_path / "single.signproj")
    failure = next(r for r in _manifest(out) if r["status"] == "failed")
    assert "empty.txt" in failure["error"] and "no text" in failure["error"]


def _video_import_available() -> bool:
    from signeditor.video.holistic import video_import_available

    return video_import_available()


def test_batch_import_video_without_the_video_extra_says_so(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    if _video_import_available():
        pytest.skip("the video extra is installed")
    video = tmp_path / "a.mp4"
    video.write_bytes(b"")
    assert main(["batch", "import-video", str(video), "-o", str(tmp_path / "out"), "--local"]) == 2
    assert "needs the video extra" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.video
@pytest.mark.slow
def test_batch_import_video_matches_the_import_video_command(rendered_sample: tuple[Path, object],
                                                              tmp_path: Path) -> None:
    if not _video_import_available():
        pytest.skip("needs the [video] extra")
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(rendered_sample[0], videos / "take.mp4")
    (videos / "broken.mp4").write_bytes(b"not a video")
    out = tmp_path / "out"
    assert main(["batch", "import-video", str(videos), "-o", str(out), "--local", "--workers", "1",
                 "--no-progress"]) == 1
    batch = {name: (out / name).read_bytes() for name in ("take.pose", "take.signproj")}
    # The project names its keypoint file by path: the single-file command writes to the same place.
    for name in batch:
        (out / name).unlink()
    assert main(["import-video", str(videos / "take.mp4"), "-o", str(out / "take.signproj"), "--quiet"]) == 0
    assert batch["take.pose"] == (out / "take.pose").read_bytes()
    (out / "batch.signproj").write_bytes(batch["take.signproj"])
    assert _zip_entries(out / "batch.signproj") == _zip_entries(out / "take.signproj")
    failure = next(r for r in _manifest(out) if r["status"] == "failed")
    assert "broken.mp4" in failure["error"] and not (out / "broken.signproj").exists()


def test_two_inputs_writing_one_output_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(SAMPLE, tmp_path / "a" / "take.signproj")
    shutil.copy(SAMPLE, tmp_path / "b" / "take.signproj")
    assert main(["batch", "export", str(tmp_path / "a"), str(tmp_path / "b"), "-f", "npz", "-o", str(tmp_path / "o"),
                 "--local"]) == 2
    assert "would both write" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_file_named_twice_or_inside_a_named_folder_is_one_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`batch export data data/take.signproj /abs/data/take.signproj`: the same file reached three ways (through
    its folder, by a relative and by an absolute path) is exported once, not refused as two inputs writing one
    output."""
    (tmp_path / "data").mkdir()
    shutil.copy(SAMPLE, tmp_path / "data" / "take.signproj")
    monkeypatch.chdir(tmp_path)
    absolute = str(tmp_path / "data" / "take.signproj")
    assert main(["batch", "export", "data", "data/take.signproj", absolute, "-f", "npz", "-o", "out",
                 "--local"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != MANIFEST_NAME) == ["take.npz"]
    assert len(_manifest(tmp_path / "out")) == 1


def test_a_retried_failure_that_succeeded_is_done_and_a_later_failure_is_not(tmp_path: Path) -> None:
    """The manifest is a log: the last line about an output is its state. a.npz failed, then a retry finished it:
    a resume skips it. b.npz finished, then a rerun (forced) failed: a resume runs it again. c.npz finished but
    its file was deleted since: it runs again too."""
    from signeditor.batch.manifest import DONE, FAILED, Manifest, TaskRecord

    manifest = Manifest(tmp_path / MANIFEST_NAME)
    outputs = {name: tmp_path / f"{name}.npz" for name in "abc"}
    for path in (outputs["a"], outputs["b"]):
        path.write_bytes(b"x")
    for name, status in (("a", FAILED), ("b", DONE), ("c", DONE), ("a", DONE), ("b", FAILED)):
        manifest.append(TaskRecord(f"{name}.signproj", str(outputs[name]), status, 0.1, stamp="same"))
    stamps = {str(path): "same" for path in outputs.values()}
    assert manifest.finished(stamps) == {str(outputs["a"])}
    # Made from other options or another version of the input: out of date.
    assert manifest.finished({**stamps, str(outputs["a"]): "other"}) == set()
    # Lines that are not ours (another tool's record, a torn write) are skipped, never fatal.
    with manifest.path.open("a", encoding="utf-8") as handle:
        handle.write('{"job": "other tool"}\n[1, 2]\n{"input": "x", "out\n')
    assert manifest.finished(stamps) == {str(outputs["a"])}


class _Killed(BaseException):
    """The batch process killed half-way (as by Ctrl-C or the machine going down)."""


class _InProcessRunner:
    """Runs the jobs one by one in this process through the real ``BatchWorker``; optionally killed after
    ``cut`` jobs, leaving the manifest as a killed batch leaves it."""

    description = "in this process"

    def __init__(self, cut: int | None = None) -> None:
        self.worker = BatchWorker()
        self.cut = cut
        self.ran: list[str] = []

    def results(self, jobs):
        for job in jobs:
            if len(self.ran) == self.cut:
                raise _Killed
            self.ran.append(job.input)
            yield self.worker.run(job)

    def close(self) -> None:
        pass


def _shout_output(source: Path, folder: Path, options: dict) -> Path:
    return folder / f"{source.stem}.out"


def _shout_run(loaded: str, source: Path, output: Path, options: dict) -> str:
    text = source.read_text(encoding="utf-8")
    if text.startswith("!"):
        raise ValueError(f"{source.name} is refused")
    output.write_text(text.upper() + loaded, encoding="utf-8")
    return "ok"


_SHOUT = BatchTask("shout", "a test task: the input in capitals, then the --tail option", (".txt",), _shout_output,
                   lambda options: options["tail"], _shout_run)

_CHANGES = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 3), st.sampled_from(["a", "b", "!bad"])),  # new text, a new time
    st.tuples(st.just("touch"), st.integers(0, 3), st.just("")),  # same text, a new time
    st.tuples(st.just("settings"), st.just(0), st.sampled_from(["", "?", "!"])),
    st.tuples(st.just("delete"), st.integers(0, 3), st.just("")),  # the output deleted by hand
    st.tuples(st.just("only"), st.integers(0, 15), st.just("")),  # the next batches get some of the inputs
    st.none(),
)
#: Each step: a change, then a batch killed after n jobs (None: runs to the end), leaving a torn line or not.
_BATCH_STEPS = st.lists(st.tuples(_CHANGES, st.none() | st.integers(0, 3), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "!bad"]), min_size=1, max_size=4), _BATCH_STEPS)
def test_batch_resume_runs_exactly_what_is_not_done_from_the_current_input_and_options(
        monkeypatch: pytest.MonkeyPatch, contents: list[str], steps: list[tuple]) -> None:
    """Against a plain dict of what each output was last made from: after a first full run, each batch run
    (possibly killed after some jobs, possibly leaving a torn manifest line) runs exactly the jobs whose output is
    not done, was deleted, failed last time, or was made from other options or an older version of its input
    (edited or touched since), in input order, and skips the rest (outputs of inputs not in this batch are neither
    run nor counted); the counts it reports are those; each output holds what its last successful run wrote; a
    failed input keeps no new output. Then a full run, and another that runs only the failures; every output is
    as one uninterrupted batch in a fresh folder writes it."""
    monkeypatch.setitem(TASKS, "shout", _SHOUT)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the worker sets it; restored after the test
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "in").mkdir()
        inputs = [root / "in" / f"n{i}.txt" for i in range(len(contents))]
        version = 10**18  # input modification times, in ns: each edit or touch makes the input newer
        for path, text in zip(inputs, contents, strict=True):
            path.write_text(text, encoding="utf-8")
            os.utime(path, ns=(version, version))
        model: dict[Path, tuple[str, tuple]] = {}  # output -> (status, what it was made from: text, time, tail)
        on_disk: dict[Path, str] = {}
        tail = ""
        chosen = inputs

        def run_once(out: Path, cut: int | None, torn: bool) -> None:
            jobs = plan_jobs(_SHOUT, chosen, out, {"tail": tail})
            made_from = {Path(j.output): (Path(j.input).read_text(encoding="utf-8"), Path(j.input).stat().st_mtime_ns,
                                          tail) for j in jobs}
            todo = [j for j in jobs if not (model.get(Path(j.output), ("", ()))[0] == "done"
                                            and model[Path(j.output)][1] == made_from[Path(j.output)]
                                            and Path(j.output) in on_disk)]
            runner = _InProcessRunner(cut)
            try:
                summary = run_batch(_SHOUT, jobs, out, runner, progress=False)
            except _Killed:
                summary = None
                if torn:
                    with (out / MANIFEST_NAME).open("a", encoding="utf-8") as handle:
                        handle.write('{"input": "' + str(inputs[0]) + '", "out')
            ran = todo if cut is None else todo[:cut]
            assert runner.ran == [j.input for j in ran]
            for job in ran:
                text = made_from[Path(job.output)][0]
                ok = not text.startswith("!")
                model[Path(job.output)] = ("done" if ok else "failed", made_from[Path(job.output)])
                if ok:
                    on_disk[Path(job.output)] = text.upper() + tail
            if summary is not None:
                failed = sum(model[Path(j.output)][0] == "failed" for j in ran)
                assert (summary.done, summary.failed, summary.skipped) == (len(ran) - failed, failed,
                                                                           len(jobs) - len(ran))
            for job in jobs:
                output = Path(job.output)
                assert (output.read_text(encoding="utf-8") if output.exists() else None) == on_disk.get(output)

        out = root / "out"
        run_once(out, None, False)
        for change, cut, torn in steps:
            kind, which, what = change or ("none", 0, "")
            if kind in ("edit", "touch"):
                which %= len(inputs)
                version += 1000
                if kind == "edit":
                    inputs[which].write_text(what, encoding="utf-8")
                os.utime(inputs[which], ns=(version, version))
            elif kind == "settings":
                tail = what
            elif kind == "delete":
                output = (out / f"n{which % len(inputs)}.out").resolve()
                output.unlink(missing_ok=True)
                on_disk.pop(output, None)
            elif kind == "only":
                chosen = [p for i, p in enumerate(inputs) if which >> i & 1]
            run_once(out, cut, torn)
        chosen = inputs
        run_once(out, None, False)
        run_once(out, None, False)
        model.clear()
        resumed = dict(on_disk)
        on_disk.clear()
        run_once(root / "fresh", None, False)
        good = {p.name: text for p, text in on_disk.items()}
        assert {p.name: text for p, text in resumed.items() if p.name in good} == good


@pytest.mark.parametrize("output_name", ["signs.json", "signs.eaf"])
def test_segmenting_a_bad_file_names_it_and_leaves_the_output_as_it_was(tmp_path: Path, output_name: str) -> None:
    """`segment` and `batch segment` call segment_file: a broken input, or more glosses than the recording has
    frames, is a FileFormatError naming the input, and the output file the user already had is left byte for byte
    (nothing written, nothing half-written); a good input then replaces it."""
    from signeditor.app_services import segment_file
    from signeditor.io.errors import FileFormatError
    from signeditor.ml.fast.api import load_segmenter
    from signeditor.ml.fast_tracks.guided import GlossAligner

    segmenter = load_segmenter()
    output = tmp_path / output_name
    output.write_bytes(b"the user's earlier result")
    broken = tmp_path / "broken.signproj"
    broken.write_bytes(b"PK\x03\x04 not a project")
    with pytest.raises(FileFormatError, match=r"broken\.signproj"):
        segment_file(broken, output, segmenter, "onset_middle_offset", 5)
    short = tmp_path / "short.signproj"
    save_project(Project(motion=synthetic_motion(np.random.default_rng(3), 2)[0].resampled(25.0)), short)
    n_frames = load_project(short).motion.n_frames
    with pytest.raises(FileFormatError, match=rf"short\.signproj.*{n_frames + 1} glosses but only {n_frames} frames"):
        segment_file(short, output, GlossAligner(segmenter, None, "fast"), "onset_middle_offset", 5,
                     [f"G{k}" for k in range(n_frames + 1)])
    assert output.read_bytes() == b"the user's earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["broken.signproj", "short.signproj", output_name])
    segment_file(short, output, GlossAligner(segmenter, None, "fast"), "onset_middle_offset", 5, ["ICH", "DU"])
    assert output.read_bytes() != b"the user's earlier result"
    if output.suffix == ".json":
        assert [s["gloss"] for s in json.loads(output.read_text())["segments"]] == ["ICH", "DU"]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "no text to sign"),
    (b" \n\t\n", "no text to sign"),
    (b"\xff\xfeK\x00i\x00", "cannot read the text"),  # UTF-16, not the UTF-8 the task reads
    (b"Kinder \xe4 Pizza", "cannot read the text"),  # Latin-1
])
def test_a_draft_task_refuses_a_text_file_it_cannot_sign_by_name(tmp_path: Path, content: bytes,
                                                                 reason: str) -> None:
    """`batch draft` reads each text file as UTF-8: an empty or blank file, or one in another encoding, fails its
    own task with a FileFormatError naming the file and why, before anything is built or written."""
    from signeditor.io.errors import FileFormatError

    source = tmp_path / "sentence.txt"
    source.write_bytes(content)
    output = tmp_path / "sentence.signproj"
    with pytest.raises(FileFormatError, match=rf"sentence\.txt.*{reason}"):
        TASKS["draft"].run(None, source, output, {"spoken": "de", "signed": "sgg", "nonmanuals": True})
    assert not output.exists()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["", "a", "a/b", "c"]), st.sampled_from(["x", "y", "z.v1"]),
                          st.sampled_from([".pose", ".POSE", ".txt", ".signproj", ""])), max_size=8, unique=True),
       st.lists(st.sampled_from(["a", "a/b", "c", "a/x.pose", "y.pose", "a", "."]), min_size=1, max_size=4))
def test_batch_inputs_are_the_named_files_and_the_task_files_in_named_folders_once_each(
        tmp_path_factory: pytest.TempPathFactory, files: list[tuple[str, str, str]], named: list[str]) -> None:
    """What `batch` works on, against a listing built here: each named file as given; each named folder becomes the
    files anywhere below it whose suffix is one of the task's (in any case), sorted by path; in the order named,
    each file once (a file reached through two folders, or named and inside a named folder, runs once)."""
    root = tmp_path_factory.mktemp("inputs")
    for folder, stem, suffix in files:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{stem}{suffix}").write_text("x")
    wanted: list[Path] = []
    for name in named:
        path = root / name
        if path.is_dir():
            below = [Path(d) / f for d, _, fs in os.walk(path) for f in fs]
            wanted += sorted(p for p in below if p.suffix.lower() in (".pose", ".signproj"))
        else:
            wanted.append(path)
    once = []
    for path in wanted:
        if path.resolve() not in once:
            once.append(path.resolve())
    assert expand_inputs([root / n for n in named], (".pose", ".signproj")) == once
