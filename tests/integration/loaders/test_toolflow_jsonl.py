"""ToolFlow JSONL loader on the normalized seed sets in shared/data (`*_tools.jsonl[.gz]`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolflow.loaders import LoadError, load_tools

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
TOOLBENCH_GZ = DATA / "toolbench_rapidapi_tools.jsonl.gz"




@pytest.fixture(scope="module")
def toolbench():
    """The full 47,097-line file, loaded once for the module."""
    return load_tools(TOOLBENCH_GZ, skip_invalid=True)  # 3 tools have a dangling $ref


def test_full_toolbench_file_counts(toolbench) -> None:
    # 47,097 lines. source_id is *not* unique in this file: 4,793 lines share an id with another line.
    # Repeats with the same name and parameters merge; those that differ are kept under a suffixed
    # id and name (704). Function names repeat across categories too: 287 more get a suffix.
    assert len(toolbench.tools) + toolbench.merged + len(toolbench.skipped) == 47_097
    assert (len(toolbench.tools), toolbench.merged, len(toolbench.skipped)) == (44_963, 2_131, 3)
    assert all("field '$ref': dangling $ref" in msg for msg in toolbench.skipped)
    reasons = [r.reason for r in toolbench.renamed]
    assert (reasons.count("definition"), reasons.count("name")) == (704, 287)
    assert len({t.id for t in toolbench.tools}) == len(toolbench.tools)
    assert len({t.name.lower() for t in toolbench.tools}) == len(toolbench.tools)


def test_inferred_return_schemas(toolbench) -> None:
    inferred = [t for t in toolbench.tools if t.returns_inferred]
    assert len(inferred) == 2_755
    assert sum(t.returns is not None for t in toolbench.tools) == 12_292  # 9,537 from the source + inferred
    httpbin = next(
        t for t in toolbench.tools if t.id == "toolbench_rapidapi:Advertising/httpbin::GET /anything"
    )
    assert httpbin.returns_inferred
    assert httpbin.returns == {
        "type": "object",
        "properties": {"key1": {"type": "string"}, "key2": {"type": "string"}},
        "required": ["key1", "key2"],
    }
    # an example cut at 1,500 characters is not guessed at
    cut = next(
        t
        for t in toolbench.tools
        if t.id == "toolbench_rapidapi:Artificial_Intelligence_Machine_Learning/byword_article_generation"
        "::Write Article From Keyword"
    )
    assert len(cut.extra["response_example"]) >= 1500 and cut.returns is None


def test_spot_checks(toolbench) -> None:
    hello = next(t for t in toolbench.tools if t.id == "toolbench_rapidapi:Advertising/abc::hello")
    assert hello.name == "hello_for_abc"
    assert hello.parameters["properties"]["id"]["type"] == "string"
    assert hello.parameters["properties"]["id"]["examples"] == ["123"]
    assert hello.category == "Advertising" and hello.source == "toolbench_rapidapi"
    renamed = next(t for t in toolbench.tools if t.id == "toolbench_rapidapi:Advertising/api::顔認証")
    assert renamed.original_name == "顔認証_for_api" and renamed.name == "for_api"


def test_duplicate_source_id_is_an_error_naming_line_and_field() -> None:
    with pytest.raises(
        LoadError, match=r"line 13, field 'source_id': duplicate tool id .*already at line 11"
    ):
        load_tools(TOOLBENCH_GZ, strict=True)


@pytest.mark.parametrize(
    ("name", "tools", "with_returns", "renamed"),
    [
        ("apibank_tools.jsonl", 123, 122, 3),  # AddMeeting, QueryMeeting, Calculator twice: _2
        ("seal_tools_tools.jsonl", 4076, 4076, 2),
        ("toolalpaca_tools.jsonl", 94, 94, 0),
        ("toolace_sample_tools.jsonl", 435, 0, 350),
        ("gorilla_apizoo_tools.jsonl", 4314, 0, 4307),  # 4 lines repeat another one but for the id
    ],
)
def test_seed_sets(name: str, tools: int, with_returns: int, renamed: int) -> None:
    result = load_tools(DATA / name)
    # a line identical to another but for its id is the same tool listed twice: merged
    assert len(result.tools) + result.merged == tools and result.skipped == []
    assert sum(t.returns is not None for t in result.tools) == with_returns
    assert sum(t.original_name is not None for t in result.tools) == renamed
    assert len({t.name for t in result.tools}) == len(result.tools)


def test_names_ids_and_types() -> None:
    api_bank = load_tools(DATA / "apibank_tools.jsonl").tools
    token = next(t for t in api_bank if t.id == "api_bank:all_apis.csv#id=1")
    assert token.name == "GetUserToken" and token.required == ["username", "password"]
    assert token.returns["properties"]["token"]["type"] == "string"
    toolace = load_tools(DATA / "toolace_sample_tools.jsonl").tools
    market = next(t for t in toolace if t.original_name == "Market Trends API")
    assert market.name == "Market_Trends_API"
    assert market.id == "toolace_sample:sharegpt_func_fixed.json#0::Market Trends API"
    assert market.parameters["x-original-type"] == "dict"


def test_explicit_format_and_alias() -> None:
    by_alias = load_tools(DATA / "toolalpaca_tools.jsonl", format="jsonl")
    by_name = load_tools(DATA / "toolalpaca_tools.jsonl", format="toolflow")
    assert [t.id for t in by_alias.tools] == [t.id for t in by_name.tools]
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        load_tools(DATA / "toolalpaca_tools.jsonl", format="csv")
