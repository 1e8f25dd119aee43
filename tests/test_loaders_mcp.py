"""MCP tools/list loader on the real listings in shared/data/raw/mcp (counts from its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolflow.loaders import LoadError, load_tools

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MCP = DATA / "raw" / "mcp"


def test_github_snap_files_one_tool_each() -> None:
    result = load_tools(MCP / "github-mcp-server")
    assert result.files == 117 and len(result.tools) == 117
    assert {t.category for t in result.tools} == {"github-mcp-server"}
    get_me = next(t for t in result.tools if t.name == "get_me")
    assert get_me.id == "mcp:github-mcp-server/get_me"
    assert get_me.parameters == {"type": "object", "properties": {}}
    assert get_me.extra["annotations"]["readOnlyHint"] is True
    issue = next(t for t in result.tools if t.name == "issue_read")
    assert {"owner", "repo", "method"} <= set(issue.required)


def test_sentry_output_schemas_become_returns() -> None:
    tools = load_tools(MCP / "sentry-mcp" / "toolDefinitions.json").tools
    assert len(tools) == 54
    with_returns = [t for t in tools if t.returns is not None]
    assert len(with_returns) == 22
    assert not any(t.returns_inferred for t in tools)
    assert all(t.category == "sentry-mcp" for t in tools)
    assert all("requiredScopes" in t.extra for t in tools)  # non-standard keys are kept


def test_kubernetes_toolsets_overlap_across_files() -> None:
    folder = MCP / "kubernetes-mcp-server"
    with pytest.raises(
        LoadError, match=r"duplicate tool id 'mcp:kubernetes-mcp-server/.*already loaded from"
    ):
        load_tools(folder)
    result = load_tools(folder, skip_invalid=True)
    assert result.files == 9
    assert len(result.tools) + len(result.skipped) == 107  # tool definitions over the 9 toolset files
    assert len(result.tools) == 47  # distinct tools
    full = load_tools(folder / "toolsets-full-tools.json").tools
    assert len(full) == 20 and all(t.extra.get("title") for t in full)


def test_captured_snapshots_use_server_names() -> None:
    result = load_tools(MCP / "captured-snapshots")
    assert len(result.tools) == 83 and result.files == 8
    categories = {t.category for t in result.tools}
    assert {"secure-filesystem-server", "memory-server", "cloudflare-radar", "mcp-fetch"} <= categories
    filesystem = [t for t in result.tools if t.category == "secure-filesystem-server"]
    assert len(filesystem) == 14 and all(t.returns is not None for t in filesystem)


def test_livemcpbench_nested_server_records() -> None:
    tools = load_tools(MCP / "livemcpbench" / "tools.json").tools
    assert len(tools) == 527
    assert sum(t.returns is not None for t in tools) == 104
    assert len({t.category for t in tools}) == 70
    bing = next(t for t in tools if t.id == "mcp:bing-cn-mcp/bing_search")
    assert bing.required == ["query"]
    assert bing.extra["server_meta"]["server_title"] == "Bing_CN_MCP"
    assert bing.extra["server_meta"]["category"] == "Discovery"


def test_docker_registry_arguments_shape() -> None:
    result = load_tools(MCP / "docker-mcp-registry")
    assert result.files == 28 and len(result.tools) == 755
    astro = next(t for t in result.tools if t.id == "mcp:astro-docs/search_astro_docs")
    assert astro.parameters["properties"]["query"] == {"type": "string", "description": "Search query"}
    assert astro.required == ["query"]
    zscaler = [t for t in result.tools if t.category == "zscaler-mcp-server"]
    assert len(zscaler) == 302 and all(t.parameters["properties"] == {} for t in zscaler)
    okta = [t for t in result.tools if t.category == "okta-mcp-server"]
    assert len(okta) == 108  # the inputSchema-shaped servers load too
    # Docker marks optional arguments; all others are required
    with_optional = [t for t in result.tools if len(t.required) < len(t.parameters["properties"])]
    assert with_optional


def test_anthropic_input_schema_and_server_records() -> None:
    folder = MCP / "mcptoolbenchpp"
    result = load_tools(folder, skip_invalid=True)
    # browser_tools.json re-lists the playwright and puppeteer servers' tools
    assert len(result.tools) + len(result.skipped) == 76
    assert {t.category for t in result.tools} == {"playwright", "puppeteer"}
    navigate = next(t for t in result.tools if t.id == "mcp:puppeteer/puppeteer_navigate")
    assert navigate.parameters["properties"]["url"]["type"] == "string"
    assert "url" in navigate.required
