"""Keeping tool ids and function names unique over one load, by renaming instead of refusing.

Real tool sets repeat themselves: raw ToolBench has 43 endpoints whose name is taken, in the same file,
by a different definition (`Email/email_sending_medeluxe.json` lists `Send Mail` twice with other
parameters); the normalized ToolBench JSONL has 704 such; glaive rows offer 13 different
`calculate_age` schemas; and distinct source names can become one function name (`get.weather` and
`get_weather`; every all-Chinese MCP tool name becomes `tool`). A model cannot be offered two
functions with one name (synth rejects such samples as `duplicate_tool_names`), and refusing the
input made real data fail to build. So after a load, `disambiguate` gives every later claimant of a
taken id the suffix `~2`, `~3`, … and every later claimant of a taken name `_2`, `_3`, …, keeps the
source spelling in `original_name`, and reports each change as a `Rename`. The first tool keeps its
name, and files are read in sorted order, so the result is deterministic.

Identical repeats (same id, name and parameters) are merged, not renamed, and so is a tool that only
differs from the holder of its name by id (same description, parameters and returns): the same tool
listed in two files, as in kubernetes-mcp-server's overlapping toolset listings. With `strict=True`, a
different definition under a taken id is an error instead (the message names file, pointer and field).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from toolflow.engine.models import Tool
from toolflow.loaders.errors import LoadError

#: Longest valid function name (OpenAI's limit, as `FUNCTION_NAME_RE`).
MAX_NAME = 64
#: Why a tool was renamed: a different definition under an id already taken, or a name already taken.
DEFINITION = "definition"
NAME = "name"


def name_key(name: str) -> str:
    """What two names must differ in to be told apart: case and `-` vs `_` don't count.

    `get-weather` and `get_weather` are both valid names, but a model asked to call one of them picks
    either, and converters to Python identifiers or snake case turn both into `get_weather`.
    """
    return re.sub(r"[-_]+", "_", name).casefold()


def suffixed_name(name: str, n: int) -> str:
    """`name_<n>`, cut from the front to stay a valid function name (names put the distinctive part last)."""
    return f"{name}_{n}"[-MAX_NAME:].lstrip("_-")


@dataclass(frozen=True)
class Rename:
    """One tool kept under another id and/or name than its source gave it."""

    file: str
    #: Where in the file: 'line 12' or a JSON pointer.
    where: str
    reason: str
    old_id: str
    new_id: str
    old_name: str
    new_name: str
    #: What it collided with (which definition, or which tool holds the name).
    detail: str

    def __str__(self) -> str:
        change = f"{self.old_name} -> {self.new_name}"
        if self.new_id != self.old_id:
            change += f", id {self.new_id!r}"
        return f"{self.file}, {self.where}: {change} ({self.detail})"


@dataclass
class Loaded:
    """A tool as one file produced it, before load-wide ids and names are settled."""

    tool: Tool
    file: Path
    line: int | None = None
    pointer: str | None = None
    #: Set when the file itself already held a different definition under this id (see `FileContext`).
    clash: str | None = None
    #: The id the source gave it, when the file had to suffix it.
    source_id: str | None = None

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else (self.pointer or "/")


@dataclass
class Disambiguated:
    """What `disambiguate` returns: the tools to keep, what was renamed, and how many repeats merged."""

    tools: list[Tool] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    merged: int = 0


def disambiguate(
    loaded: list[Loaded], *, strict: bool = False, on_error: Callable[[LoadError], None]
) -> Disambiguated:
    """Unique ids and names over `loaded` (in order); see the module docstring for the rules.

    Every source name is reserved before any suffix is chosen, so a suffixed name never takes the
    name of a tool that comes later (`get_weather_2` stays free for a source `get_weather_2`).
    """
    out = Disambiguated()
    kept = _unique_ids(loaded, out, strict=strict, on_error=on_error)
    reserved = {name_key(item.tool.name) for item in kept}
    holders: dict[str, Loaded] = {}
    claimants: dict[str, list[Tool]] = {}
    for item in kept:
        tool = item.tool
        key = name_key(tool.name)
        holder = holders.get(key)
        if holder is None:
            holders[key] = item
            claimants[key] = [tool]
            out.tools.append(tool)
            if item.clash is not None:  # an id variant whose name is still free (a renamed source name)
                out.renamed.append(_rename(item, tool, DEFINITION, item.clash))
        elif any(_same_tool(tool, other) for other in claimants[key]):
            out.merged += 1  # the same tool listed again under another id (overlapping toolset files)
        else:
            claimants[key].append(tool)
            renamed = _suffixed(tool, reserved)
            holders[name_key(renamed.name)] = item
            out.tools.append(renamed)
            out.renamed.append(_name_rename(item, holder, tool, renamed))
    return out


def _unique_ids(loaded: list[Loaded], out: Disambiguated, *, strict: bool,
                on_error: Callable[[LoadError], None]) -> list[Loaded]:
    """`loaded` with repeated ids merged (same definition) or given a ``~n`` variant (another definition;
    refused under `strict`)."""
    by_id: dict[str, Loaded] = {}
    kept: list[Loaded] = []
    for item in loaded:
        tool = item.tool
        first = by_id.get(tool.id)
        if first is None:
            by_id[tool.id] = item
            kept.append(item)
        elif first.tool.name == tool.name and first.tool.parameters == tool.parameters:
            out.merged += 1
        elif strict:
            on_error(LoadError(
                f"duplicate tool id {tool.id!r}: a different definition is already loaded from {first.file}",
                file=item.file, line=item.line, pointer=item.pointer, field="id"))
        else:
            n = 2
            while f"{tool.id}~{n}" in by_id:
                n += 1
            new_id = f"{tool.id}~{n}"
            clash = f"a different definition of {tool.original_name or tool.name!r} is already in {first.file}"
            variant = Loaded(tool.model_copy(update={"id": new_id}), item.file, item.line, item.pointer, clash, tool.id)
            by_id[new_id] = variant
            kept.append(variant)
    return kept


def _suffixed(tool: Tool, reserved: set[str]) -> Tool:
    """`tool` under the first ``name_n`` no tool holds or will hold (the new name is reserved)."""
    n = 2
    while name_key(suffixed_name(tool.name, n)) in reserved:
        n += 1
    new_name = suffixed_name(tool.name, n)
    reserved.add(name_key(new_name))
    return tool.model_copy(update={"name": new_name, "original_name": tool.original_name or tool.name})


def _name_rename(item: Loaded, holder: Loaded, tool: Tool, renamed: Tool) -> Rename:
    """The record of a rename: an id variant's definition clash, or a name taken by `holder`."""
    if item.clash is not None:
        return _rename(item, renamed, DEFINITION, item.clash, old_name=tool.name)
    detail = f"name taken by {holder.tool.id!r} ({_where(holder, item)})"
    if _source(holder.tool) != _source(tool):
        detail += f", from source name {_source(holder.tool)!r} where this one is {_source(tool)!r}"
    return _rename(item, renamed, NAME, detail, old_name=tool.name)


def _same_tool(a: Tool, b: Tool) -> bool:
    """Same name, description, parameters and returns: nothing a model or the graph could tell apart."""
    return (
        a.name == b.name
        and a.description == b.description
        and a.parameters == b.parameters
        and a.returns == b.returns
    )


def _rename(item: Loaded, tool: Tool, reason: str, detail: str, *, old_name: str | None = None) -> Rename:
    return Rename(
        file=str(item.file),
        where=item.where,
        reason=reason,
        old_id=item.source_id or tool.id,
        new_id=tool.id,
        old_name=old_name or tool.name,
        new_name=tool.name,
        detail=detail,
    )


def _source(tool: Tool) -> str:
    return tool.original_name or tool.name


def _where(holder: Loaded, item: Loaded) -> str:
    return holder.where if holder.file == item.file else f"{holder.file}, {holder.where}"


def summary(renamed: list[Rename]) -> str:
    """One line: how many tools were renamed, and why (the build prints it above the list)."""
    definitions = sum(r.reason == DEFINITION for r in renamed)
    names = len(renamed) - definitions
    return (
        f"renamed {len(renamed)} tool(s): {definitions} different definition(s) under a tool id already "
        f"taken, {names} name(s) already taken by another tool"
    )
