"""`graph build` from running MCP servers (real servers over stdio and streamable HTTP, never mocked)."""

from __future__ import annotations

import json
import shlex
import sys

import anyio
import pytest
from click.testing import CliRunner
from mcp_servers import SHOP_STDIO, TIME_STDIO, git_repo, git_stdio, shop_http
from neo4j_server import open_neo4j_store

from toolflow.engine.cli import main
from toolflow.engine.stores import open_store
from toolflow.loaders import load_tools
from toolflow.loaders.mcp_live import connect, fetch_listings, parse_spec

EXAMPLE = "examples/travel_tools.jsonl"
SHOP_TOOLS = ["get_order", "list_orders", "order_count", "cancel_order", "slow_report", "server_pid", "crash"]


def build(*args: str):
    return CliRunner().invoke(main, ["graph", "build", *args, "--embedder", "hashing"])


def graph_dump(store: str) -> str:
    """Every tool (all stored properties) and every tool edge, sorted: two equal dumps are the same graph."""
    res = CliRunner().invoke(main, ["graph", "query", "--json", "--store", store,
                                    "MATCH (t:Tool) RETURN t.id AS id, t.name AS name, t.source AS source, "
                                    "t.parameters_json AS p, t.returns_json AS r, t.read_only AS ro, "
                                    "t.destructive AS d, t.idempotent AS i ORDER BY id"])
    edges = CliRunner().invoke(main, ["graph", "query", "--json", "--store", store,
                                      "MATCH (a:Tool)-[e:FEEDS]->(b:Tool) RETURN a.id AS src, b.id AS dst, "
                                      "e.score AS s ORDER BY src, dst"])
    assert res.exit_code == 0 and edges.exit_code == 0, res.output + edges.output
    return res.output + edges.output


@pytest.fixture(scope="module")
def shop_listing():
    return fetch_listings([SHOP_STDIO])[0]


def test_pagination_is_read_to_the_end(shop_listing):
    async def first_page():
        async with connect(parse_spec(SHOP_STDIO)) as client:
            return await client.list_tools()

    page = anyio.run(first_page)
    assert len(page.tools) == 2 and page.next_cursor  # the server really pages
    assert [t["name"] for t in shop_listing["tools"]] == SHOP_TOOLS
    assert shop_listing["serverInfo"] == {"name": "shop", "version": "1.2.3"}


def test_output_schema_annotations_and_source(shop_listing, tmp_path):
    path = tmp_path / "shop.json"
    path.write_text(json.dumps([shop_listing]))
    tools = {t.name: t for t in load_tools(path).tools}
    assert tools["get_order"].returns["properties"]["order_id"]["type"] == "string"
    assert not tools["get_order"].returns_inferred
    assert tools["get_order"].hints.read_only is True and tools["get_order"].hints.idempotent is True
    assert tools["cancel_order"].hints.read_only is False and tools["cancel_order"].hints.destructive is True
    assert {t.source for t in tools.values()} == {"mcp:shop@1.2.3"}
    assert tools["get_order"].id == "mcp:shop/get_order"


def test_pypi_servers_time_and_git(tmp_path):
    time_listing, git_listing = fetch_listings([TIME_STDIO, git_stdio(git_repo(tmp_path / "repo"))])
    assert {t["name"] for t in time_listing["tools"]} == {"get_current_time", "convert_time"}
    assert all("outputSchema" in t for t in time_listing["tools"])
    git_tools = {t["name"]: t for t in git_listing["tools"]}
    assert len(git_tools) == 12 and git_listing["serverInfo"]["name"] == "mcp-git"
    assert git_tools["git_log"]["annotations"]["readOnlyHint"] is True
    assert git_tools["git_reset"]["annotations"]["destructiveHint"] is True


