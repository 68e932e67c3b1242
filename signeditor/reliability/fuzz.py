"""The importer fuzzing engine: byte mutators, a case runner with a time limit, and a report.

Every importer must either load a file correctly (and the result must be
sane: finite numbers, consistent shapes) or raise FileFormatError naming the
file and the problem. Anything else (another exception, a hang, an insane
result) is a failure. The engine is format-agnostic: formats plug in as
:class:`FuzzTarget` (see ``fuzz_targets``), so the unit tests run a few
cases per format and the benchmark runs many with the same code.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from signeditor.io.errors import FileFormatError


@dataclass(frozen=True)
class FuzzCase:
    """Files to write (relative name -> bytes) and which of them (or which folder) the importer opens."""

    target: str
    description: str
    files: dict[str, bytes]
    entry: str


@dataclass(frozen=True)
class FuzzTarget:
    """One importer: how to make valid seed cases, how to mutate them structurally, how to load and check.

    ``check`` returns a problem with a loaded result (None when it is sane);
    ``structured`` yields format-aware mutations (NaN arrays, wrong shapes,
    zero frames, wrong fps, unknown layouts...) that byte flips rarely reach.
    """

    name: str
    seeds: Callable[[], list[FuzzCase]]
    load: Callable[[Path], object]
    check: Callable[[object], str | None]
    structured: Callable[[FuzzCase, random.Random], Iterator[FuzzCase]] | None = None
    text: bool = False  # text formats get token-level mutations (numbers to nan/inf, non-UTF-8 bytes)


@dataclass
class FuzzFailure:
    target: str
    description: str
    problem: str
    files: dict[str, bytes] = field(repr=False, default_factory=dict)


@dataclass
class FuzzReport:
    cases: int = 0
    loaded: int = 0
    rejected: int = 0
    failures: list[FuzzFailure] = field(default_factory=list)
    per_target: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def merge(self, other: FuzzReport) -> None:
        self.cases += other.cases
        self.loaded += other.loaded
        self.rejected += other.rejected
        self.failures += other.failures
        self.seconds += other.seconds
        for k, v in other.per_target.items():
            self.per_target[k] = self.per_target.get(k, 0) + v

    def summary(self, limit: int = 10) -> str:
        lines = [f"{self.cases} cases: {self.loaded} loaded, {self.rejected} rejected, {len(self.failures)} failures"]
        lines += [f"  [{f.target}] {f.description}: {f.problem}" for f in self.failures[:limit]]
        return "\n".join(lines)


class CaseTimeout(BaseException):
    """A case ran past its time limit (a hang)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CaseTimeout in the main thread after ``seconds`` (no limit off the main thread, where signals fail)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise CaseTimeout(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- byte-level mutators -------------------------------------------------------------------------------------------
def truncate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    cut = rng.choice([0, 1, len(data) // 2, rng.randrange(len(data) + 1)]) if data else 0
    return f"truncated to {cut} bytes", data[:cut]


def flip_bits(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    if not data:
        return "empty", data
    out = bytearray(data)
    n = rng.choice([1, 2, 8, 32])
    for _ in range(n):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return f"{n} bits flipped", bytes(out)


def flip_bits_in_head(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Headers decide how the rest is read, so corrupt the first bytes more often than chance would."""
    if not data:
        return "empty", data
    out = bytearray(data)
    head = min(len(out), 512)
    for _ in range(rng.choice([1, 3])):
        out[rng.randrange(head)] ^= 1 << rng.randrange(8)
    return "header bits flipped", bytes(out)


def overwrite_chunk(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    if not data:
        return "empty", data
    start = rng.randrange(len(data))
    size = rng.choice([1, 4, 16, 256])
    fill = rng.choice([b"\x00", b"\xff", bytes([rng.randrange(256)])]) * size
    return f"{size} bytes at {start} overwritten", data[:start] + fill + data[start + size:]


def delete_chunk(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    if not data:
        return "empty", data
    start = rng.randrange(len(data))
    size = rng.choice([1, 7, 64, 1024])
    return f"{size} bytes at {start} deleted", data[:start] + data[start + size:]


def duplicate_chunk(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    if not data:
        return "empty", data
    start = rng.randrange(len(data))
    chunk = data[start:start + rng.choice([4, 64, 1024])]
    return f"chunk at {start} duplicated", data[:start] + chunk + data[start:]


BYTE_MUTATORS: tuple[Callable[[bytes, random.Random], tuple[str, bytes]], ...] = (
    truncate, flip_bits, flip_bits_in_head, overwrite_chunk, delete_chunk, duplicate_chunk,
)

_NUMBER_REPLACEMENTS = ("nan", "inf", "-inf", "1e308", "-1e308", "0", "-0", "1e-320", "99999999999999999999",
                        "x", "")


def replace_number(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Text formats: swap one numeric token for NaN, infinity, a huge or empty value."""
    tokens = data.split(b" ")
    numeric = [i for i, t in enumerate(tokens) if t[:1].isdigit() or t[:1] == b"-"]
    if not numeric:
        return "no number to replace", data
    i = rng.choice(numeric)
    value = rng.choice(_NUMBER_REPLACEMENTS)
    tokens[i] = value.encode() + (b"\n" if tokens[i].endswith(b"\n") else b"")
    return f"number token {i} -> {value!r}", b" ".join(tokens)


def insert_non_utf8(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    at = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\xff\xfe", b"\xc3\x28", b"\x80", b"\xed\xa0\x80", "é".encode("latin-1")])
    return f"non-UTF-8 bytes {junk!r} at {at}", data[:at] + junk + data[at:]


TEXT_MUTATORS = (replace_number, insert_non_utf8)


def byte_mutations(case: FuzzCase, rng: random.Random, text: bool) -> FuzzCase:
    """One random byte-level mutation of one of the case's files."""
    name = rng.choice(sorted(case.files))
    mutators = BYTE_MUTATORS + (TEXT_MUTATORS * 2 if text else ())
    mutator = rng.choice(mutators)
    description, data = mutator(case.files[name], rng)
    return FuzzCase(case.target, f"{name}: {description}", {**case.files, name: data}, case.entry)


# --- running ------------------------------------------------------------------------------------------------------
def _error_names_file(exc: FileFormatError, entry: Path) -> str | None:
    message = str(exc)
    if entry.name not in message:
        return f"FileFormatError does not name the file: {message!r}"
    if not exc.problem.strip():
        return "FileFormatError has an empty problem"
    return None


def run_case(target: FuzzTarget, case: FuzzCase, folder: Path, timeout_s: float = 20.0) -> tuple[str, str | None]:
    """Write the case's files under ``folder``, load them; ("loaded"|"rejected"|"failed", problem)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    entry = folder / case.entry
    started = time.perf_counter()
    try:
        with time_limit(timeout_s):
            result = target.load(entry)
    except FileFormatError as exc:
        problem = _error_names_file(exc, entry)
        return ("failed", problem) if problem else ("rejected", None)
    except CaseTimeout as exc:
        return "failed", f"hang: {exc}"
    except Exception as exc:  # the point of fuzzing: any other exception is a bug to report
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        return "failed", f"{type(exc).__name__} at {where}: {exc}"[:500]
    if time.perf_counter() - started > timeout_s:
        return "failed", f"took {time.perf_counter() - started:.1f} s"
    problem = target.check(result)
    return ("failed", f"loaded but not sane: {problem}") if problem else ("loaded", None)


def generate_cases(target: FuzzTarget, n_cases: int, rng: random.Random,
                   all_structured: bool = False) -> Iterator[FuzzCase]:
    """The seeds unchanged, then structured mutations and byte mutations, alternating, ``n_cases`` in all.

    With ``all_structured`` every structured mutation runs first, then ``n_cases`` byte mutations.
    """
    seeds = target.seeds()
    if all_structured:
        yield from seeds
        if target.structured is not None:
            for seed in seeds:
                yield from target.structured(seed, random.Random(rng.random()))
        for _ in range(n_cases):
            yield byte_mutations(rng.choice(seeds), rng, target.text)
        return
    produced = 0
    for seed in seeds:
        if produced >= n_cases:
            return
        yield seed
        produced += 1
    structured: Iterator[FuzzCase] = iter(())
    if target.structured is not None:
        structured = _round_robin([target.structured(s, random.Random(rng.random())) for s in seeds])
    while produced < n_cases:
        case = next(structured, None) if produced % 2 == 0 else None
        if case is None:
            case = byte_mutations(rng.choice(seeds), rng, target.text)
        yield case
        produced += 1


def _round_robin(iterators: list[Iterator[FuzzCase]]) -> Iterator[FuzzCase]:
    active = list(iterators)
    while active:
        for it in list(active):
            item = next(it, None)
            if item is None:
                active.remove(it)
            else:
                yield item


def run_fuzz(targets: Iterable[FuzzTarget], cases_per_target: int, seed: int = 0, timeout_s: float = 20.0,
             folder: Path | None = None, all_structured: bool = False) -> FuzzReport:
    """Fuzz every target; the report counts cases and lists each failure with the bytes that caused it.

    ``all_structured``: run every structured mutation plus ``cases_per_target`` byte mutations per target.
    """
    report = FuzzReport()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="signeditor-fuzz-") as tmp:
        base = Path(folder or tmp)
        for target in targets:
            rng = random.Random(f"{seed}:{target.name}")
            for case in generate_cases(target, cases_per_target, rng, all_structured):
                outcome, problem = run_case(target, case, base / "case", timeout_s)
                report.cases += 1
                report.per_target[target.name] = report.per_target.get(target.name, 0) + 1
                if outcome == "loaded":
                    report.loaded += 1
                elif outcome == "rejected":
                    report.rejected += 1
                else:
                    report.failures.append(FuzzFailure(target.name, case.description, problem or "", case.files))
    report.seconds = time.perf_counter() - started
    return report


def json_changed(document: dict, path: list[object], value: object) -> dict:
    """A deep copy of a JSON ``document`` with the item at ``path`` (keys and indices) set to ``value``.

    Format-aware mutations of glTF and similar JSON headers build their cases with it.
    """
    copy = json.loads(json.dumps(document))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy
