"""Append-only JSONL, the durability half of a run.

- each record is written with ONE ``os.write`` on an O_APPEND descriptor, then fsync'ed, so a crash
  leaves at most one truncated last line;
- on start a truncated last line is cut off (earlier lines untouched).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from toolflow.engine.errors import InputError


def rejects_path_for(out: Path) -> Path:
    """``dialogues.jsonl`` → ``dialogues.rejects.jsonl`` in the same folder."""
    return out.with_name(f"{out.stem}.rejects{out.suffix or '.jsonl'}")


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
        text = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)
        data = (text.replace("\n", "\\n") + "\n").encode("utf-8")
        written = os.write(self.fd, data)
        while written < len(data):  # regular files do not short-write in practice; never lose the rest
            written += os.write(self.fd, data[written:])
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)
