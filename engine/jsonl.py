"""JSON Lines, read and written in one place: inputs (tool files, eval files, samples) and run outputs.

- `json_lines`: the one parse of lines into values, each with its line number or why it is not JSON;
  callers decide what a bad line means (skip and report, or refuse the file);
- `iter_records` / `JsonlAppender`: the append-only run outputs. Each record is written with ONE
  ``os.write`` on an O_APPEND descriptor, then fsync'ed, so a crash leaves at most one torn last line;
  a reader cuts a torn last line off (earlier lines untouched);
- `write_jsonl`: a whole file written atomically (a temporary file renamed over the target), so a
  reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from toolflow.engine.errors import InputError


class JsonLine(NamedTuple):
    """One non-blank line: its 1-based number, its value, and why it is not JSON (None when it is) with the
    column where the parse stopped."""

    number: int
    value: Any
    error: str | None = None
    column: int | None = None


def json_lines(lines: Iterable[str | bytes]) -> Iterator[JsonLine]:
    """Every non-blank line parsed; a line that is not JSON comes with its ``error`` and ``column``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield JsonLine(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield JsonLine(number, None, exc.msg, exc.colno)


class JsonlError(ValueError, InputError):
    """A JSONL path that cannot be used (not a regular file, unreadable)."""


@dataclass
class ReadReport:
    """What a read passed over: bad lines (line number, why) and a repaired torn last line."""

    records: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    repaired: str | None = None  # "cut" (a torn last line removed) or "newline" (its newline added)

    def summary(self, path: Path) -> str | None:
        if not self.bad:
            return None
        first = ", ".join(f"line {n}: {why}" for n, why in self.bad[:3])
        more = f" (+{len(self.bad) - 3} more)" if len(self.bad) > 3 else ""
        return f"{path}: skipped {len(self.bad)} unreadable line(s): {first}{more}"


def iter_records(path: Path, *, repair: bool = True, report: ReadReport | None = None) -> Iterator[dict[str, Any]]:
    """The complete records of a JSONL file written by this module, streamed (never all in memory).

    A last line without its newline is the trace of a crash mid-write: if it does not parse it is cut
    off (``repair``), if it does the newline is added. Bad lines elsewhere are skipped (listed in
    `report`), never deleted. Anything but a regular file (a FIFO, /dev/full) is refused: reading it
    could block or never end.
    """
    report = report if report is not None else ReadReport()
    if not path.exists():
        return
    if not path.is_file():
        raise JsonlError(f"{path}: not a regular file")
    offset = 0
    tail: tuple[int, bool] | None = None  # (start offset, parsed) of a line without its newline
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            start, offset = offset, offset + len(line)
            complete = line.endswith(b"\n")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                if not complete:
                    tail = (start, False)
                else:
                    report.bad.append((lineno, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(record, dict):
                report.bad.append((lineno, "not a JSON object"))
                continue
            if not complete:
                tail = (start, True)
            report.records += 1
            yield record
    if tail is not None and repair:
        start, parsed = tail
        with open(path, "r+b") as f:
            if parsed:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                report.repaired = "newline"
            else:
                f.truncate(start)
                report.repaired = "cut"
            f.flush()
            os.fsync(f.fileno())


def read_records(path: Path, *, repair: bool = True) -> list[dict[str, Any]]:
    """All complete records (see `iter_records`), as a list: for small files and tests."""
    return list(iter_records(path, repair=repair))


class JsonlAppender:
    """Append-only JSONL writer: one ``os.write`` per record, then fsync."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any] | BaseModel) -> None:
        data = (dumps_line(record).replace("\n", "\\n") + "\n").encode("utf-8")
        written = os.write(self.fd, data)
        while written < len(data):  # regular files do not short-write in practice; never lose the rest
            written += os.write(self.fd, data[written:])
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_jsonl(path: Path, record: dict[str, Any] | BaseModel) -> None:
    """Append one record durably (open, one write, fsync, close): for files written a line now and then."""
    with JsonlAppender(path) as out:
        out.write(record)


def dumps_line(record: dict[str, Any] | BaseModel) -> str:
    """One record as one JSON line (non-ASCII kept as is), without its newline."""
    return record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | BaseModel]) -> int:
    """Write `records` as the whole of `path`, atomically (a temporary file, fsync'ed, renamed over `path`:
    the file appears complete or not at all); returns how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for record in records:
                f.write(dumps_line(record) + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n
