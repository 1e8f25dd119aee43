"""Split tools into fields: the parameters and return values the graph matches on.

Parameters are the top-level properties of a tool's input schema. Return values are the leaves of its
return schema (objects are walked, arrays are looked through), because the thing that flows to the next
call is a concrete value such as ``city`` or ``order_id``, not the envelope around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from toolflow.engine.models import FieldNode, Tool

#: Return schemas from examples can have hundreds of leaves; the shallow ones carry the meaning.
MAX_RETURN_FIELDS = 40
MAX_RETURN_DEPTH = 4


def schema_type(schema: dict[str, Any]) -> str | None:
    """The primary JSON Schema type of a (sub)schema, or None when it accepts anything."""
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        if "enum" in schema:
            return "string"
    return t if isinstance(t, str) else None


def _describe(schema: dict[str, Any]) -> str:
    desc = schema.get("description") or schema.get("title") or ""
    return " ".join(str(desc).split())


def _label(tool: Tool) -> str:
    raw = tool.original_name or tool.name
    return " ".join(str(raw).replace("_", " ").split())[:60]


def _enrich(name: str, desc: str, tool: Tool) -> str:
    """An empty description becomes 'name words, in <endpoint label>'.

    Not the whole tool description: that would make every undescribed field of a tool look alike, and two
    tools with similar descriptions would match 'status' to 'address'.
    """
    if desc:
        return desc
    words = " ".join(re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace(".", " ").split()).lower()
    return f"{words}, in {_label(tool)}"


def param_fields(tool: Tool) -> list[FieldNode]:
    required = set(tool.required)
    out = []
    for name, sub in tool.parameters.get("properties", {}).items():
        out.append(
            FieldNode(
                id=f"{tool.id}#p:{name}",
                tool_id=tool.id,
                name=name,
                description=_enrich(name, _describe(sub), tool),
                type=schema_type(sub),
                role="param",
                required=name in required,
                described=bool(_describe(sub)),
            )
        )
    return out


def _return_leaves(schema: Any, path: tuple[str, ...], depth: int) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    if not isinstance(schema, dict) or depth > MAX_RETURN_DEPTH:
        return
    kind = schema_type(schema)
    if kind == "array" and isinstance(schema.get("items"), dict):
        yield from _return_leaves(schema["items"], path, depth + 1)
        return
    props = schema.get("properties")
    if kind == "object" and isinstance(props, dict) and props:
        for key, sub in props.items():
            yield from _return_leaves(sub, (*path, str(key)), depth + 1)
        return
    if path:
        yield path, schema


def return_fields(tool: Tool) -> list[FieldNode]:
    if not tool.returns:
        return []
    leaves = sorted(_return_leaves(tool.returns, (), 0), key=lambda pair: len(pair[0]))[:MAX_RETURN_FIELDS]
    out, seen = [], set()
    for path, sub in leaves:
        dotted = ".".join(path)
        if dotted in seen:
            continue
        seen.add(dotted)
        out.append(
            FieldNode(
                id=f"{tool.id}#r:{dotted}",
                tool_id=tool.id,
                name=path[-1],
                description=_enrich(dotted, _describe(sub), tool),
                type=schema_type(sub),
                role="return",
                described=bool(_describe(sub)),
            )
        )
    return out


def tool_fields(tool: Tool) -> list[FieldNode]:
    return param_fields(tool) + return_fields(tool)


def tool_text(tool: Tool) -> str:
    """The text embedded for a whole tool (description similarity, retrieval)."""
    return f"{tool.name}: {' '.join(tool.description.split())}".strip()
