"""Run outputs on disk: the rejects file beside a dialogues file; the JSONL reading and writing itself
is :mod:`toolflow.engine.jsonl` (its run-output names are importable from here too)."""

from __future__ import annotations

from pathlib import Path

from toolflow.engine.jsonl import JsonlAppender, JsonlError, ReadReport, iter_records, read_records

__all__ = ["JsonlAppender", "JsonlError", "ReadReport", "iter_records", "read_records", "rejects_path_for"]


def rejects_path_for(out: Path) -> Path:
    """``dialogues.jsonl`` → ``dialogues.rejects.jsonl`` in the same folder."""
    return out.with_name(f"{out.stem}.rejects{out.suffix or '.jsonl'}")
