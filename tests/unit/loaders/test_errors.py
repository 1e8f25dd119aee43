"""Bad input: every problem is a LoadError naming file, line or pointer, and field; skip_invalid counts them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from toolflow.loaders import LoadError, load_tools

FIXTURES = Path(__file__).resolve().parents[2] / "support" / "fixtures" / "loaders"


def test_broken_json_names_the_line() -> None:
    with pytest.raises(LoadError) as info:
        load_tools(FIXTURES / "broken.json")
    assert info.value.line == 5
    assert "broken.json, line 5: invalid JSON" in str(info.value)
    result = load_tools(FIXTURES / "broken.json", skip_invalid=True)
    assert result.tools == [] and result.files == 0
    assert len(result.skipped) == 1 and "line 5" in result.skipped[0]


def test_broken_yaml_names_the_mark_line() -> None:
    with pytest.raises(LoadError, match=r"broken\.yaml, line 11: invalid YAML: .*started at line 9"):
        load_tools(FIXTURES / "broken.yaml")


def test_broken_json_line_is_skipped_alone() -> None:
    with pytest.raises(LoadError, match=r"broken_lines\.jsonl, line 2: invalid JSON"):
        load_tools(FIXTURES / "broken_lines.jsonl")
    result = load_tools(FIXTURES / "broken_lines.jsonl", skip_invalid=True)
    assert [t.id for t in result.tools] == ["fixture:1", "fixture:3"]
    assert len(result.skipped) == 1 and "line 2" in result.skipped[0]
    assert result.files == 1


def test_non_object_parameters() -> None:
    with pytest.raises(LoadError) as info:
        load_tools(FIXTURES / "non_object_params.json")
    err = info.value
    assert err.pointer == "/tools/1" and err.field == "parameters"
    assert "must be a JSON Schema of type 'object', got type 'string'" in str(err)
    result = load_tools(FIXTURES / "non_object_params.json", skip_invalid=True)
    assert [t.name for t in result.tools] == ["fine"]
    assert len(result.skipped) == 2
    assert (
        "at /tools/2, field 'parameters': parameters must be a JSON Schema object, got list"
        in result.skipped[1]
    )


def test_dangling_ref_names_the_pointer() -> None:
    with pytest.raises(LoadError) as info:
        load_tools(FIXTURES / "dangling_ref.yaml")
    err = info.value
    assert err.pointer == "/paths/~1bad/get/parameters/0" and err.field == "$ref"
    assert "dangling $ref '#/components/parameters/Missing'" in str(err)
    result = load_tools(FIXTURES / "dangling_ref.yaml", skip_invalid=True)
    assert [t.name for t in result.tools] == ["getGood"]  # the rest of the document still loads
    assert result.tools[0].returns["properties"] == {"id": {"type": "string"}}
    assert len(result.skipped) == 1


def test_dangling_ref_inside_a_request_or_response_schema_skips_that_tool_only() -> None:
    path = FIXTURES / "dangling_schema_refs.yaml"
    with pytest.raises(LoadError) as info:
        load_tools(path)
    err = info.value
    assert (err.pointer, err.field) == ("/paths/~1orders/post/requestBody/content/application~1json/schema"
                                        "/properties/item", "$ref")
    assert "dangling $ref '#/components/schemas/MissingItem'" in str(err) and str(path) in str(err)
    result = load_tools(path, skip_invalid=True)
    assert [t.name for t in result.tools] == ["getGood"]  # neither tool kept with a hole in a schema
    assert len(result.skipped) == 2
    body, response = result.skipped
    assert "requestBody/content/application~1json/schema/properties/item, field '$ref'" in body
    assert ("/paths/~1orders~1{id}/get/responses/200/content/application~1json/schema/properties/lines/items, "
            "field '$ref': dangling $ref '#/components/schemas/MissingLine'") in response
    assert all(msg.startswith(str(path)) for msg in result.skipped)


def test_duplicate_names_in_one_tool_list() -> None:
    # default: the second definition is kept under suffixed id and name, and the change is reported
    result = load_tools(FIXTURES / "duplicate_names.json")
    assert [t.name for t in result.tools] == ["get_weather", "get_time", "get_weather_2"]
    second = result.tools[2]
    assert second.id == "openai:duplicate_names/get_weather~2"
    assert second.original_name == "get_weather" and second.description == "by coordinates"
    assert result.tools[0].description == "by city" and result.tools[0].original_name is None
    [rename] = result.renamed
    assert (rename.reason, rename.where, rename.old_id, rename.new_name) == (
        "definition",
        "/tools/2",
        "openai:duplicate_names/get_weather",
        "get_weather_2",
    )
    assert "a different definition of 'get_weather' is already at /tools/0" in str(rename)
    assert result.rename_summary().startswith("renamed 1 tool(s): 1 different definition(s)")
    # --strict: today's one-line error naming file, pointer and field
    with pytest.raises(LoadError) as info:
        load_tools(FIXTURES / "duplicate_names.json", strict=True)
    err = info.value
    assert err.pointer == "/tools/2" and err.field == "name"
    assert "duplicate tool id 'openai:duplicate_names/get_weather'" in str(err)
    assert "already at /tools/0" in str(err)
    # --strict --skip-invalid: the first is kept, the other reported
    result = load_tools(FIXTURES / "duplicate_names.json", skip_invalid=True, strict=True)
    assert [t.name for t in result.tools] == ["get_weather", "get_time"]
    assert result.tools[0].description == "by city"
    assert len(result.skipped) == 1 and result.renamed == []


def test_unknown_format() -> None:
    with pytest.raises(LoadError, match=r"not_tools\.json: can't tell the format"):
        load_tools(FIXTURES / "not_tools.json")


def test_missing_path() -> None:
    with pytest.raises(LoadError, match="no such file or directory"):
        load_tools(FIXTURES / "nope.json")


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    tool = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}}
    other = {"type": "function", "function": {"name": "pong", "parameters": {"type": "object"}}}
    changed = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}}
    (tmp_path / "a" / "tools.json").write_text(json.dumps({"tools": [tool]}), encoding="utf-8")
    (tmp_path / "b" / "tools.json").write_text(json.dumps({"tools": [tool, other]}), encoding="utf-8")
    (tmp_path / "c" / "tools.json").write_text(json.dumps({"tools": [changed]}), encoding="utf-8")
    result = load_tools(tmp_path)
    # b's ping is the same tool again: merged; c's ping differs: kept as a renamed copy
    assert [(t.id, t.name) for t in result.tools] == [
        ("openai:tools/ping", "ping"),
        ("openai:tools/pong", "pong"),
        ("openai:tools/ping~2", "ping_2"),
    ]
    assert result.merged == 1 and result.files == 3
    [rename] = result.renamed
    assert rename.file == str(tmp_path / "c" / "tools.json") and rename.reason == "definition"
    assert f"already in {tmp_path / 'a' / 'tools.json'}" in rename.detail
    with pytest.raises(LoadError, match=r"c/tools\.json, at /tools/0, field 'id': duplicate tool id 'openai:tools/ping'"):
        load_tools(tmp_path, strict=True)
    strict = load_tools(tmp_path, strict=True, skip_invalid=True)
    assert [t.id for t in strict.tools] == ["openai:tools/ping", "openai:tools/pong"]
    assert len(strict.skipped) == 1 and "already loaded from" in strict.skipped[0]


def test_skip_invalid_over_a_directory_counts_every_problem(tmp_path: Path) -> None:
    for name in (
        "broken.json",
        "broken_lines.jsonl",
        "non_object_params.json",
        "dangling_ref.yaml",
        "duplicate_names.json",
        "not_tools.json",
        "recursive.yaml",
    ):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "README.md").write_text("not input", encoding="utf-8")  # ignored by extension
    result = load_tools(tmp_path, skip_invalid=True)
    # broken.json 1, broken_lines 1, non_object_params 2, dangling_ref 1, not_tools 1
    assert len(result.skipped) == 6
    assert result.files == 5  # broken.json and not_tools.json could not be read as tool files
    assert sorted(t.name for t in result.tools) == sorted(
        ["first", "third", "fine", "getGood", "get_weather", "get_time", "get_weather_2", "getNode", "putNode"]
    )
    assert [r.new_name for r in result.renamed] == ["get_weather_2"]  # duplicate_names: a renamed copy
    assert all(msg.startswith(str(tmp_path)) for msg in result.skipped)


def test_progress_bar_changes_nothing() -> None:
    quiet = load_tools(FIXTURES / "recursive.yaml")
    shown = load_tools(FIXTURES / "recursive.yaml", progress=True)
    assert [t.model_dump() for t in shown.tools] == [t.model_dump() for t in quiet.tools]
