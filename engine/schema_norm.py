"""Loose type names (Python, Java, BFCL, RapidAPI) to JSON Schema, recursively, keeping the original.

BFCL writes `dict`/`float`/`tuple`/`any`, its Java and JavaScript sets write `String`/`HashMap`/`long`,
RapidAPI writes `STRING`/`NUMBER`/`DATE (YYYY-MM-DD)`, API-Bank writes `List[str]`. Downstream code
(and OpenAI's API) only understands the seven JSON Schema types, so every loader runs its schemas
through `normalize_schema`. When a type changes, the source spelling goes to `x-original-type` so
nothing is lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})

#: JSON Schema type -> the lower-cased loose names that mean it ("" means any value: no `type`).
_LOOSE_NAMES = {
    "string": "str string char character text date datetime time timestamp email url uri uuid password "
    "select enum datepicker credentials file binary geopoint bytes byte[] path",
    "integer": "int integer long short byte bigint biginteger int32 int64",
    "number": "float double number decimal bigdecimal num real",
    "boolean": "bool boolean",
    "object": "dict dictionary object map hashmap treemap json jsonobject struct record",
    "array": "list tuple array arraylist linkedlist set hashset sequence iterable jsonarray vector",
    "null": "none null nonetype void",
    "": "any anytype mixed",
}
_LOOSE: dict[str, str] = {
    name: json_type for json_type, names in _LOOSE_NAMES.items() for name in names.split()
}

_GENERIC = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*[\[(<]\s*(.*?)\s*[\])>]\s*$")

#: Keywords whose value is a map of name -> schema.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
#: Keywords whose value is one schema.
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
#: Keywords whose value is a list of schemas.
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_KEYWORDS = frozenset((*_SCHEMA_MAPS, *_SCHEMA_ONE, *_SCHEMA_LISTS))
#: The same keyword groups as sets, for walks that only look (`refs.check_refs`).
SCHEMA_MAPS = frozenset(_SCHEMA_MAPS)
SCHEMA_ONE = frozenset(_SCHEMA_ONE)
SCHEMA_LISTS = frozenset(_SCHEMA_LISTS)


def subschemas(schema: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(path from `schema`, sub-schema) for each schema directly inside `schema`.

    Only where JSON Schema puts schemas: a property *named* `$ref`, or a `$ref` key inside an `enum`
    or `examples` value, is data, not a reference.
    """
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield (key, name), sub
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            if isinstance(value, list):
                for i, sub in enumerate(value):
                    yield (key, i), sub
        elif key in _SCHEMA_ONE:
            yield (key,), value


def loose_type(name: str) -> tuple[str | None, dict[str, Any]]:
    """Map one loose type name to (JSON type or None for 'any', extra keywords such as `items`).

    Returns (None, {}) for unknown names too; callers keep the original spelling either way.
    """
    key = name.strip()
    if key in JSON_TYPES:
        return key, {}
    lowered = key.lower()
    # RapidAPI decorates some types: "DATE (YYYY-MM-DD)", "GEOPOINT (latitude, longitude)".
    base = re.sub(r"\s*\(.*\)\s*$", "", lowered) if " (" in lowered else lowered
    if base in _LOOSE:
        return _LOOSE[base] or None, {}
    generic = _GENERIC.match(key)
    if generic:
        outer, inner = generic.group(1).lower().split(".")[-1], generic.group(2)
        if outer == "optional":
            return loose_type(inner)
        outer_type = _LOOSE.get(outer)
        if outer_type == "array":
            if inner and "," not in inner:
                item_type, item_extra = loose_type(inner)
                item = {"type": item_type, **item_extra} if item_type else {}
                return "array", {"items": item} if item else {}
            return "array", {}
        if outer_type:
            return outer_type, {}
    return None, {}


def normalize_schema(schema: Any) -> Any:
    """`schema` with every loose `type` mapped to JSON Schema (original in `x-original-type`).

    Also turns boolean property schemas into objects (`true` -> `{}`) and drops BFCL's per-property
    `"optional": true`, since `required` already says the same. Copy-on-write: parts that need no change
    are returned as they are (the 47k-tool JSONL is already normalized, and copying it all is the
    slowest step of loading it). Non-dict input is returned unchanged; `Tool` validation judges it.
    """
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, dict):
        return schema
    changes: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYWORDS:
            continue
        if key in _SCHEMA_MAPS:
            if isinstance(value, dict):
                subs, changed = {}, False
                for name, sub in value.items():
                    subs[name] = new = normalize_schema(sub)
                    changed = changed or new is not sub
                if changed:
                    changes[key] = subs
        elif isinstance(value, list):
            if key in _SCHEMA_LISTS or key == "items":
                items = [normalize_schema(sub) for sub in value]
                if any(new is not old for new, old in zip(items, value, strict=True)):
                    changes[key] = items
        elif key in _SCHEMA_ONE and isinstance(value, dict):  # `additionalProperties: false` stays a bool
            new = normalize_schema(value)
            if new is not value:
                changes[key] = new
    drop_optional = isinstance(schema.get("optional"), bool)
    type_change = _normalized_type(schema) if "type" in schema else None
    if not changes and not drop_optional and type_change is None:
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if drop_optional and key == "optional":
            continue
        if key == "type" and type_change is not None:
            if "type" in type_change:
                out["type"] = type_change["type"]
            continue
        out[key] = changes.get(key, value)
    for key, value in (type_change or {}).items():
        out.setdefault(key, value)
    return out


