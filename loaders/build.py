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
from toolflow.loaders.names import Loaded
from toolflow.loaders.refs import check_refs


def function_name(raw: str) -> tuple[str, str | None]:
    """(valid function name, original name if it had to change)."""
    if FUNCTION_NAME_RE.match(raw):
        return raw, None
    return to_function_name(raw), raw


@dataclass
class _Entry(Loaded):
    """A tool of the file being loaded, with the group (a toolset, an API) its id is unique within."""

    group: int | None = None


@dataclass
class FileContext:
    """One input file being loaded: where errors go and which ids are taken.

    A repeat of an id with the same name and parameters merges. A different definition under a taken
    id is kept as a variant with an id suffix `~2`, `~3` (the load then gives it a free name, see
    `names.disambiguate`). With `strict`, that is an error instead, except across `group`s: the rows
    of a glaive/llama-factory file each offer their own tool list, so the same name with another
    schema in another row is a variant even then.
    """

    path: Path
    on_error: OnError = raise_error
    strict: bool = False
    merged: int = 0
    _entries: dict[str, list[_Entry]] = field(default_factory=dict)
    _order: list[_Entry] = field(default_factory=list)

    @property
    def tools(self) -> list[Tool]:
        """The file's tools in file order."""
        return [e.tool for e in self._order]

    @property
    def loaded(self) -> list[Loaded]:
        """The file's tools with where they came from, in file order."""
        return [Loaded(e.tool, self.path, e.line, e.pointer, e.clash, e.source_id) for e in self._order]

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
        parameters_at: str | None = None,
        returns_at: str | None = None,
        **fields: Any,
    ) -> Tool | None:
        """Normalize and validate one tool; report a problem and return None if it is invalid.

        `original_name` overrides the recorded source spelling when `name` is already derived from it.
        `parameters_at` / `returns_at` are the JSON pointers of the two schemas in the file (default:
        `parameters` / `returns` under `pointer`), so that a dangling `$ref` inside them is reported
        where it is.
        """
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        if (problem := _shape_problem(name, parameters, returns)) is not None:
            self.error(problem[1], line=line, pointer=pointer, field=problem[0])
            return None
        base = pointer or ""
        try:
            check_refs(parameters, pointer=base + "/parameters" if parameters_at is None else parameters_at)
            if returns is not None:
                check_refs(returns, pointer=base + "/returns" if returns_at is None else returns_at)
        except LoadError as err:
            self.on_error(err.located(file=self.path, line=line))
            return None
        valid_name, original = function_name(name)
        if original_name is not None and original_name != valid_name:
            original = original_name
        try:
            return Tool(
                id=id,
                name=valid_name,
                original_name=original,
                description="" if description is None else str(description),
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
        """Keep `tool` unless its id is taken: identical repeats merge, different ones become variants."""
        if tool is None:
            return
        entries = self._entries.get(tool.id)
        if not entries:
            self._entries[tool.id] = [_Entry(tool, self.path, line, pointer, group=group)]
            self._order.append(self._entries[tool.id][0])
            return
        for entry in entries:
            if entry.tool.name == tool.name and entry.tool.parameters == tool.parameters:
                self.merged += 1
                return
        first = entries[0]
        if self.strict:
            clash = next((e for e in entries if group is None or e.group is None or e.group == group), None)
            if clash is not None:
                self.error(
                    f"duplicate tool id {tool.id!r}: a different definition of {tool.name!r} is already at "
                    f"{clash.where}",
                    line=line,
                    pointer=pointer,
                    field=key_field,
                )
                return
        variant = tool.model_copy(update={"id": f"{tool.id}~{len(entries) + 1}"})
        detail = f"a different definition of {tool.original_name or tool.name!r} is already at {first.where}"
        entries.append(_Entry(variant, self.path, line, pointer, detail, tool.id, group=group))
        self._order.append(entries[-1])


def _shape_problem(name: Any, parameters: Any, returns: Any) -> tuple[str, str] | None:
    """(field, problem) when a tool's name or schemas are not of a usable kind, else None."""
    if not isinstance(name, str) or not name.strip():
        return "name", f"tool has no name (got {name!r})"
    if not isinstance(parameters, dict):
        return "parameters", f"parameters must be a JSON Schema object, got {type(parameters).__name__}"
    if returns is not None and not isinstance(returns, dict | bool):
        return "returns", f"return schema must be a JSON Schema object, got {type(returns).__name__}"
    return None
