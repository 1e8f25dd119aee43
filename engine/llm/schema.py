"""JSON schemas as models read them: pydantic's output, compacted for prompts.

In JSON mode the schema travels in the system prompt, where every token costs prompt-eval time
(slow on the embedded model, docs/llm.md) and `$defs`/`$ref` indirection confuses small models (SmolLM2
copies "#/$defs/Step" into its answer). So prompts get a compact copy: references inlined, titles
dropped. Recursive models keep their `$ref` for the recursive part.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel

from toolflow.engine.schema_norm import loose_type


@functools.lru_cache(maxsize=512)
def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a pydantic model, generated once (it costs ~1 ms, more than our request path)."""
    return model.model_json_schema()


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with local `$ref`s inlined (except recursive ones), `$defs` and `title`s removed."""
    defs = schema.get("$defs", {})
    kept_defs: dict[str, Any] = {}

    def walk(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(v, stack) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.split("/")[-1]
            if name in stack or name not in defs:  # recursion: keep the reference and its definition
                if name in defs and name not in kept_defs:
                    kept_defs[name] = {}
                    kept_defs[name] = walk(defs[name], (*stack, name))
                return {"$ref": ref}
            inlined = walk(defs[name], (*stack, name))
            extra = {k: walk(v, stack) for k, v in node.items() if k not in ("$ref", "title")}
            return {**inlined, **extra}
        out = {}
        for key, value in node.items():
            if key in ("$defs", "title"):
                continue
            if key == "properties" and isinstance(value, dict):  # property *names* may be "title"
                out[key] = {k: walk(v, stack) for k, v in value.items()}
            else:
                out[key] = walk(value, stack)
        return out

    result = walk(schema, ())
    if kept_defs:
        result["$defs"] = kept_defs
    return result


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(compact_schema(schema), ensure_ascii=False, separators=(",", ":"))


# -- schemas for grammar-constrained decoding ------------------------------------------------------

#: String formats llama.cpp's json-schema-to-grammar turns into rules; others are dropped (it ignores them).
GRAMMAR_FORMATS = frozenset({"date", "time", "date-time", "uuid", "uuid1", "uuid2", "uuid3", "uuid4", "uuid5"})
_GRAMMAR_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
#: Annotations that change nothing a grammar enforces but cost prompt tokens or break converters.
_DROP_KEYS = frozenset({"examples", "example", "title", "$schema", "$id", "$comment", "default", "pattern",
                        "nullable", "readOnly", "writeOnly", "deprecated"})
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
#: Keys that give a node a shape a grammar converter understands; a node without any means "any value".
_STRUCTURAL_KEYS = frozenset({"type", "$ref", "anyOf", "oneOf", "allOf", "const", "enum", "properties", "items",
                              "prefixItems", "additionalProperties"})
_ANY_TYPE = ("string", "number", "boolean", "object", "array", "null")
#: llama.cpp turns ``maxLength: n`` into n nested optional groups; its grammar parser fails (and
#: llama-cpp-python's server dies) somewhere above 1000. Longer bounds are dropped, not enforced.
GRAMMAR_MAX_LENGTH = 500
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def _grammar_type(value: Any) -> Any:
    if isinstance(value, str):
        t = loose_type(value)[0]  # the loaders' own type mapping (engine/schema_norm.py)
        return t if t in _GRAMMAR_TYPES else None
    if isinstance(value, list):
        kept = [t for t in (_grammar_type(v) for v in value) if t]
        return list(dict.fromkeys(kept)) or None
    return None


def grammar_schema(
    schema: Any,
    *,
    max_string: int | None = None,
    max_items: int | None = None,
    min_items: int | None = None,
    require_all: bool = False,
) -> dict[str, Any]:
    """A copy of `schema` that grammar-constrained decoders (llama.cpp's json-schema-to-grammar) take
    as meant: `examples`, `x-*` vendor keys, `pattern` (unanchored regexes make the converter give
    up on the whole schema) and unsupported `format`s are dropped, alias type names mapped
    (``dict`` → ``object``), unknown ones (``any``) dropped.

    `max_string` / `max_items` add ``maxLength`` / ``maxItems`` where the schema sets none, so a small
    model cannot ramble until the token limit; `min_items` adds ``minItems`` (no empty lists) and
    `require_all` makes every declared property required (no ``{}`` answers). Everything here only
    narrows or annotates: a value valid under the result is valid under `schema`, except for the
    dropped `pattern`s, which the caller's own validation still checks.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP_KEYS or key.startswith("x-"):
                continue
            if key == "type":
                t = _grammar_type(value)
                if t is not None:
                    out["type"] = t
            elif key == "format":
                if value in GRAMMAR_FORMATS:
                    out[key] = value
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: walk(v) for k, v in value.items() if isinstance(v, dict | bool)}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [walk(v) for v in value]
            elif key in ("items", "additionalProperties", "not", "contains") and isinstance(value, dict | list):
                out[key] = walk(value)
            else:
                out[key] = value
        props = out.get("properties")
        if isinstance(out.get("required"), list) and (isinstance(props, dict) or out.get("type") == "object"):
            undeclared = [r for r in out["required"] if isinstance(r, str) and r not in (props or {})]
            if undeclared:  # a grammar only emits declared properties: declare them (any value)
                out["properties"] = {**(props or {}), **{r: {"type": list(_ANY_TYPE)} for r in undeclared}}
        if not _STRUCTURAL_KEYS & out.keys():  # {"description": ...} alone: converters reject it
            out["type"] = list(_ANY_TYPE)
        for bound in ("minLength", "maxLength"):
            if isinstance(out.get(bound), int) and out[bound] > GRAMMAR_MAX_LENGTH:
                del out[bound]
        plain_string = out.get("type") == "string" and not {"enum", "const", "format"} & out.keys()
        if max_string is not None and plain_string and "maxLength" not in out:
            out["maxLength"] = min(max(max_string, int(out.get("minLength", 0))), GRAMMAR_MAX_LENGTH)
        if out.get("type") == "array" and isinstance(out.get("items"), dict):
            if min_items is not None and "minItems" not in out:
                out["minItems"] = min(min_items, int(out.get("maxItems", min_items)))
            if max_items is not None and "maxItems" not in out:
                out["maxItems"] = max(max_items, int(out.get("minItems", 0)))
        if require_all and isinstance(out.get("properties"), dict) and out["properties"]:
            declared = [r for r in out.get("required", []) if isinstance(r, str)]
            out["required"] = list(dict.fromkeys([*declared, *out["properties"]]))
        return out

    result = walk(schema if isinstance(schema, dict) else {})
    return result


