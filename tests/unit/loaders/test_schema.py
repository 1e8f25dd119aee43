"""Units shared by the loaders: loose-type normalization and return-schema inference."""

from __future__ import annotations

import json

import pytest

from toolflow.engine.schema_norm import loose_type, normalize_schema
from toolflow.loaders.returns import infer_returns


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("STRING", "string"),
        ("NUMBER", "number"),
        ("long", "integer"),
        ("Boolean", "boolean"),
        ("HashMap", "object"),
        ("JSON", "object"),
        ("ArrayList", "array"),
        ("tuple", "array"),
        ("DATE (YYYY-MM-DD)", "string"),
        ("TIME (24-hour HH:MM)", "string"),
        ("CREDENTIALS", "string"),
        ("SELECT", "string"),
        ("BINARY", "string"),
        ("Optional[int]", "integer"),
        ("any", None),
        ("SomeClass", None),
    ],
)
def test_loose_type(name: str, expected: str | None) -> None:
    assert loose_type(name)[0] == expected


def test_generic_list_gets_items() -> None:
    assert loose_type("List[str]") == ("array", {"items": {"type": "string"}})
    assert normalize_schema({"type": "LIST"}) == {"type": "array", "items": {}, "x-original-type": "LIST"}


def test_normalize_keeps_standard_schemas_as_they_are() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}},
        "additionalProperties": False,
    }
    assert normalize_schema(schema) is schema


def test_normalize_recurses_and_does_not_mutate() -> None:
    schema = {
        "type": "dict",
        "properties": {
            "a": {"anyOf": [{"type": "str"}, {"type": "int"}]},
            "b": {"type": "array", "items": {"type": "dict", "properties": {"c": {"type": "float"}}}},
            "d": True,
            "e": {"type": ["int", "None"]},
        },
    }
    before = json.dumps(schema)
    out = normalize_schema(schema)
    assert json.dumps(schema) == before
    assert out["type"] == "object"
    assert [s["type"] for s in out["properties"]["a"]["anyOf"]] == ["string", "integer"]
    assert out["properties"]["b"]["items"]["properties"]["c"]["type"] == "number"
    assert out["properties"]["d"] == {}
    assert out["properties"]["e"] == {"type": ["integer", "null"], "x-original-type": ["int", "None"]}


def test_infer_returns_from_examples() -> None:
    schema = infer_returns('{"id": 1, "tags": ["a"], "owner": {"name": "x"}}')
    assert schema["type"] == "object"
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert schema["properties"]["owner"]["properties"]["name"] == {"type": "string"}
    assert "$schema" not in schema
    assert infer_returns([{"a": 1.5}])["items"]["properties"]["a"] == {"type": "number"}


@pytest.mark.parametrize("example", ['{"results": [{"id": 1}, {"id"', "Hello, world", "", "{}", "[]", None])
def test_infer_returns_skips_unusable_examples(example: object) -> None:
    assert infer_returns(example) is None
