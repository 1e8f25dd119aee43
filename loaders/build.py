"""Turning one source definition into a validated `Tool`, and keeping one file's tools id-unique.

Loaders differ in how they find names and schemas, but not in what happens next: normalize the
schemas, fix the name, validate, and refuse a second, different tool under an id already taken.
`FileContext` does that once for all formats and routes every problem through `on_error`, so the same
code serves strict loading and `skip_invalid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from toolflow.engine.models import FUNCTION_NAME_RE, Tool, to_function_name
from toolflow.engine.schema_norm import normalize_schema
from toolflow.loaders.errors import LoadError, OnError, raise_error


def function_name(raw: str) -> tuple[str, str | None]:
    """(valid function name, original name if it had to change)."""
    if FUNCTION_NAME_RE.match(raw):
        return raw, None
    return to_function_name(raw), raw


@dataclass
class _Entry:
    tool: Tool
    group: int | None
    where: str


@dataclass
class FileContext:
    """One input file being loaded: where errors go and which ids are taken.

    `group` marks independent tool lists inside one file (the rows of a glaive/llama-factory file each
    offer their own tools): the same name with a different schema in another group is a variant and
    gets an id suffix `~2`, `~3`; within one group it is a collision and an error.
    """

    path: Path
    on_error: OnError = raise_error
    merged: int = 0
    _entries: dict[str, list[_Entry]] = field(default_factory=dict)

    @property
    def tools(self) -> list[Tool]:
        return [e.tool for entries in self._entries.values() for e in entries]

    def error(
        self, problem: str, *, line: int | None = None, pointer: str | None = None, field: str | None = None
    ) -> None:
        self.on_error(LoadError(problem, file=self.path, line=line, pointer=pointer, field=field))

    def make(
        self,
        *,
        id: str,
        name: Any,
        description: Any = "",
        parameters: Any = None,
        returns: Any = None,
        original_name: str | None = None,
        line: int | None = None,
        pointer: str | None = None,
        **fields: Any,
    ) -> Tool | None:
        """Normalize and validate one tool; report a problem and return None if it is invalid.

        `original_name` overrides the recorded source spelling when `name` is already derived from it.
        """
        if not isinstance(name, str) or not name.strip():
            self.error(f"tool has no name (got {name!r})", line=line, pointer=pointer, field="name")
            return None
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            self.error(
                f"parameters must be a JSON Schema object, got {type(parameters).__name__}",
                line=line,
                pointer=pointer,
                field="parameters",
            )
            return None
        if returns is not None and not isinstance(returns, dict | bool):
            self.error(
                f"return schema must be a JSON Schema object, got {type(returns).__name__}",
                line=line,
                pointer=pointer,
                field="returns",
            )
            return None
        valid_name, original = function_name(name)
        if original_name is not None and original_name != valid_name:
            original = original_name
        if description is None:
            description = ""
        if not isinstance(description, str):
            description = str(description)
        try:
            return Tool(
                id=id,
                name=valid_name,
                original_name=original,
                description=description,
                parameters=normalize_schema(parameters),
                returns=normalize_schema(returns) if returns is not None else None,
                **fields,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or None
            message = first.get("msg", str(exc)).removeprefix("Value error, ")
            self.error(f"invalid tool {name!r}: {message}", line=line, pointer=pointer, field=loc)
            return None

    def add(
        self,
        tool: Tool | None,
        *,
        group: int | None = None,
        line: int | None = None,
        pointer: str | None = None,
        key_field: str = "name",
    ) -> None:
        """Keep `tool` unless its id is taken: identical repeats merge, conflicting ones are errors."""
        if tool is None:
            return
        where = f"line {line}" if line is not None else (pointer or "/")
        entries = self._entries.get(tool.id)
        if not entries:
            self._entries[tool.id] = [_Entry(tool, group, where)]
            return
        for entry in entries:
            if entry.tool.name == tool.name and entry.tool.parameters == tool.parameters:
                self.merged += 1
                return
        clash = next((e for e in entries if group is None or e.group is None or e.group == group), None)
        if clash is not None:
            self.error(
                f"duplicate tool id {tool.id!r}: a different definition of {tool.name!r} is already at {clash.where}",
                line=line,
                pointer=pointer,
                field=key_field,
            )
            return
        variant = tool.model_copy(update={"id": f"{tool.id}~{len(entries) + 1}"})
        entries.append(_Entry(variant, group, where))