# -- tools in prompts ----------------------------------------------------------------------------------


def _type_text(schema: dict[str, Any]) -> str:
    """A short human type for one parameter: ``string``, ``one of "a", "b"``, ``array of number``;
    compact JSON for anything nested."""
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    items = schema.get("items")
    if kind == "array" and isinstance(items, dict) and set(items) <= {"type", "description"}:
        return f"array of {items.get('type', 'values')}"
    if kind in ("string", "number", "integer", "boolean", "null"):
        return str(kind)
    shape = {k: v for k, v in schema.items() if k != "description"}
    return json.dumps(shape, ensure_ascii=False, separators=(",", ":"))


def tool_line(fn: dict[str, Any]) -> str:
    """One tool as prompts list it: ``- name: description`` and its arguments one by one
    (``name (type, required): description``); `fn` is an OpenAI function (name, description,
    parameters). A third fewer prompt tokens than the JSON schema, with the same information."""
    params = grammar_schema(fn.get("parameters") or {})
    required = set(params.get("required") or [])
    args = [
        f"{name} ({_type_text(sub)}{', required' if name in required else ''})"
        + (f": {sub['description'].strip()[:200]}" if (sub.get("description") or "").strip() else "")
        for name, sub in (params.get("properties") or {}).items()
    ]
    head = f"- {fn['name']}: {(fn.get('description') or '').strip()[:300]}"
    return head + ("\n  arguments: " + "; ".join(args) if args else "\n  arguments: none")


def pin_arguments(params: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The argument schema of a call whose values are fixed in advance (a grammar backend then cannot
    produce anything else): every pinned argument a ``const``, no other argument allowed. Used for
    blueprint calls on llama.cpp, where a 135M model otherwise invents ``"city": "myCity"``."""
    props = params.get("properties") or {}
    pinned = {k: {"const": v} for k, v in values.items() if k in props or not props}
    return {"type": "object", "properties": pinned, "required": list(pinned), "additionalProperties": False}
