"""Loaders: one module per input format, each returning validated Tool models.

`load_tools` is the entry point: give it files and/or directories, and either name the format or let
it be detected from each file's content. Problems raise `LoadError` (naming file, line or JSON
pointer, and field); with `skip_invalid=True` they are collected in `LoadResult.skipped` instead.
Two different definitions under one id, and two tools with one function name, are both kept under
distinct names (listed in `LoadResult.renamed`); with `strict=True` the first case is an error.
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
from toolflow.loaders.names import Loaded, Rename, disambiguate, summary
from toolflow.loaders.sources import DATA_SUFFIXES, data_suffix, read_records

__all__ = ["FORMATS", "LoadError", "LoadResult", "Rename", "load_file", "load_tools"]

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
    #: Repeats of a tool already loaded (same id, name and parameters), dropped.
    merged: int = 0
    #: Tools kept under another id or name than their source gave them, in load order.
    renamed: list[Rename] = field(default_factory=list)

    def rename_summary(self) -> str:
        """'renamed N tool(s): …' by reason (what `toolflow graph build` prints)."""
        return summary(self.renamed)


def load_file(
    path: str | Path, format: str | None = None, on_error: OnError | None = None, *, strict: bool = False
) -> tuple[list[Tool], int]:
    """Tools of one file and how many identical repeats were merged; `on_error` defaults to raising.

    Ids are unique within the file; function names are only made unique by `load_tools`.
    """
    ctx = _load_file(Path(path), format and _format_name(format), on_error, strict)
    return ctx.tools, ctx.merged


def _load_file(path: Path, fmt: str | None, on_error: OnError | None, strict: bool) -> FileContext:
    ctx = FileContext(path, on_error, strict) if on_error else FileContext(path, strict=strict)
    records = read_records(path, ctx.on_error)
    head = list(islice(records, SAMPLE))
    name = fmt or detect_format(path, head)
    _MODULES[name].load(ctx, chain(head, records))
    return ctx


def load_tools(
    paths: str | Path | Iterable[str | Path],
    format: str | None = None,
    skip_invalid: bool = False,
    progress: bool = False,
    *,
    strict: bool = False,
) -> LoadResult:
    """Load every tool from `paths` (files, or directories walked recursively, in sorted order).

    Ids and function names come out unique over the whole load. Identical repeats of an id (same
    name and parameters) merge. A different definition under a taken id is kept with an id suffix
    (`~2`) and a name suffix (`_2`); a tool whose function name is taken (the same name in another
    file, or `get.weather` next to `get_weather`) gets a name suffix. Each change is listed in
    `renamed`. `strict=True` makes a different definition under a taken id an error instead.
    Errors raise, or with `skip_invalid=True` are listed in `skipped` and the rest loads.
    """
    fmt = _format_name(format) if format else None
    files = list(_expand(paths))
    result = LoadResult()

    def report(err: LoadError) -> None:
        if not skip_invalid:
            raise err
        result.skipped.append(str(err))

    loaded: list[Loaded] = []
    with counter(len(files), "loading tools", enabled=progress) as advance:
        for path in files:
            try:
                ctx = _load_file(path, fmt, report, strict)
            except LoadError as err:
                report(err.located(file=path))
                advance()
                continue
            result.files += 1
            result.merged += ctx.merged
            loaded.extend(ctx.loaded)
            advance()
    unique = disambiguate(loaded, strict=strict, on_error=report)
    result.tools = unique.tools
    result.merged += unique.merged
    result.renamed = unique.renamed
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
