"""Real data loads by default: duplicates kept under distinct names, one dangling-$ref check for every
format, MCP listings side by side, JSON lines in a '.json' file. Fixtures in tests/support/fixtures/loaders."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.loaders import LoadError, load_tools
from toolflow.loaders.names import name_key, suffixed_name

FIXTURES = Path(__file__).resolve().parents[2] / "support" / "fixtures" / "loaders"
TOOLBENCH = Path(__file__).resolve().parents[4] / "shared" / "data" / "raw" / "toolbench"


def test_names_that_normalize_alike_are_disambiguated_deterministically() -> None:
    result = load_tools(FIXTURES / "normalized_names.json")
    by_source = {t.original_name or t.name: t.name for t in result.tools}
    assert by_source == {
        "get_weather": "get_weather",
        "get.weather": "get_weather_3",  # _2 is a source name in this file: it keeps it
        "get-weather": "get-weather_4",  # valid, but `-` vs `_` does not tell names apart
        "天气": "tool",  # non-ASCII names all become `tool`
        "查询": "tool_2",
        "get_weather_2": "get_weather_2",
    }
    assert len({name_key(t.name) for t in result.tools}) == len(result.tools) == 6
    assert [r.reason for r in result.renamed] == ["name"] * 3
    assert "name taken by 'openai:normalized_names/get_weather' (/tools/0)" in str(result.renamed[0])
    assert "source name 'get_weather' where this one is 'get.weather'" in result.renamed[0].detail
    again = load_tools(FIXTURES / "normalized_names.json")
    assert [t.model_dump() for t in again.tools] == [t.model_dump() for t in result.tools]
    # names stay unique across files too (a second copy of the file is all renamed)
    both = load_tools([FIXTURES / "normalized_names.json", FIXTURES / "normalized_names.json"])
    assert len(both.tools) == 6 and both.merged == 6  # the same file twice: every tool merges


def test_suffix_keeps_names_valid() -> None:
    long = "a" * 58 + "_for_x"  # 64 characters, the ToolBench way: the tail tells tools apart
    assert suffixed_name(long, 12) == "a" * 55 + "_for_x_12" and len(suffixed_name(long, 12)) == 64
    assert suffixed_name("_" * 3 + "b" * 61, 2) == "b" * 61 + "_2"  # never starts with '_'
    assert suffixed_name("ping", 2) == "ping_2"


def test_mcp_listings_side_by_side_get_their_own_ids() -> None:
    result = load_tools(FIXTURES / "mcp_side_by_side")
    assert [(t.id, t.category) for t in result.tools] == [
        ("mcp:github/search", "github"),
        ("mcp:github/get_issue", "github"),
        ("mcp:slack/search", "slack"),
    ]
    # two servers' `search` are two tools; one of them still needs another function name
    assert [t.name for t in result.tools] == ["search", "get_issue", "search_2"]
    assert result.tools[2].original_name == "search"
    # a listing alone in its folder is named after the folder, as before
    assert load_tools(FIXTURES / "duplicate_names.json").tools[0].id.startswith("openai:")
    alone = load_tools(TOOLBENCH.parent / "mcp" / "sentry-mcp" / "toolDefinitions.json").tools
    assert {t.category for t in alone} == {"sentry-mcp"}


@pytest.mark.parametrize(
    ("name", "line", "pointer", "ref"),
    [
        ("toolflow.jsonl", 2, "/returns/properties/items/items", "#/components/schemas/Item"),
        ("openai.json", None, "/tools/1/function/parameters/properties/b/anyOf/1", "#/definitions/B"),
        ("bfcl.json", 2, "/parameters/properties/n", "#/defs/N"),
        ("mcp.json", None, "/tools/1/outputSchema/properties/x", "#/$defs/X"),
        ("Weather/refs_tool.json", None, "/api_list/1/schema/properties/alerts/items", "#/definitions/alert"),
    ],
)
def test_dangling_ref_is_located_in_every_format(name: str, line: int | None, pointer: str, ref: str) -> None:
    path = FIXTURES / "refs" / name
    with pytest.raises(LoadError) as info:
        load_tools(path)
    err = info.value
    assert (err.file, err.line, err.pointer, err.field) == (str(path), line, pointer, "$ref")
    assert f"dangling $ref {ref!r}" in str(err)
    result = load_tools(path, skip_invalid=True)
    assert len(result.skipped) == 1 and len(result.tools) >= 1  # the valid tools still load


def test_valid_local_refs_are_kept_and_data_named_ref_is_not_a_ref() -> None:
    tools = load_tools(FIXTURES / "refs" / "toolflow.jsonl", skip_invalid=True).tools
    assert [t.name for t in tools] == ["ok_tree", "fine"]
    tree = tools[0].parameters
    assert tree["properties"]["node"] == {"$ref": "#/$defs/Node"}  # stored as is: it resolves
    assert tree["properties"]["$ref"]["type"] == "string"
    mcp = load_tools(FIXTURES / "refs" / "mcp.json", skip_invalid=True).tools
    assert [t.name for t in mcp] == ["ok"]  # recursive `#/properties/data` inside the input schema
    toolbench = load_tools(FIXTURES / "refs" / "Weather", skip_invalid=True).tools
    assert [t.extra["api_name"] for t in toolbench] == ["Forecast"]


def test_json_lines_in_a_json_file_with_an_early_bad_line() -> None:
    path = FIXTURES / "bfcl_lines_bad_early.json"
    with pytest.raises(LoadError) as info:
        load_tools(path)
    assert info.value.line == 2 and "invalid JSON" in str(info.value)
    result = load_tools(path, skip_invalid=True)
    assert [t.original_name for t in result.tools] == ["math.factorial", "math.lcm", "math.hypot"]
    assert {t.source for t in result.tools} == {"bfcl"}
    assert len(result.skipped) == 1 and "line 2" in result.skipped[0]
    # a broken pretty-printed document is still one error at its line
    with pytest.raises(LoadError, match=r"broken\.json, line 5: invalid JSON"):
        load_tools(FIXTURES / "broken.json")


def test_cli_build_reports_renames_and_strict_fails(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["graph", "build", str(FIXTURES / "duplicate_names.json"), "--embedder", "hashing",
            "--cache-dir", str(tmp_path / "cache")]
    res = runner.invoke(main, [*args, "--store", str(tmp_path / "g"), "--json"])
    assert res.exit_code == 0, res.output
    assert "renamed 1 tool(s): 1 different definition(s)" in res.stderr
    assert "get_weather -> get_weather_2" in res.stderr
    report = json.loads(res.stdout)
    assert report["counts"]["tools"] == 3
    assert [r["new_name"] for r in report["renamed"]] == ["get_weather_2"]
    strict = runner.invoke(main, [*args, "--store", str(tmp_path / "g2"), "--strict"])
    assert strict.exit_code == 1
    assert "duplicate_names.json, at /tools/2, field 'name': duplicate tool id" in strict.output
    assert "Traceback" not in strict.output
    skipped = runner.invoke(main, [*args, "--store", str(tmp_path / "g3"), "--strict", "--skip-invalid"])
    assert skipped.exit_code == 0 and "skipped 1 invalid item(s)" in skipped.stderr


def _distinct_definitions_taken(folder: Path) -> tuple[int, int]:
    """(extra different definitions, ids they share) per (file, API name), read straight from the JSON."""
    extra = ids = 0
    for path in sorted(folder.glob("*/*.json")):
        defs: dict[str, set[str]] = defaultdict(set)
        for api in json.loads(path.read_text(encoding="utf-8"))["api_list"]:
            params = [api.get("required_parameters") or [], api.get("optional_parameters") or []]
            defs[api["name"]].add(json.dumps(params, sort_keys=True))
        extra += sum(len(v) - 1 for v in defs.values())
        ids += sum(len(v) > 1 for v in defs.values())
    return extra, ids


def test_raw_toolbench_loads_without_flags() -> None:
    """The 7 raw ToolBench categories: every different definition kept under its own name."""
    result = load_tools(TOOLBENCH)
    assert result.skipped == [] and result.files == 746
    assert len({t.id for t in result.tools}) == len({name_key(t.name) for t in result.tools}) == len(result.tools)
    definitions = [r for r in result.renamed if r.reason == "definition"]
    extra, ids = _distinct_definitions_taken(TOOLBENCH)
    # The issue counted 36 duplicates; by (file, API name, parameters) the raw files hold 43 extra
    # definitions over 42 API names (a name listed with three different parameter lists counts twice).
    assert (len(definitions), len({r.old_id for r in definitions})) == (extra, ids) == (43, 42)
    for r in definitions:
        assert r.new_id.startswith(r.old_id + "~") and r.new_name != r.old_name
    renamed = {t.id: t for t in result.tools}
    medeluxe = renamed["toolbench:Email/email_sending_medeluxe/Send Mail~2"]
    assert medeluxe.name == "send_mail_for_email_sending_medeluxe_2" and medeluxe.original_name == "Send Mail"
    # names only: ToolBench names keep the last 64 characters, so long API names can collide
    assert all(r.new_id == r.old_id for r in result.renamed if r.reason == "name")
    with pytest.raises(LoadError, match=r"email_sending_medeluxe\.json, at /api_list/2, field 'name': duplicate"):
        load_tools(TOOLBENCH / "Email", strict=True)
