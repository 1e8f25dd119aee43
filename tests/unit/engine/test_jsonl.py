"""engine/jsonl: the one line parse, the atomic whole-file writer and the durable one-line append."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolflow.engine.jsonl import JsonLine, append_jsonl, iter_records, json_lines, write_jsonl


def test_json_lines_numbers_lines_skips_blanks_and_says_why() -> None:
    lines = ['{"a": 1}\n', "\n", "  \n", '{"b": \n', "[1, 2]\n"]
    got = list(json_lines(lines))
    assert [g.number for g in got] == [1, 4, 5]
    assert got[0] == JsonLine(1, {"a": 1}) and got[2].value == [1, 2]
    assert got[1].value is None and got[1].error == "Expecting value" and got[1].column == 1


def test_write_jsonl_replaces_the_file_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "rows.jsonl"
    assert write_jsonl(out, [{"x": "é"}, {"x": 2}]) == 2
    assert out.read_text(encoding="utf-8") == '{"x": "é"}\n{"x": 2}\n'

    def broken():
        yield {"x": 3}
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_jsonl(out, broken())
    assert out.read_text(encoding="utf-8") == '{"x": "é"}\n{"x": 2}\n'  # the old file, untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ["rows.jsonl"]  # no temporary left beside it


def test_append_jsonl_adds_one_line_that_the_reader_reads(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    append_jsonl(path, {"key": "a"})
    append_jsonl(path, {"key": "b", "text": "two\nlines"})
    assert [r["key"] for r in iter_records(path)] == ["a", "b"]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2 and json.loads(path.read_text().splitlines()[1])
