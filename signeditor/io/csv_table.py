"""Rows of a user-edited CSV table (a lexicon's ``index.csv``, its ``synonyms.csv``), checked as they are read.

Both tables come from spreadsheets and downloads, so the same things go wrong
in both (another encoding, a NUL byte, a missing column, a stray comma, a
runaway quoted field); one reader names the file, the line and the problem
for each, and every table checks only its own fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from signeditor.io.errors import FileFormatError

#: Longest field accepted; a longer one means the file is not such a table (or is hostile).
MAX_FIELD_CHARS = 4096


def csv_rows(data: bytes, path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, fields by column name) of each non-blank row of a UTF-8 CSV whose header holds ``columns``.

    FileFormatError (naming ``path`` and the line) on undecodable text, a NUL byte, an empty file, a header that
    lacks or repeats a column, a row with another number of fields than the header, an over-long field or
    malformed CSV.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileFormatError(path, f"line {line}: not UTF-8 text") from exc
    if "\x00" in text:
        raise FileFormatError(path, f"line {text[: text.index(chr(0))].count(chr(10)) + 1}: contains a NUL byte")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise FileFormatError(path, f"line 1: empty file, expected a header with {', '.join(columns)}")
        names = [h.strip() for h in header]
        missing = [c for c in columns if c not in names]
        if missing:
            raise FileFormatError(path, f"line 1: header lacks column(s) {', '.join(missing)}")
        duplicated = sorted({n for n in names if names.count(n) > 1 and n})
        if duplicated:
            raise FileFormatError(path, f"line 1: header repeats column(s) {', '.join(duplicated)}")
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                raise FileFormatError(path, f"line {line}: expected {len(names)} fields, got {len(fields)}")
            if any(len(f) > MAX_FIELD_CHARS for f in fields):
                raise FileFormatError(path, f"line {line}: a field is longer than {MAX_FIELD_CHARS} characters")
            yield line, dict(zip(names, fields, strict=True))
    except csv.Error as exc:
        raise FileFormatError(path, f"line {reader.line_num}: malformed CSV ({exc})") from exc
