"""Append-only JSONL, the durability half of a run.

- each record is written with ONE ``os.write`` on an O_APPEND descriptor, then fsync'ed, so a crash
  leaves at most one truncated last line;
- on start a truncated last line is cut off (earlier lines untouched).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def rejects_path_for(out: Path) -> Path:
    """``dialogues.jsonl`` → ``dialogues.rejects.jsonl`` in the same folder."""
    return out.with_name(f"{out.stem}.rejects{out.suffix or '.jsonl'}")


def read_records(path: Path, *, repair: bool = True) -> list[dict[str, Any]]:
    """All complete records of a JSONL file written by this module.

    A last line without its newline is the trace of a crash mid-write: if it does not parse it is cut
    off (``repair``), if it does the newline is added. Bad lines elsewhere are skipped, never deleted.
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    cut = len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1
    body, tail = data[:cut], data[cut:]
    records = []
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    if tail.strip():
        try:
            records.append(json.loads(tail))
            fixed = b"\n"
        except ValueError:
            fixed = None
        if repair:
            with open(path, "r+b") as f:
                if fixed is None:
                    f.truncate(len(data) - len(tail))
                else:
                    f.seek(0, os.SEEK_END)
                    f.write(fixed)
                f.flush()
                os.fsync(f.fileno())
    return records


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
