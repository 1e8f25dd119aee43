"""Loaders: one module per input format, each returning validated Tool models.

`load_tools` is the entry point: give it files and/or directories, and either name the format or let
it be detected from each file's content. Problems raise `LoadError` (naming file, line or JSON
pointer, and field); with `skip_invalid=True` they are collected in `LoadResult.skipped` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from types import ModuleType

from toolflow.engine.models import Tool
from toolflow.engine.progress import counter
from toolflow.loaders import bfcl, mcp, openai_tools, openapi, toolbench, toolflow_jsonl
from toolflow.loaders.build import FileContext
from toolflow.loaders.detect import SAMPLE, detect_format
from toolflow.loaders.errors import LoadError, OnError
from toolflow.loaders.sources import DATA_SUFFIXES, data_suffix, read_records

__all__ = ["FORMATS", "LoadError", "LoadResult", "load_file", "load_tools"]

_MODULES: dict[str, ModuleType] = {
    m.FORMAT: m for m in (toolflow_jsonl, openai_tools, bfcl, toolbench, openapi, mcp)
}
_ALIASES = {"jsonl": "toolflow", "swagger": "openapi", "functions": "openai", "rapidapi": "toolbench"}
#: Names accepted by `format=` (aliases: jsonl, swagger, functions, rapidapi).
FORMATS: tuple[str, ...] = tuple(_MODULES)


@dataclass
class LoadResult:
    """What one `load_tools` call produced."""

    tools: list[Tool] = field(default_factory=list)
    #: One message per skipped tool, duplicate or unreadable file (only with skip_invalid=True).
    skipped: list[str] = field(default_factory=list)
    #: Input files read.
    files: int = 0
    #: Repeats of a tool already loaded from the same file (same id, name and parameters), dropped.
    merged: int = 0


def load_file(
    path: str | Path, format: str | None = None, on_error: OnError | None = None
) -> tuple[list[Tool], int]:
    """Tools of one file and how many identical repeats were merged; `on_error` defaults to raising."""
    path = Path(path)
    ctx = FileContext(path, on_error) if on_error else FileContext(path)
    records = read_records(path, ctx.on_error)
    head = list(islice(records, SAMPLE))
    name = _format_name(format) if format else detect_format(path, head)
    _MODULES[name].load(ctx, chain(head, records))
    return ctx.tools, ctx.merged


def load_tools(
    paths: str | Path | Iterable[str | Path],
    format: str | None = None,
    skip_invalid: bool = False,
    progress: bool = False,
) -> LoadResult:
    """Load every tool from `paths` (files, or directories walked recursively).

    Tool ids stay unique across files: a later file's tool with an id already loaded is not loaded
    (reported, or raised without skip_invalid).
    """
    fmt = _format_name(format) if format else None
    files = list(_expand(paths))
    result = LoadResult()

    def report(err: LoadError) -> None:
        if not skip_invalid:
            raise err
        result.skipped.append(str(err))

    seen: dict[str, Path] = {}
    with counter(len(files), "loading tools", enabled=progress) as advance:
        for path in files:
            try:
                tools, merged = load_file(path, fmt, report)
            except LoadError as err:
                report(err.located(file=path))
                advance()
                continue
            result.files += 1
            result.merged += merged
            for tool in tools:
                if tool.id in seen:
                    report(
                        LoadError(
                            f"duplicate tool id {tool.id!r}: already loaded from {seen[tool.id]}",
                            file=path,
                            field="id",
                        )
                    )
                    continue
                seen[tool.id] = path
                result.tools.append(tool)
            advance()
    return result


def _format_name(format: str) -> str:
    name = _ALIASES.get(format.lower(), format.lower())
    if name not in _MODULES:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return name


def _expand(paths: str | Path | Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, and for directories every data file below them (sorted, hidden ones skipped)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    for item in items:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if (
                    child.is_file()
                    and not any(p.startswith(".") for p in rel)
                    and data_suffix(child) in DATA_SUFFIXES
                ):
                    yield child
        elif path.exists():
            yield path
        else:
            raise LoadError("no such file or directory", file=path)
