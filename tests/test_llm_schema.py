"""Compact prompt schemas: refs inlined, titles dropped, recursion kept as references."""

from __future__ import annotations

from pydantic import BaseModel, Field
from toolflow.engine.llm.schema import compact_schema, schema_of


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
