"""One dialogue through the real OpenAIClientLLM over HTTP (the LLM helper's fake OpenAI server):
proves the loop's messages (assistant tool_calls, tool messages) and the agents' structured requests
survive the production client, not only the in-process fakes."""

import json
import re

import pytest
from fake_llm import fixture_tools
from fake_openai_server import FakeOpenAIServer, Reply

from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.settings import LLMSettings, RoleSettings
from toolflow.engine.models import Sample
from toolflow.engine.synth.loop import SynthConfig, synthesize

ALL = {t.name: t for t in fixture_tools()}
PLAN = {"scenario": "A weekend in Rome", "turns": [
    {"kind": "multi_tool", "intent": "weather in Rome and food near the Pantheon",
     "tools": ["get_forecast", "find_restaurants"], "depends_on": [], "missing": []},
    {"kind": "chitchat", "intent": "say thanks", "tools": [], "depends_on": [], "missing": []}]}


def respond(request):
    messages = request["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    if system.startswith("You design realistic"):
        return Reply(content=json.dumps(PLAN))
    if system.startswith("You play the USER"):
        first = "Weather in Rome this weekend, and somewhere to eat near the Pantheon?"
        said = sum(1 for m in messages if "USER:" in str(m.get("content")))
        return Reply(content=json.dumps({"message": first if not said else "Thanks a lot!", "done": False}))
    if system.startswith("You simulate a real API server"):
        call = messages[1]["content"].split("## The call to answer now")[1]
        name = re.search(r'"name": ?"(\w+)"', call).group(1)
        result = {"city": "Rome", "forecast": ["sunny"]} if name == "get_forecast" else {"results": ["Armando"]}
        return Reply(content=json.dumps(result))
    if messages[-1]["role"] == "tool":
        return Reply(content="Sunny all weekend; try Armando al Pantheon.")
    if request.get("tools") and len([m for m in messages if m["role"] == "user"]) == 1:
        calls = [{"id": "call_a", "type": "function",
                  "function": {"name": "get_forecast", "arguments": json.dumps({"city": "Rome"})}},
                 {"id": "call_b", "type": "function",
                  "function": {"name": "find_restaurants", "arguments": json.dumps({"near": "Pantheon"})}}]
        return Reply(tool_calls=calls)
    return Reply(content="You're welcome, enjoy Rome!")


@pytest.fixture
async def server():
    async with FakeOpenAIServer() as srv:
        srv.push(*[respond] * 50)
        yield srv


async def test_dialogue_through_the_production_client(server):
    settings = LLMSettings(base_url=server.base_url, model="big", api_key="sk-test", cache_dir=None,
                           structured_mode="json_schema", native_tools="on",
                           roles={"tool": RoleSettings(model="small")})
    tools = [ALL["get_forecast"], ALL["find_restaurants"]]
    async with OpenAIClientLLM(settings) as llm:
        d = await synthesize(llm, Sample(id="s", tool_ids=[t.id for t in tools], strategy="t"), tools,
                             index=0, config=SynthConfig(blueprint=False))
    assert d.checks.model_dump() == {"passed": True, "failed": [], "flags": []}, d.checks
    assert [m["role"] for m in d.messages] == ["system", "user", "assistant", "tool", "tool", "assistant",
                                               "user", "assistant"]
    assert d.meta.models["tool"] == "small" and d.meta.models["assistant"] == "big"
    assert d.meta.tokens["assistant"]["requests"] == 3 and d.meta.tokens["tool"]["prompt_tokens"] > 0
    # the answer after the results: native, it shows no tools (nothing to call) but keeps the calls and results
    final_assistant_request = [r for r in server.requests if any(m["role"] == "tool" for m in r["messages"])][-1]
    assert "tools" not in final_assistant_request
    sent = final_assistant_request["messages"]
    assert any(m.get("tool_calls") for m in sent) and sum(m["role"] == "tool" for m in sent) == 2
    sent_ids = {m["tool_call_id"] for m in sent if m["role"] == "tool"}
    assert sent_ids == {c["id"] for c in d.messages[2]["tool_calls"]}


async def test_cache_is_scoped_per_dialogue_and_replayed_on_rerun(server, tmp_path):
    settings = LLMSettings(base_url=server.base_url, model="big", api_key="sk-test", cache_dir=tmp_path / "cache",
                           structured_mode="json_schema", native_tools="on")
    tools = [ALL["get_forecast"], ALL["find_restaurants"]]
    sample = Sample(id="s", tool_ids=[t.id for t in tools], strategy="t")

    async def once(index):
        async with OpenAIClientLLM(settings) as llm:
            return await synthesize(llm, sample, tools, index=index, config=SynthConfig(blueprint=False))

    first = await once(0)
    after_first = server.request_count
    assert first.checks.passed and after_first > 0
    again = await once(0)  # a rerun of the same dialogue: everything from the cache
    assert server.request_count == after_first and again.messages == first.messages
    await once(1)  # same prompts, other dialogue: not served from dialogue 0's cache
    assert server.request_count == 2 * after_first
