"""Compact prompt schemas: refs inlined, titles dropped, recursion kept as references."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field
from strict import import_or_require

from toolflow.engine.llm.schema import GRAMMAR_MAX_LENGTH, compact_schema, grammar_schema, schema_of


class Step(BaseModel):
    title: str  # a property called "title" must survive
    tools: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    goal: str
    turns: list[Step]
    backup: Step | None = None


class Node(BaseModel):
    name: str
    children: list[Node] = Field(default_factory=list)


def test_refs_inlined_and_titles_dropped() -> None:
    full = schema_of(Plan)
    assert "$defs" in full and schema_of(Plan) is full  # generated once
    compact = compact_schema(full)
    text = str(compact)
    assert "$ref" not in text and "$defs" not in text and "'title': 'Plan'" not in text
    step = compact["properties"]["turns"]["items"]
    assert step["properties"]["title"] == {"type": "string"} and step["required"] == ["title"]
    assert compact["properties"]["backup"]["anyOf"][0]["properties"]["tools"]["items"] == {"type": "string"}
    assert len(str(compact)) < len(str(full))


def test_recursive_models_keep_a_reference() -> None:
    compact = compact_schema(schema_of(Node))
    assert compact["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert compact["$defs"]["Node"]["properties"]["name"] == {"type": "string"}


# -- grammar_schema ---------------------------------------------------------------------------------

TOOL_PARAMS = {
    "type": "object",
    "title": "Params",
    "x-vendor": {"a": 1},
    "properties": {
        "when": {"type": "string", "format": "date", "examples": ["2025-01-01"]},
        "code": {"type": "str", "pattern": "[A-Z]{3}"},
        "email": {"type": "string", "format": "email"},
        "title": {"type": "string", "description": "a property called title"},
        "tags": {"type": "list", "items": {"type": "string"}},
        "anything": {"type": "any", "description": "no type"},
        "essay": {"type": "string", "maxLength": 5000},
    },
    "required": ["when"],
}


def test_grammar_schema_drops_what_grammars_cannot_take() -> None:
    out = grammar_schema(TOOL_PARAMS)
    props = out["properties"]
    assert "title" not in out and "x-vendor" not in out and out["required"] == ["when"]
    assert props["when"] == {"type": "string", "format": "date"}
    assert props["code"] == {"type": "string"}  # alias mapped, unanchored pattern dropped
    assert props["email"] == {"type": "string"} and props["tags"]["type"] == "array"
    assert props["title"]["description"] == "a property called title"
    assert props["anything"]["description"] == "no type" and "object" in props["anything"]["type"]
    assert "maxLength" not in props["essay"]  # too deep for llama.cpp's grammar parser
    assert TOOL_PARAMS["properties"]["when"]["examples"] == ["2025-01-01"]  # input untouched


def test_grammar_schema_bounds_and_completes() -> None:
    returns = {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}},
        "note": {"type": "string", "enum": ["a", "b"]}}}
    out = grammar_schema(returns, max_string=50, max_items=3, min_items=1, require_all=True)
    items = out["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 3)
    assert items["items"]["required"] == ["id", "n"] and out["required"] == ["items", "note"]
    assert items["items"]["properties"]["id"]["maxLength"] == 50
    assert "maxLength" not in out["properties"]["note"]  # enums are bounded already
    assert grammar_schema({"type": "string"}, max_string=10_000)["maxLength"] == GRAMMAR_MAX_LENGTH


def test_grammar_schemas_convert_with_llama_cpp() -> None:
    gbnf = import_or_require("llama_cpp.llama_grammar").json_schema_to_gbnf
    text = gbnf(json.dumps(grammar_schema(TOOL_PARAMS, max_string=100, max_items=4, require_all=True)))
    assert "when-kv" in text and "date" in text


def test_required_but_undeclared_properties_are_declared() -> None:
    out = grammar_schema({"type": "object", "required": ["q"]})
    assert out["properties"]["q"]["type"][0] == "string" and out["required"] == ["q"]
