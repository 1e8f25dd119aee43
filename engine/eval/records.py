"""What `toolflow eval` accepts as a dialogue record, checked line by line before any metric runs.

The metrics read messages, tool calls and tools without further checks; a record with ``tools: null``, a
null message or ``tool_calls`` as a string used to end the whole run in a traceback. Each record is checked
against a lenient model of the shape `synth` writes (extra fields allowed); a bad one is reported as
``file:line: field …`` and left out, and the rest are scored. A line that is not JSON at all still stops the file (a damaged file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from toolflow.engine.errors import InputError
from toolflow.engine.jsonl import json_lines


class EvalInputError(ValueError, InputError):
    """A file that cannot be evaluated; the message names the file and line."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CallFunction(_Open):
    name: str
    arguments: str | dict[str, Any] | None = None


class ToolCall(_Open):
    function: CallFunction


class Message(_Open):
    role: str
    content: str | list[Any] | None = None
    tool_calls: list[ToolCall] | None = None


class DialogueRecord(_Open):
    messages: list[Message]
    tools: list[dict[str, Any]] = []
    sample: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


#: The member names pydantic puts in an error's location inside a union (``content.str``): not fields.
_UNION_TAG = re.compile(r"str|int|float|bool|none|.*\[.*\]")


def _field(loc: tuple[int | str, ...]) -> str:
    """('messages', 3, 'tool_calls') → messages[3].tool_calls"""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def record_problem(rec: Any) -> str | None:
    """None for a usable dialogue record, else which field is wrong and how (one line)."""
    if not isinstance(rec, dict):
        return f"not a JSON object but {type(rec).__name__}"
    try:
        DialogueRecord.model_validate(rec)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _field(tuple(p for p in err["loc"] if not _UNION_TAG.fullmatch(str(p))))
        got = json.dumps(err.get("input"), ensure_ascii=False, default=str)
        return f"field '{where}': {err['msg'].lower()} (got {got[:60]})"
    return None


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The usable records of a JSONL file, and one ``file:line: …`` line per record left out. A line that is
    not JSON is an EvalInputError."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in json_lines(f):
            if line.error is not None:  # not a record at all: the file is damaged, so nothing of it is scored
                raise EvalInputError(f"{path}:{line.number}: not JSON ({line.error})")
            problem = record_problem(line.value)
            if problem is None:
                records.append(line.value)
            else:
                problems.append(f"{path}:{line.number}: {problem}")
    return records, problems