def _normalized_type(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The keywords that replace a loose `type` (None when the type is already JSON Schema)."""
    original = schema["type"]
    if isinstance(original, str):
        if original in JSON_TYPES:
            return None
        json_type, extra = loose_type(original)
        out: dict[str, Any] = {"type": json_type} if json_type else {}
        out.update(extra)
        if json_type == "array" and "items" not in schema:
            out.setdefault("items", {})  # OpenAI's API rejects arrays without `items`
    elif isinstance(original, list) and all(isinstance(t, str) for t in original):
        if all(t in JSON_TYPES for t in original):
            return None
        mapped: list[str] = []
        for name in original:
            json_type, _ = loose_type(name)
            if json_type is None:  # 'any' or unknown inside a union: the union admits anything
                mapped = []
                break
            if json_type not in mapped:
                mapped.append(json_type)
        out = {"type": mapped if len(mapped) > 1 else mapped[0]} if mapped else {}
    else:
        out = {}
    out["x-original-type"] = original
    return out


# -- the one type compatibility and value conversion rule ----------------------------------------------

#: Scalar types whose values may feed each other: ids and coordinates arrive as strings or numbers in
#: real APIs, while objects, arrays and booleans stay apart (a graph edge between them means nothing).
LOOSE_SCALARS = frozenset({"string", "integer", "number"})

_JSON_INT = re.compile(r"-?(?:0|[1-9]\d*)")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def canonical_type(name: str) -> str:
    """A type name as JSON Schema spells it (``int`` → ``integer``, ``dict`` → ``object``); a name with
    no JSON meaning (``any``, a class name) comes back lower-cased."""
    return loose_type(name)[0] or name.strip().lower()


def is_subtype(a: str, b: str | None) -> bool:
    """Is every value of JSON type `a` also of type `b` as it stands (an integer is a number)?"""
    return b is None or a == b or (a == "integer" and b == "number")


def types_compatible(a: str | None, b: str | None) -> bool:
    """May a value of JSON type `a` fill a slot of type `b` (the graph's FEEDS veto, the blueprint's
    result sources)? An unknown type (None) fits anything."""
    if a is None or is_subtype(a, b):
        return True
    return a in LOOSE_SCALARS and b in LOOSE_SCALARS


def json_type(value: Any) -> str:
    """The JSON Schema type of a Python JSON value (``True`` is a boolean, ``3`` an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list | tuple) else "object"


def value_fits(value: Any, target: str | None) -> bool:
    """Is `value` already of JSON type `target` (an integer is a number; None takes anything)?"""
    return is_subtype(json_type(value), target)


def convert_value(value: Any, target: str | None) -> tuple[Any, str | None]:
    """`value` as JSON type `target` when the conversion loses nothing, with the conversion's name
    (``"string->number"``) for provenance; `value` and None when it already fits or cannot convert.

    Lossless means the value reads back the same: ``"-73.00597"`` → -73.00597, ``"12"`` → 12,
    ``"true"`` → True, 4821 → ``"4821"``, 3.0 → 3; ``"007"`` (a code, not a number), ``"1e999"`` and
    ``"yes"`` stay strings.
    """
    if value_fits(value, target):
        return value, None
    source = json_type(value)
    converted = _converted(value, source, str(target))
    return (value, None) if converted is _NO else (converted, f"{source}->{target}")


_NO = object()


def _converted(value: Any, source: str, target: str) -> Any:
    if target == "string" and source in ("integer", "number", "boolean"):
        if source == "boolean":
            return "true" if value else "false"
        return repr(value) if math.isfinite(value) else _NO
    if source == "number" and target == "integer":
        return int(value) if math.isfinite(value) and value.is_integer() else _NO
    if source != "string":
        return _NO
    if target == "boolean":
        return {"true": True, "false": False}.get(value, _NO)
    if target == "integer" and _JSON_INT.fullmatch(value):
        return int(value)
    if target == "number" and _JSON_NUMBER.fullmatch(value):
        if _JSON_INT.fullmatch(value):
            return int(value)
        number = float(value)
        try:
            same = math.isfinite(number) and Decimal(repr(number)) == Decimal(value)
        except InvalidOperation:
            same = False
        return number if same else _NO
    return _NO
