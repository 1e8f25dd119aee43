"""Split tools into fields: the parameters and return values the graph matches on.

Parameters are the top-level properties of a tool's input schema, plus the leaves inside object and array
parameters (``filter.company_id``, ``contact_ids[]``). Return values are the leaves of its return schema
(objects are walked, arrays are looked through and marked ``[]``, ``allOf``/``oneOf``/``anyOf`` merged),
because the thing that flows to the next call is a concrete value such as ``city`` or
``results[].receiver_id``, not the envelope around it. Each field keeps its path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from toolflow.engine.models import FieldNode, Tool

#: Return schemas from examples can have hundreds of leaves. Identifiers are kept first at any depth up to
#: MAX_RETURN_DEPTH, then the shallowest others (see `return_fields`).
MAX_RETURN_FIELDS = 64
MAX_RETURN_DEPTH = 6
#: Leaves inside object/array parameters (filters, whole request bodies), per tool.
MAX_NESTED_PARAM_FIELDS = 32
MAX_PARAM_DEPTH = 4


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


#: Schema keywords copied onto a field for the matcher (type/format compatibility, enums, parameter location).
_FACET_KEYS = ("format", "enum", "x-in", "x-entity")


def _facets(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: schema[k] for k in _FACET_KEYS if k in schema and schema[k] is not None}


def merged_schema(schema: Any) -> Any:
    """`allOf` merged into one object schema; `oneOf`/`anyOf` object variants joined (first wins per key).

    Real specs compose their responses this way (petstore's ``Pet`` is ``allOf: [NewPet, {id}]``); without it
    the ids inside are never seen. Non-object variants leave the schema as it is, minus the null branch.
    """
    if not isinstance(schema, dict):
        return schema
    parts = [p for p in schema.get("allOf") or [] if isinstance(p, dict)]
    variants = [v for key in ("oneOf", "anyOf") for v in (schema.get(key) or []) if isinstance(v, dict)]
    if not parts and not variants:
        return schema
    base = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf", "anyOf")}
    objects = [merged_schema(p) for p in parts] + [merged_schema(v) for v in variants]
    props: dict[str, Any] = {}
    for part in [*objects, base]:
        if isinstance(part, dict) and isinstance(part.get("properties"), dict):
            for key, sub in part["properties"].items():
                props.setdefault(key, sub)
    if props:
        return {**base, "type": "object", "properties": props}
    non_null = [v for v in objects if isinstance(v, dict) and v.get("type") != "null"]
    if non_null and "type" not in base:
        return {**non_null[0], **base}
    return base


def _field(
    tool: Tool, role: str, path: str, keys: tuple[str, ...], sub: dict[str, Any], required: bool = False,
    source: str = "declared",
) -> FieldNode:
    # The text keeps the dotted keys without '[]', so the texts of fields that existed before paths did stay
    # byte-identical (and hit the embedding cache).
    dotted = ".".join(keys)
    prefix = "p" if role == "param" else "r"
    return FieldNode(
        id=f"{tool.id}#{prefix}:{path}",
        tool_id=tool.id,
        name=keys[-1],
        description=_enrich(dotted, _describe(sub), tool),
        type=schema_type(sub),
        role=role,  # type: ignore[arg-type]
        required=required,
        described=bool(_describe(sub)),
        path=path,
        facets=_facets(sub),
        source=str(sub.get("x-source") or source),
    )


def param_fields(tool: Tool) -> list[FieldNode]:
    """Top-level parameters, then the leaves inside object / array parameters (``filter.company_id``).

    A value returned by one call often fills one field of an object parameter (a filter, a request body the
    loader kept whole) or one element of an array parameter (``contact_ids[]``); those leaves are fields too,
    after all top-level ones, at most ``MAX_NESTED_PARAM_FIELDS`` per tool.
    """
    required = set(tool.required)
    out: list[FieldNode] = []
    nested: list[FieldNode] = []
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
                path=name,
                facets=_facets(sub),
            )
        )
        if isinstance(sub, dict) and schema_type(merged_schema(sub)) in ("object", "array"):
            for path, keys, leaf in _leaves(sub, name, (name,), 1, MAX_PARAM_DEPTH):
                if path != name:
                    nested.append(_field(tool, "param", path, keys, leaf))
    return out + nested[:MAX_NESTED_PARAM_FIELDS]


def _leaves(
    schema: Any, path: str, keys: tuple[str, ...], depth: int, max_depth: int
) -> Iterator[tuple[str, tuple[str, ...], dict[str, Any]]]:
    """(path label, keys, leaf schema): objects walked, arrays looked through ('x[]'), compositions merged."""
    schema = merged_schema(schema)
    if not isinstance(schema, dict) or depth > max_depth:
        return
    kind = schema_type(schema)
    if kind == "array":
        items = merged_schema(schema.get("items"))
        if isinstance(items, dict) and schema_type(items) in ("object", "array"):
            yield from _leaves(items, f"{path}[]", keys, depth + 1, max_depth)
            return
        # An array of scalars (or of untyped elements): one element is the value that flows.
        elem = dict(items) if isinstance(items, dict) else {}
        if "description" not in elem and schema.get("description"):
            elem["description"] = schema["description"]
        if keys:
            yield f"{path}[]", keys, elem
        return
    props = schema.get("properties")
    if kind == "object" and isinstance(props, dict) and props:
        for key, sub in props.items():
            child = f"{path}.{key}" if path else str(key)
            yield from _leaves(sub, child, (*keys, str(key)), depth + 1, max_depth)
        return
    if keys:
        yield path, keys, schema


_ID_NAME = re.compile(
    r"(^|[_\-.])(id|ids|uuid|guid|key|slug|code|isbn\d*|token)$|[a-z0-9](Id|ID|Ids|IDs|Key|Uuid)$", re.IGNORECASE
)


def is_identifier_name(name: str) -> bool:
    """Names that carry an identifier or a key: ``id``, ``order_id``, ``receiverId``, ``isbn13``, ``slug``."""
    return bool(_ID_NAME.search(name)) or name.lower() in ("id", "_id", "uuid", "isbn", "slug")


def return_fields(tool: Tool) -> list[FieldNode]:
    """Leaves of the return schema: identifiers first (at any depth up to ``MAX_RETURN_DEPTH``), then the
    shallowest of the rest, at most ``MAX_RETURN_FIELDS``.

    The old cut (the first 40 leaves by depth, depth <= 4) dropped exactly what flows most: ids nested in
    list elements of enveloped responses (Apideck ``data.compensations[].employee_id``) and NYT's
    ``results[].isbns[].isbn13``.
    """
    if not tool.returns:
        return []
    leaves = list(_leaves(tool.returns, "", (), 0, MAX_RETURN_DEPTH))

    def rank(i: int) -> tuple[bool, int, int]:
        path, keys, _ = leaves[i]
        return (not is_identifier_name(keys[-1]), len(keys), i)

    keep = sorted(sorted(range(len(leaves)), key=rank)[:MAX_RETURN_FIELDS])
    out, seen = [], set()
    for i in keep:
        path, keys, sub = leaves[i]
        if path in seen:
            continue
        seen.add(path)
        out.append(_field(tool, "return", path, keys, sub, source=schema_source(tool)))
    return out


def schema_source(tool: Tool) -> str:
    """Where a tool's own return schema came from: generalized from real results, from examples, or declared."""
    if tool.returns_observed:
        return "observed"
    return "example" if tool.returns_inferred else "declared"


def tool_fields(tool: Tool) -> list[FieldNode]:
    return param_fields(tool) + return_fields(tool)


def tool_text(tool: Tool) -> str:
    """The text embedded for a whole tool (description similarity, retrieval)."""
    return f"{tool.name}: {' '.join(tool.description.split())}".strip()
