"""BFCL-style function docs (Gorilla's Berkeley Function-Calling Leaderboard and look-alikes).

Declarations come as JSON lines or arrays of `{name, description, parameters, response?}`, or inside
BFCL question entries (`{"id", "question", "function": [...]}`). Their types are loose (`dict`,
`float`, `tuple`, `any`, Java's `String`/`HashMap`/`long`), which `schema_norm` maps; dotted names
(`math.factorial`) become valid function names with the original kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolflow.engine.schema_norm import JSON_TYPES
from toolflow.loaders.build import FileContext
from toolflow.loaders.errors import json_pointer
from toolflow.loaders.functions import add_function
from toolflow.loaders.sources import Record

FORMAT = "bfcl"
SOURCE = "bfcl"
_ENTRY_KEYS = ("function", "functions")


def is_declaration(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("name"), str) and "parameters" in value


def is_entry(value: Any) -> bool:
    """A BFCL question entry that carries its function docs under `function`.

    (Not an OpenAI `{"type": "function", "function": {...}}` tool entry, which has the same key.)
    """
    if not isinstance(value, dict) or "type" in value or "name" in value:
        return False
    for key in _ENTRY_KEYS:
        docs = value.get(key)
        if isinstance(docs, dict) or (
            isinstance(docs, list) and docs and all(isinstance(d, dict) for d in docs)
        ):
            return True
    return False


def has_loose_types(value: Any) -> bool:
    """True when a declaration's parameters use a non-JSON-Schema type (BFCL's tell-tale)."""
    params = value.get("parameters") if isinstance(value, dict) else None
    if not isinstance(params, dict):
        return False
    if params.get("type") not in (None, "object"):
        return True
    props = params.get("properties")
    if not isinstance(props, dict):
        return False
    return any(
        isinstance(p, dict) and isinstance(p.get("type"), str) and p["type"] not in JSON_TYPES
        for p in props.values()
    )


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    for index, rec in enumerate(records):
        value = rec.value
        if is_entry(value):
            key = next(k for k in _ENTRY_KEYS if isinstance(value.get(k), list | dict))
            docs = value[key]
            pairs = enumerate(docs) if isinstance(docs, list) else [(None, docs)]
            for j, doc in pairs:
                pointer = f"{rec.pointer}{json_pointer(key) if j is None else json_pointer(key, j)}"
                add_function(ctx, doc, source=SOURCE, group=index + 1, line=rec.line, pointer=pointer)
        elif is_declaration(value):
            add_function(ctx, value, source=SOURCE, group=0, line=rec.line, pointer=rec.pointer)
        else:
            ctx.error(
                "not a BFCL function doc (needs 'name' and 'parameters') or an entry with 'function'",
                line=rec.line,
                pointer=rec.pointer,
            )