def test_stdio_and_http_mixed_with_a_file_same_graph_twice_and_offline(tmp_path):
    with shop_http() as http:
        first = build(http, TIME_STDIO, EXAMPLE, "--store", str(tmp_path / "g1"),
                      "--save-listing", str(tmp_path / "listing.json"))
        assert first.exit_code == 0, first.output
        second = build(http, TIME_STDIO, EXAMPLE, "--store", str(tmp_path / "g2"))
        assert second.exit_code == 0, second.output
    offline = build(str(tmp_path / "listing.json"), EXAMPLE, "--store", str(tmp_path / "g3"))
    assert offline.exit_code == 0, offline.output
    dump = graph_dump(str(tmp_path / "g1"))
    assert "mcp:shop/get_order" in dump and "mcp:mcp-time/convert_time" in dump and "mcp:shop@1.2.3" in dump
    assert graph_dump(str(tmp_path / "g2")) == dump
    assert graph_dump(str(tmp_path / "g3")) == dump


def test_save_listing_loads_with_the_listing_loader(tmp_path):
    res = build(SHOP_STDIO, "--store", str(tmp_path / "g"), "--save-listing", str(tmp_path / "l.json"))
    assert res.exit_code == 0, res.output
    assert sorted(t.name for t in load_tools(tmp_path / "l.json").tools) == sorted(SHOP_TOOLS)


@pytest.mark.parametrize(("command", "expected"), [
    ("mcp+stdio:no-such-mcp-server-xyz", "FileNotFoundError"),
    (f"mcp+stdio:{shlex.quote(sys.executable)} -c 'import sys; sys.exit(2)'", "Connection closed"),
    (f"mcp+stdio:{shlex.quote(sys.executable)} -c 'import time; print(\"hello\", flush=True); time.sleep(60)'",
     "no tools/list answer within 3s"),
])
def test_a_failing_server_is_one_line_and_writes_nothing(tmp_path, command, expected):
    res = build(EXAMPLE, command, "--store", str(tmp_path / "g"), "--server-timeout", "3",
                "--save-listing", str(tmp_path / "l.json"))
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and expected in lines[0] and "mcp+stdio:" in lines[0], res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "g").exists() and not (tmp_path / "l.json").exists()


@pytest.fixture(params=["ladybug", "neo4j"])
def store(request, tmp_path):
    s = open_store(str(tmp_path / "graph")) if request.param == "ladybug" else \
        open_neo4j_store(request.getfixturevalue("neo4j_uri"))
    yield s
    s.close()


def test_annotations_are_tool_properties_on_both_stores(store, shop_listing, tmp_path):
    from graph_helpers import hashing_graph

    path = tmp_path / "shop.json"
    path.write_text(json.dumps([shop_listing]))
    store.write_graph(hashing_graph(load_tools(path).tools))
    rows = store.query("MATCH (t:Tool) RETURN t.name AS name, t.read_only AS ro, t.destructive AS d, "
                       "t.idempotent AS i ORDER BY name")
    by_name = {r["name"]: (r["ro"], r["d"], r["i"]) for r in rows}
    assert by_name["cancel_order"] == (False, True, False)
    assert by_name["get_order"] == (True, None, True)
    assert store.get_tools(["mcp:shop/cancel_order"])[0].hints.destructive is True


def test_python_functions_are_a_tool_source(tmp_path, monkeypatch):
    (tmp_path / "weather_tools.py").write_text(
        "from __future__ import annotations\n"
        "from pydantic import BaseModel\n\n"
        "class Forecast(BaseModel):\n    city: str\n    celsius: float\n\n"
        "def forecast(city: str, days: int = 1) -> Forecast:\n"
        "    \"\"\"Weather forecast for a city.\"\"\"\n    return Forecast(city=city, celsius=20.0)\n\n"
        "def _private() -> None:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    res = build("py:weather_tools", "--store", str(tmp_path / "g"), "--save-listing", str(tmp_path / "l.json"))
    assert res.exit_code == 0, res.output
    (forecast,) = load_tools(tmp_path / "l.json").tools
    assert forecast.id == "mcp:weather_tools/forecast" and forecast.description == "Weather forecast for a city."
    assert forecast.required == ["city"] and forecast.parameters["properties"]["days"]["type"] == "integer"
    assert forecast.returns["properties"]["celsius"]["type"] == "number"
