"""`graph build --verify-edges`: uncertain FEEDS edges asked once to a model (a scripted local server),
the answer recorded on the edge, cached, counted in tokens and stopped by the budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.settings import LLMSettings
from toolflow.engine.models import Tool
from toolflow.engine.stores import open_store
from toolflow.engine.synth.verify_edges import verify_edges

try:
    from fake_openai_server import FakeOpenAIServer, FakeServerProcess, Reply
except ImportError:  # pragma: no cover
    from tests.fake_openai_server import FakeOpenAIServer, FakeServerProcess, Reply


def _tool(name: str) -> Tool:
    return Tool(id=f"t/{name}", name=name, description=f"{name} tool", source="mcp",
                parameters={"type": "object", "properties": {}})


TOOLS = [_tool(n) for n in ("a", "b", "c", "d")]


def _feeds() -> list[dict[str, Any]]:
    probs = {"b": 0.1, "c": 0.5, "d": 0.65}
    return [{"src": "t/a", "dst": f"t/{k}", "from_field": "id", "to_param": f"{k}_id", "evidence": "name",
             "score": 0.9, "probability": p} for k, p in probs.items()] + [
        {"src": "t/b", "dst": "t/a", "from_field": "id", "to_param": "a_id", "evidence": "name", "score": 0.9,
         "probability": 0.95}]


def _llm(srv: FakeOpenAIServer, cache: Path | None) -> OpenAIClientLLM:
    return OpenAIClientLLM(LLMSettings(base_url=srv.base_url, model="fake", api_key="sk-test", cache_dir=cache,
                                       structured_mode="json_schema", retry_base_delay=0.01))


def _answer(flows: bool) -> Reply:
    return Reply(content=json.dumps({"flows": flows, "reason": "scripted"}))


async def test_only_the_band_is_asked_and_answers_land_on_the_edges(tmp_path):
    async with FakeOpenAIServer() as srv:
        srv.push(_answer(False), _answer(True))
        feeds = _feeds()
        async with _llm(srv, tmp_path / "cache") as llm:
            rep = await verify_edges(feeds, TOOLS, llm, low=0.3, high=0.7)
        assert srv.request_count == 2 and rep.asked == 2 and rep.in_band == 2
        by_dst = {(e["src"], e["dst"]): e for e in feeds}
        assert by_dst[("t/a", "t/c")]["verified"] is False and by_dst[("t/a", "t/d")]["verified"] is True
        assert "verified" not in by_dst[("t/a", "t/b")] and "verified" not in by_dst[("t/b", "t/a")]
        assert (rep.confirmed, rep.rejected) == (1, 1) and rep.tokens > 0
        # the edge's question names both tools, the returned value and the parameter
        ask = json.dumps(srv.requests[0]["messages"])
        assert "c_id" in ask and "c tool" in ask and "a tool" in ask

        again = _feeds()
        async with _llm(srv, tmp_path / "cache") as llm:
            rep2 = await verify_edges(again, TOOLS, llm, low=0.3, high=0.7)
        assert srv.request_count == 2  # cached: asked once
        assert rep2.cached == 2 and rep2.tokens == 0
        assert [e.get("verified") for e in again] == [e.get("verified") for e in feeds]


async def test_the_token_budget_stops_asking(tmp_path):
    async with FakeOpenAIServer() as srv:
        feeds = _feeds()
        async with _llm(srv, None) as llm:
            rep = await verify_edges(feeds, TOOLS, llm, low=0.0, high=1.0, budget_tokens=1)
        assert srv.request_count == 1 and rep.asked == 1 and rep.over_budget == 3
        assert sum("verified" in e for e in feeds) == 1


def test_cli_verify_edges_records_verified_on_the_stored_edges(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    tools = [
        {"name": "create_ticket", "description": "Creates a ticket and returns it", "parameters": {
            "type": "object", "properties": {"title": {"type": "string"}}}},
        {"name": "get_ticket", "description": "Get one ticket", "parameters": {
            "type": "object", "properties": {"ticket_id": {"type": "string"}}}},
    ]
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in tools))
    runner = CliRunner()
    res = runner.invoke(main, ["graph", "build", str(path), "--store", str(tmp_path / "g0"), "--embedder", "hashing",
                               "--verify-edges"])
    assert res.exit_code != 0 and "--verify-edges needs --base-url and --model" in res.output
    with FakeServerProcess() as srv:
        res = runner.invoke(main, ["graph", "build", str(path), "--store", str(tmp_path / "g"), "--embedder",
                                   "hashing", "--verify-edges", "--base-url", srv.base_url, "--model", "fake",
                                   "--verify-band", "0", "1", "--json"])
        assert res.exit_code == 0, res.output
        asked = srv.stats()
    report = json.loads(res.output[res.output.index("{"):])
    assert report["verify_edges"]["asked"] == report["verify_edges"]["in_band"] >= 1
    with open_store(str(tmp_path / "g")) as store:
        rows = store.run("feeds_all")
    assert rows and all(r["verified"] is True for r in rows)  # the scripted server answers true
    assert asked["requests"] == report["verify_edges"]["asked"]  # one request per edge in the band
    res = runner.invoke(main, ["graph", "build", str(path), "--store", str(tmp_path / "h"), "--embedder",
                               "hashing"])  # off by default: nothing is verified
    assert res.exit_code == 0, res.output
    with open_store(str(tmp_path / "h")) as store:
        assert all(r["verified"] is None for r in store.run("feeds_all"))
