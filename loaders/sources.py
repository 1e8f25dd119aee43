"""Reading input files into JSON values: gzip, JSON, JSON lines and YAML, with located parse errors.

Every loader goes through here so that a broken file fails the same way whatever its format:
a `LoadError` naming the file and the line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import yaml

from toolflow.engine.jsonl import json_lines
from toolflow.loaders.errors import LoadError, OnError, json_pointer, raise_error

JSON_SUFFIXES = (".json", ".snap")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
YAML_SUFFIXES = (".yaml", ".yml")
#: Extensions a directory walk picks up; anything else in a directory (README.md, …) is not input.
DATA_SUFFIXES = JSON_SUFFIXES + JSONL_SUFFIXES + YAML_SUFFIXES


@dataclass(frozen=True)
class Record:
    """One top-level value of a file: a JSON line, an element of a JSON array, or the whole document."""

    value: Any
    line: int | None = None
    pointer: str = ""


def data_suffix(path: Path) -> str:
    """The format extension, looking through a trailing '.gz' ('x.jsonl.gz' -> '.jsonl')."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_text(path: Path) -> str:
    """The file's text, gunzipped when the name ends in '.gz'."""
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return fh.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise LoadError(f"cannot read: {exc}", file=path) from exc


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that yields JSON-compatible values.

    Dates stay strings (a spec's `version: 2010-04-01` must not become a `date`), only `true`/`false`
    are booleans (YAML 1.1's `yes`/`on` are ordinary words in API specs), and mapping keys are strings
    (`200:` response codes come back as `"200"`).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if all(isinstance(k, str) for k in mapping):
            return mapping
        return {_yaml_key(k): v for k, v in mapping.items()}


def _yaml_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool | str:
    text = loader.construct_scalar(node)
    return text.lower() == "true" if text.lower() in ("true", "false") else text


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_YamlLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno) from exc


def parse_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = exc.context or ""
        if exc.context_mark and mark is not exc.context_mark and exc.context_mark.line != mark.line:
            context = f"{context} (started at line {exc.context_mark.line + 1})".strip()
        problem = " ".join(p for p in (context, exc.problem) if p)
        raise LoadError(f"invalid YAML: {problem}", file=path, line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {exc}", file=path) from exc


def iter_json_lines(lines: Iterable[str], path: Path, on_error: OnError = raise_error) -> Iterator[Record]:
    """One record per non-blank line; a broken line is reported (and skipped if `on_error` returns)."""
    for line in json_lines(lines):
        if line.error is not None:
            on_error(LoadError(f"invalid JSON: {line.error} (column {line.column})", file=path, line=line.number))
            continue
        yield Record(line.value, line=line.number)


def stream_json_lines(path: Path, on_error: OnError = raise_error) -> Iterator[Record]:
    """`iter_json_lines` straight from the (possibly gzipped) file, without reading it whole first."""
    try:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            yield from iter_json_lines(fh, path, on_error)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise LoadError(f"cannot read: {exc}", file=path) from exc


def looks_like_json_lines(text: str) -> bool:
    """True when the text is several JSON values, one per line (BFCL ships JSON lines as '.json')."""
    lines = list(json_lines(text.splitlines()[:3]))
    return len(lines) >= 2 and all(ln.error is None for ln in lines)


def _has_object_lines(text: str, sample: int = 20) -> bool:
    """True when most of the first non-blank lines (at least two) are whole JSON objects on their own.

    Asked only of a '.json' file that failed to parse as one document: a pretty-printed document's
    lines are fragments (`{`, `"name": "x",`), while a JSON-lines file with a bad line among its first
    three is still mostly whole objects.
    """
    lines = list(islice(json_lines(text.splitlines()), sample))
    objects = sum(ln.error is None and isinstance(ln.value, dict) for ln in lines)
    return objects >= 2 and 2 * objects >= len(lines)


def read_document(path: Path, text: str | None = None) -> Any:
    """A whole JSON or YAML document (by extension; unknown extensions try JSON, then YAML)."""
    text = read_text(path) if text is None else text
    suffix = data_suffix(path)
    if suffix in YAML_SUFFIXES:
        return parse_yaml(text, path)
    if suffix in JSON_SUFFIXES:
        return parse_json(text, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return parse_yaml(text, path)


def read_records(path: Path, on_error: OnError = raise_error) -> Iterator[Record]:
    """The file's top-level values: JSON lines, or the elements of a JSON array, or the one document.

    JSON lines are streamed, so a strict load of a big file stops at its first bad line.
    """
    suffix = data_suffix(path)
    if suffix in JSONL_SUFFIXES:
        return stream_json_lines(path, on_error)
    text = read_text(path)
    if suffix in JSON_SUFFIXES and looks_like_json_lines(text):
        return iter_json_lines(text.splitlines(), path, on_error)
    try:
        doc = read_document(path, text)
    except LoadError:
        # JSON lines whose bad line comes early: report that line (and keep the others) as for '.jsonl'
        if suffix in JSON_SUFFIXES and _has_object_lines(text):
            return iter_json_lines(text.splitlines(), path, on_error)
        raise
    return iter(document_records(doc))


def document_records(doc: Any) -> list[Record]:
    """Split an already-parsed document: a top-level array gives one record per element."""
    if isinstance(doc, list):
        return [Record(v, pointer=json_pointer(i)) for i, v in enumerate(doc)]
    return [Record(doc)]
