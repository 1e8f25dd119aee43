"""The --execute executor against real MCP servers: what runs, what is refused, timeouts, tool errors,
a dying server, the call cache, HTTP and Python functions (never mocked)."""

from __future__ import annotations

import json
import os
import signal
import textwrap

import anyio
import pytest
from mcp_servers import SHOP_STDIO, TIME_STDIO, shop_http

from toolflow.engine.models import Tool
from toolflow.engine.synth.execute import ExecPolicy, LiveTools, Outcome, ToolUnavailable
from toolflow.loaders.mcp_live import connect, parse_spec


def tool(name: str) -> Tool:
    return Tool(id=f"mcp:shop/{name}", name=name)


def run(specs: list[str], policy: ExecPolicy, calls: list[tuple[str, dict]], **kw) -> list[Outcome | str]:
    async def go() -> list[Outcome | str]:
        async with LiveTools([parse_spec(s) for s in specs], policy, **kw) as live:
            return [await live.call(tool(n), a) for n, a in calls]
    return anyio.run(go)


def test_read_only_runs_and_writes_are_refused_unless_allowed(tmp_path):
    calls = [("get_order", {"order_id": "A100"}), ("cancel_order", {"order_id": "A100"})]
    got, refused = run([SHOP_STDIO], ExecPolicy(), calls, sandbox=tmp_path)
    assert isinstance(got, Outcome) and json.loads(got.content)["status"] == "shipped"
    assert got.value == {"order_id": "A100", "customer_id": "C7", "total": 42.5, "status": "shipped"}
    assert isinstance(refused, str) and "read-only" in refused
    assert not (tmp_path / "writes.log").exists()  # the write never reached the server
    _, allowed = run([SHOP_STDIO], ExecPolicy(allow=["cancel_order"]), calls, sandbox=tmp_path)
    _, written = run([SHOP_STDIO], ExecPolicy(allow_writes=True), [calls[0], ("cancel_order", {"order_id": "A101"})],
                     sandbox=tmp_path)
    assert allowed.value == {"result": "order A100 cancelled"} and written.value == {"result": "order A101 cancelled"}
    assert (tmp_path / "writes.log").read_text() == "cancel A100\ncancel A101\n"  # ran in the sandbox


def test_a_tool_error_and_a_timeout_are_the_tools_answer():
    bad, slow, after = run([SHOP_STDIO], ExecPolicy(timeout=1), [
        ("get_order", {"order_id": "ZZ"}), ("slow_report", {"seconds": 20}), ("order_count", {})])
    assert bad.is_error and "no order 'ZZ'" in bad.content
    assert slow.is_error and "did not answer within 1s" in slow.content
    assert not after.is_error and after.value == {"result": 2}


def test_result_size_cap():
    (got,) = run([SHOP_STDIO], ExecPolicy(max_chars=100), [("list_orders", {"customer_id": "C7"})])
    assert got.content.startswith('{"result": [{"order_id": "A100"') and "more characters cut" in got.content
    assert len(got.content) < 140


def test_a_killed_server_is_restarted_and_the_call_answered():
    async def go():
        async with LiveTools([parse_spec(SHOP_STDIO)], ExecPolicy()) as live:
            first = await live.call(tool("server_pid"), {})
            os.kill(first.value["result"], signal.SIGKILL)
            second = await live.call(tool("server_pid"), {"again": 1})  # new args: not from the cache
            return first, second, live.sessions[0].restarts
    first, second, restarts = anyio.run(go)
    assert restarts == 1 and second.value["result"] != first.value["result"]


def test_a_server_that_keeps_dying_rejects_with_a_reason():
    async def go():
        async with LiveTools([parse_spec(SHOP_STDIO)], ExecPolicy()) as live:
            await live.call(tool("crash"), {})
    with pytest.raises(ToolUnavailable, match="connection closed during crash"):
        anyio.run(go)


def test_cache_means_a_resumed_run_does_not_call_twice(tmp_path):
    cache = tmp_path / "d.calls.jsonl"
    policy = ExecPolicy(allow_writes=True)
    (first,) = run([SHOP_STDIO], policy, [("cancel_order", {"order_id": "A100"})], sandbox=tmp_path, cache_path=cache)
    (again,) = run([SHOP_STDIO], policy, [("cancel_order", {"order_id": "A100"})], sandbox=tmp_path, cache_path=cache)
    assert not first.cached and again.cached and again.content == first.content
    assert (tmp_path / "writes.log").read_text() == "cancel A100\n"


def test_http_server_and_mcp_server_time(tmp_path):
    with shop_http(cwd=tmp_path) as http:
        got, now = run([http, TIME_STDIO], ExecPolicy(), [("get_order", {"order_id": "A101"}),
                                                          ("get_current_time", {"timezone": "UTC"})])
    assert got.value["total"] == 9.99
    assert now.value["timezone"] == "UTC" and "datetime" in now.value


def test_python_functions_are_tools(tmp_path, monkeypatch):
    (tmp_path / "calc_tools.py").write_text(textwrap.dedent('''
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b
        def fail(x: str) -> str:
            """Always fails."""
            raise ValueError(f"bad {x}")
    '''))
    monkeypatch.chdir(tmp_path)
    added, failed = run(["py:calc_tools"], ExecPolicy(allow=["add", "fail"]),
                        [("add", {"a": 2, "b": 3}), ("fail", {"x": "y"})])
    assert added.value == {"result": 5}
    assert failed.is_error and "bad y" in failed.content
    (not_allowed,) = run(["py:calc_tools"], ExecPolicy(), [("add", {"a": 1, "b": 1})])
    assert isinstance(not_allowed, str) and "read-only" in not_allowed


def test_direct_sdk_call_agrees(tmp_path):
    async def direct():
        async with connect(parse_spec(SHOP_STDIO)) as client:
            return await client.call_tool("get_order", {"order_id": "A101"})
    (got,) = run([SHOP_STDIO], ExecPolicy(), [("get_order", {"order_id": "A101"})])
    assert got.value == anyio.run(direct).structured_content


def test_a_name_two_servers_list_goes_to_the_tools_own_server(tmp_path, monkeypatch):
    (tmp_path / "first_srv.py").write_text("def whoami() -> str:\n    '''Which server.'''\n    return 'first'\n")
    (tmp_path / "second_srv.py").write_text("def whoami() -> str:\n    '''Which server.'''\n    return 'second'\n")
    monkeypatch.chdir(tmp_path)
    renamed = Tool(id="mcp:second_srv/whoami", name="whoami_2", original_name="whoami", category="second_srv")

    async def go():
        async with LiveTools([parse_spec("py:first_srv"), parse_spec("py:second_srv")],
                             ExecPolicy(allow=["whoami"])) as live:
            return await live.call(Tool(id="mcp:first_srv/whoami", name="whoami", category="first_srv"), {}), \
                await live.call(renamed, {})
    first, second = anyio.run(go)
    assert first.value == {"result": "first"} and second.value == {"result": "second"}
