"""OpenAI tool/function list loader on shared/data/raw/openai_functions and small hand-written files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolflow.loaders import load_tools

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
OPENAI = DATA / "raw" / "openai_functions"


def test_functionary_tools_skip_code_interpreter() -> None:
    tools = load_tools(OPENAI / "functionary" / "test_case.json").tools
    assert [t.name for t in tools] == ["get_car_price", "get_weather"]
    car = tools[0]
    assert car.id == "openai:test_case/get_car_price"
    assert car.required == ["car_name"]
    assert car.parameters["properties"]["car_name"]["type"] == "string"


def test_legacy_functions_key() -> None:
    tools = load_tools(OPENAI / "functionary" / "test_case_v1.json").tools
    assert [t.id for t in tools] == ["openai:test_case_v1/get_car_price"]


@pytest.mark.parametrize(
    ("rel", "distinct", "definitions"),
    [
        # README: 219 / 239 / 121 definitions; deduplicated by name + parameters
        ("llama-factory/glaive_toolcall_en_demo.json", 165, 219),
        ("llama-factory/glaive_toolcall_zh_demo.json", 176, 239),
        ("llama-factory/reason_tool_use_demo_50.jsonl", 104, 121),
    ],
)
def test_tools_as_json_strings_in_rows(rel: str, distinct: int, definitions: int) -> None:
    result = load_tools(OPENAI / rel)
    assert len(result.tools) == distinct
    assert len(result.tools) + result.merged == definitions
    assert result.skipped == []


def test_glaive_variants_keep_distinct_ids() -> None:
    result = load_tools(OPENAI / "llama-factory" / "glaive_toolcall_en_demo.json")
    tools = result.tools
    assert len({t.original_name or t.name for t in tools}) == 64  # README: 64 distinct names
    assert len({t.name for t in tools}) == len(tools)  # each variant under its own function name
    ages = [t for t in tools if (t.original_name or t.name) == "calculate_age"]
    assert len(ages) == 13
    assert ages[0].id == "openai:glaive_toolcall_en_demo/calculate_age" and ages[0].name == "calculate_age"
    assert {(t.id, t.name) for t in ages[1:]} == {
        (f"openai:glaive_toolcall_en_demo/calculate_age~{i}", f"calculate_age_{i}") for i in range(2, 14)
    }
    assert len({json.dumps(t.parameters, sort_keys=True) for t in ages}) == 13
    assert len(result.renamed) == len(tools) - 64


def test_bfcl_style_types_inside_openai_wrappers() -> None:
    tools = load_tools(OPENAI / "llama-factory" / "reason_tool_use_demo_50.jsonl").tools
    device = next(t for t in tools if t.name == "get_device_asset_by_identifier")
    assert device.parameters["x-original-type"] == "dict"
    prop = device.parameters["properties"]["identifier"]
    assert prop["type"] == "string" and prop["x-original-type"] == "str"
    assert device.required == ["identifier"]  # `required` sat beside `parameters` in the source


def test_whole_folder() -> None:
    result = load_tools(OPENAI)
    assert result.files == 8
    # the per-file counts above; a tool repeated unchanged in another file merges
    assert len(result.tools) + result.merged - sum(
        load_tools(path).merged for path in sorted(OPENAI.rglob("*.json*"))
    ) == 2 + 1 + 2 + 2 + 2 + 165 + 176 + 104
    assert len({t.name for t in result.tools}) == len(result.tools)
    assert {t.source for t in result.tools} == {"openai"}


def test_bare_list_and_responses_api_shape(tmp_path: Path) -> None:
    path = tmp_path / "tools.json"
    path.write_text(
        json.dumps(
            [
                {"name": "search.web", "description": "bare function", "parameters": {"type": "object"}},
                {"type": "function", "name": "flat", "parameters": {"type": "object", "properties": {}}},
                {"type": "file_search"},
                {"type": "function", "function": {"name": "wrapped", "parameters": {"type": "object"}}},
            ]
        ),
        encoding="utf-8",
    )
    tools = load_tools(path).tools
    assert [t.name for t in tools] == ["search_web", "flat", "wrapped"]
    assert tools[0].original_name == "search.web"
    assert tools[0].id == "openai:tools/search.web"
