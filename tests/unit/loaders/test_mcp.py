"""MCP tools/list loader on the real listings in shared/data/raw/mcp (counts from its README)."""

from __future__ import annotations

from pathlib import Path

from toolflow.loaders import load_tools

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
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
    result = load_tools(folder)
    assert result.files == 9 and result.skipped == []
    # 107 definitions over the 9 toolset files: a tool listed again unchanged merges (41)
    assert len(result.tools) + result.merged == 107
    assert len({t.original_name or t.name for t in result.tools}) == 47  # distinct tool names
    # 19 tools are listed again with another schema (the multicluster set adds `context`): kept, renamed
    assert len(result.renamed) == 19 and {r.reason for r in result.renamed} == {"name"}
    assert len({t.name for t in result.tools}) == len(result.tools)
    # listings side by side without server info: each file is its own server (category)
    pods = [t for t in result.tools if (t.original_name or t.name) == "pods_list"]
    assert [t.category for t in pods] == ["toolsets-core-tools", "toolsets-full-tools-multicluster"]
    assert [t.name for t in pods] == ["pods_list", "pods_list_2"]
    assert "context" in pods[1].parameters["properties"] and "context" not in pods[0].parameters["properties"]
    full = load_tools(folder / "toolsets-full-tools.json").tools
    assert len(full) == 20 and all(t.extra.get("title") for t in full)


def test_captured_snapshots_use_server_names() -> None:
    result = load_tools(MCP / "captured-snapshots")
    # 83 tools; two servers list the very same 2 tools (name, description, schema): those merge
    assert len(result.tools) + result.merged == 83 and result.merged == 2 and result.files == 8
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
    result = load_tools(folder)
    # browser_tools.json re-lists the playwright and puppeteer servers' tools unchanged: they merge
    assert len(result.tools) + result.merged == 76 and result.merged == 38 and result.renamed == []
    assert {t.category for t in result.tools} == {"playwright", "puppeteer"}
    navigate = next(t for t in result.tools if t.id == "mcp:puppeteer/puppeteer_navigate")
    assert navigate.parameters["properties"]["url"]["type"] == "string"
    assert "url" in navigate.required
