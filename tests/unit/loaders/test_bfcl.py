"""BFCL-style function docs (loose Python/Java types, dotted names, `response`), hand-written inputs.

BFCL itself is reserved for evaluation, so these are small made-up docs in its shape.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolflow.loaders import load_tools

FACTORIAL = {
    "name": "math.factorial",
    "description": "Compute n!.",
    "parameters": {
        "type": "dict",
        "properties": {"number": {"type": "integer", "description": "n"}},
        "required": ["number"],
    },
    "response": {"type": "dict", "properties": {"result": {"type": "integer"}}},
}
JAVA = {
    "name": "SecurityManager.checkPermission",
    "description": "Java-typed declaration.",
    "parameters": {
        "type": "dict",
        "properties": {
            "perm": {"type": "String", "description": "permission name"},
            "attempts": {"type": "long"},
            "options": {"type": "HashMap", "description": "extra options"},
            "users": {"type": "ArrayList", "items": {"type": "String"}},
            "strict": {"type": "Boolean", "optional": True},
        },
        "required": ["perm"],
    },
}
GEOMETRY = {
    "name": "geometry.area",
    "description": "Area of a polygon.",
    "parameters": {
        "type": "dict",
        "properties": {
            "points": {"type": "tuple", "items": {"type": "float"}},
            "meta": {"type": "any", "description": "anything"},
            "shape": {
                "type": "dict",
                "properties": {"sides": {"type": "integer"}, "scale": {"type": "float"}},
            },
        },
        "required": ["points"],
    },
}


def write_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_json_lines_with_loose_types(tmp_path: Path) -> None:
    # BFCL ships JSON lines under a .json name
    result = load_tools(write_lines(tmp_path / "BFCL_like.json", [FACTORIAL, JAVA, GEOMETRY]))
    assert [t.name for t in result.tools] == [
        "math_factorial",
        "SecurityManager_checkPermission",
        "geometry_area",
    ]
    factorial, java, geometry = result.tools
    assert factorial.id == "bfcl:BFCL_like/math.factorial" and factorial.original_name == "math.factorial"
    assert factorial.source == "bfcl"
    assert factorial.parameters["x-original-type"] == "dict"
    assert factorial.returns == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "x-original-type": "dict",
    }
    props = java.parameters["properties"]
    assert props["perm"] == {"type": "string", "description": "permission name", "x-original-type": "String"}
    assert props["attempts"]["type"] == "integer" and props["attempts"]["x-original-type"] == "long"
    assert props["options"]["type"] == "object"
    assert props["users"]["type"] == "array" and props["users"]["items"]["type"] == "string"
    assert props["strict"] == {"type": "boolean", "x-original-type": "Boolean"}  # `optional` dropped
    assert java.required == ["perm"]
    gprops = geometry.parameters["properties"]
    assert gprops["points"] == {
        "type": "array",
        "items": {"type": "number", "x-original-type": "float"},
        "x-original-type": "tuple",
    }
    assert gprops["meta"] == {"description": "anything", "x-original-type": "any"}
    assert gprops["shape"]["type"] == "object"
    assert gprops["shape"]["properties"]["scale"]["type"] == "number"  # normalized recursively


def test_json_array_of_docs(tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_text(json.dumps([GEOMETRY, FACTORIAL]), encoding="utf-8")
    result = load_tools(path)
    assert [t.id for t in result.tools] == ["bfcl:docs/geometry.area", "bfcl:docs/math.factorial"]


def test_question_entries_merge_and_keep_variants(tmp_path: Path) -> None:
    variant = {**FACTORIAL, "parameters": {"type": "dict", "properties": {"n": {"type": "integer"}}}}
    entries = [
        {"id": "simple_0", "question": [[{"role": "user", "content": "5!?"}]], "function": [FACTORIAL]},
        {"id": "simple_1", "question": [[{"role": "user", "content": "6!?"}]], "function": [FACTORIAL, JAVA]},
        {"id": "simple_2", "question": [[{"role": "user", "content": "7!?"}]], "function": [variant]},
    ]
    result = load_tools(write_lines(tmp_path / "entries.jsonl", entries))
    assert result.merged == 1  # the same declaration offered again in simple_1
    ids = [t.id for t in result.tools]
    assert ids == [
        "bfcl:entries/math.factorial",
        "bfcl:entries/SecurityManager.checkPermission",
        "bfcl:entries/math.factorial~2",  # another entry's different schema under the same name
    ]
    assert result.tools[2].name == "math_factorial_2"  # and its own function name
    assert result.tools[2].original_name == "math.factorial"


def test_format_can_be_forced(tmp_path: Path) -> None:
    plain = {"name": "plain", "description": "", "parameters": {"type": "object", "properties": {}}}
    path = write_lines(tmp_path / "plain.jsonl", [plain])
    assert load_tools(path).tools[0].source == "openai"  # no BFCL tell-tale: detected as OpenAI functions
    forced = load_tools(path, format="bfcl").tools[0]
    assert forced.source == "bfcl" and forced.id == "bfcl:plain/plain"
