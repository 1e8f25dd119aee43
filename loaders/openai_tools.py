"""OpenAI tool lists: `tools=[{"type": "function", "function": {...}}]`, bare functions, legacy `functions`.

Real files wrap these in many ways: `{"tools": [...], "messages": [...]}` test cases, bare arrays, and
training rows (llama-factory / glaive) whose `tools` is a JSON *string*. Each row offers its own tool
list, so the same function repeated across rows merges, and a same-named variant with another schema
gets an id suffix instead of overwriting (see `FileContext`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from toolflow.loaders.build import FileContext
from toolflow.loaders.errors import json_pointer
from toolflow.loaders.functions import add_function
from toolflow.loaders.sources import Record

FORMAT = "openai"
SOURCE = "openai"
_LIST_KEYS = ("tools", "functions")


def is_row(value: Any) -> bool:
    """A record that carries its own tool list (a test case or a training row), possibly as a JSON string."""
    if not isinstance(value, dict):
        return False
    for key in _LIST_KEYS:
        tools = value.get(key)
        if isinstance(tools, str) and (not tools.strip() or tools.lstrip()[:1] in "[{"):
            return True
        if isinstance(tools, list) and all(isinstance(t, dict) for t in tools):
            return True
    return False


def is_tool(value: Any) -> bool:
    """A tool entry: `{"type": "function", "function": {...}}`, a flat Responses-API tool, or a bare function."""
    if not isinstance(value, dict):
        return False
    if value.get("type") == "function":
        return isinstance(value.get("function"), dict) or "name" in value
    return isinstance(value.get("name"), str) and "type" not in value


def function_of(item: Any) -> Any:
    """The declaration inside a tool entry, or None for non-function tools (code_interpreter, …)."""
    if isinstance(item, dict) and "type" in item:
        if item["type"] != "function":
            return None
        inner = item.get("function")
        return inner if isinstance(inner, dict) else {k: v for k, v in item.items() if k != "type"}
    return item


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    for index, rec in enumerate(records):
        value = rec.value
        if is_row(value):
            _load_row(ctx, value, group=index + 1, rec=rec)
        elif isinstance(value, dict) and "type" in value and function_of(value) is None:
            continue  # a non-function tool listed on its own
        elif is_tool(value):
            _add(ctx, value, group=0, line=rec.line, pointer=rec.pointer)
        else:
            ctx.error(
                "not an OpenAI tool, function, or record with 'tools'/'functions'",
                line=rec.line,
                pointer=rec.pointer,
            )


def _load_row(ctx: FileContext, row: dict[str, Any], *, group: int, rec: Record) -> None:
    for key in _LIST_KEYS:
        if key not in row:
            continue
        tools = row[key]
        if isinstance(tools, str):
            if not tools.strip():
                continue
            try:
                tools = json.loads(tools)
            except json.JSONDecodeError as exc:
                ctx.error(
                    f"JSON string does not parse: {exc.msg}", line=rec.line, pointer=rec.pointer, field=key
                )
                continue
        if isinstance(tools, dict) and is_tool(tools):
            tools = [tools]
        if not isinstance(tools, list):
            ctx.error(
                f"must be a list of tools, got {type(tools).__name__}",
                line=rec.line,
                pointer=rec.pointer,
                field=key,
            )
            continue
        for j, item in enumerate(tools):
            _add(ctx, item, group=group, line=rec.line, pointer=f"{rec.pointer}{json_pointer(key, j)}")


def _add(ctx: FileContext, item: Any, *, group: int, line: int | None, pointer: str) -> None:
    fn = function_of(item)
    if fn is None:
        return
    inner = isinstance(item, dict) and isinstance(item.get("function"), dict)
    fn_pointer = f"{pointer}/function" if inner else pointer
    add_function(ctx, fn, source=SOURCE, group=group, line=line, pointer=pointer, fn_pointer=fn_pointer)
