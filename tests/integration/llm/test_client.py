"""OpenAIClientLLM against a fake OpenAI-compatible server: real HTTP through the real `openai` client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from toolflow.engine.llm.base import UsageTracker
from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.errors import (
    ContextOverflowError,
    LLMError,
    LLMTransportError,
    StructuredOutputError,
)
from toolflow.engine.llm.messages import normalize_messages
from toolflow.engine.llm.settings import LLMSettings, RoleSettings

try:
    from fake_openai_server import FakeOpenAIServer, Reply
except ImportError:  # pragma: no cover
    from tests.fake_openai_server import FakeOpenAIServer, Reply


class City(BaseModel):
    name: str
    population: int = Field(ge=0)


ASK = [{"role": "user", "content": "A city, please."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as srv:
        yield srv


def make_llm(srv: FakeOpenAIServer, **kw: Any) -> OpenAIClientLLM:
    opts: dict[str, Any] = {
        "base_url": srv.base_url,
        "model": "fake",
        "api_key": "sk-test",
        "cache_dir": None,
        "retry_base_delay": 0.01,
        "structured_mode": "json_schema",
    }
    opts.update(kw)
    return OpenAIClientLLM(LLMSettings(**opts))


def last_user_text(request: dict[str, Any]) -> str:
    return [m for m in request["messages"] if m["role"] == "user"][-1]["content"]


async def test_structured_uses_json_schema_and_validates(server: FakeOpenAIServer) -> None:
    async with make_llm(server) as llm:
        city = await llm.structured("planner", ASK, City)
    assert isinstance(city, City)
    fmt = server.requests[0]["response_format"]
    assert (
        fmt["type"] == "json_schema"
        and fmt["json_schema"]["name"] == "City"
        and fmt["json_schema"]["strict"] is False
    )
    assert fmt["json_schema"]["schema"]["required"] == ["name", "population"]


async def test_invalid_json_is_repaired_with_error_fed_back(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='{"name": "Paris", population: }'))
    async with make_llm(server) as llm:
        city = await llm.structured("planner", ASK, City)
        assert llm.stats["repairs"] == 1
    assert isinstance(city, City) and server.request_count == 2
    repair = server.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"name": "Paris", population: }'}
    assert "invalid JSON" in last_user_text(server.requests[1])


async def test_validation_error_is_repaired_with_error_fed_back(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='{"name": "Paris", "population": -5}'))
    async with make_llm(server) as llm:
        city = await llm.structured("planner", ASK, City)
    assert isinstance(city, City) and server.request_count == 2
    feedback = last_user_text(server.requests[1])
    assert "does not match the schema" in feedback and "population" in feedback


async def test_json_in_code_fences_and_control_chars_parse(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='```json\n{"name": "Pa\tris", "population": 2}\n```'))
    async with make_llm(server) as llm:
        city = await llm.structured("planner", ASK, City)
    assert city == City(name="Pa\tris", population=2) and server.request_count == 1


async def test_truncated_output_is_retried_then_raises_clearly(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='{"name": "Par', finish_reason="length"))
    async with make_llm(server, max_repairs=2) as llm:
        assert isinstance(await llm.structured("planner", ASK, City), City)
        assert "cut off" in last_user_text(server.requests[1])
        server.reset_counters()
        server.push(*[Reply(content='{"name": "Paris", "population": 1}', finish_reason="length")] * 3)
        with pytest.raises(StructuredOutputError, match="truncated") as info:
            await llm.structured("planner", ASK, City)
    assert server.request_count == 3  # valid-looking JSON is still rejected when cut off
    assert len(info.value.errors) == 3


async def test_429_then_success_with_backoff(server: FakeOpenAIServer) -> None:
    server.push(Reply(status=429), Reply(status=429))
    async with make_llm(server) as llm:
        assert isinstance(await llm.structured("user", ASK, City), City)
        assert llm.stats["retries"] == 2
    assert server.request_count == 3


async def test_retry_after_is_honoured(server: FakeOpenAIServer) -> None:
    server.push(Reply(status=429, headers={"Retry-After": "0.3"}))
    async with make_llm(server, retry_base_delay=0.0) as llm:
        start = time.perf_counter()
        await llm.structured("user", ASK, City)
    assert time.perf_counter() - start >= 0.3


async def test_500_then_success(server: FakeOpenAIServer) -> None:
    server.push(Reply(status=500), Reply(status=503))
    async with make_llm(server) as llm:
        assert isinstance(await llm.structured("tool", ASK, City), City)
    assert server.request_count == 3


async def test_transport_errors_give_up_after_max_retries(server: FakeOpenAIServer) -> None:
    server.push(*[Reply(status=502)] * 10)
    async with make_llm(server, max_retries=2) as llm:
        with pytest.raises(LLMTransportError, match="502"):
            await llm.structured("tool", ASK, City)
    assert server.request_count == 3


async def test_context_overflow_is_a_structured_output_failure_not_retried(server: FakeOpenAIServer) -> None:
    # llama.cpp's wording; a too-long prompt fails the same way on every rerun, so callers must reject it
    msg = "This model's maximum context length is 4096 tokens. However, you requested 11231 tokens."
    server.push(Reply(status=400, body={"error": {"message": msg, "type": "invalid_request_error"}}))
    async with make_llm(server) as llm:
        with pytest.raises(ContextOverflowError, match="maximum context length") as info:
            await llm.structured("tool", ASK, City)
    assert isinstance(info.value, StructuredOutputError)
    assert server.request_count == 1


async def test_client_errors_are_not_retried(server: FakeOpenAIServer) -> None:
    server.push(Reply(status=400))
    async with make_llm(server) as llm:
        with pytest.raises(LLMError) as info:
            await llm.structured("tool", ASK, City)
    assert not isinstance(info.value, LLMTransportError) and server.request_count == 1


async def test_timeouts_are_retried(server: FakeOpenAIServer) -> None:
    server.push(Reply(delay=1.0))
    async with make_llm(server, timeout=0.2) as llm:
        assert isinstance(await llm.structured("tool", ASK, City), City)
        assert llm.stats["retries"] == 1


async def test_cache_hit_makes_no_second_request(server: FakeOpenAIServer, tmp_path: Path) -> None:
    async with make_llm(server, cache_dir=tmp_path) as llm:
        first = await llm.structured("planner", ASK, City)
        second = await llm.structured("planner", ASK, City)
        assert llm.usage.by_role["planner"].cached == 1 and llm.usage.by_role["planner"].requests == 1
    async with make_llm(server, cache_dir=tmp_path) as rerun:  # a later run: still no request
        tracker = UsageTracker()
        third = await rerun.structured("planner", ASK, City, tracker=tracker)
        assert tracker.by_role["planner"].cached == 1 and tracker.by_role["planner"].prompt_tokens == 0
    assert first == second == third and server.request_count == 1
    assert list(tmp_path.glob("*/*.json")) and not list(tmp_path.glob("*/*.tmp"))
    async with make_llm(server, cache_dir=tmp_path, temperature=0.1) as other:  # other params: a miss
        await other.structured("planner", ASK, City)
    assert server.request_count == 2


async def test_token_usage_is_accounted_per_role(server: FakeOpenAIServer) -> None:
    dialogue = UsageTracker()
    async with make_llm(server) as llm:
        await llm.structured("planner", ASK, City, tracker=dialogue)
        await llm.structured("judge", ASK, City, tracker=dialogue)
        await llm.chat("user", ASK, tracker=dialogue)
        await llm.structured("judge", ASK, City)  # no dialogue tracker: run-wide only
        assert llm.usage.by_role["judge"].requests == 2 and llm.usage.total().requests == 4
    assert set(dialogue.by_role) == {"planner", "judge", "user"}
    for role in ("planner", "judge", "user"):
        u = dialogue.by_role[role]
        assert u.requests == 1 and u.prompt_tokens > 0 and u.completion_tokens > 0
    assert dialogue.total().requests == 3


async def test_semaphore_bounds_in_flight_requests(server: FakeOpenAIServer) -> None:
    server.delay = 0.05
    async with make_llm(server, concurrency=3) as llm:
        asks = [[{"role": "user", "content": f"city {i}"}] for i in range(12)]
        await asyncio.gather(*(llm.structured("tool", a, City) for a in asks))
        assert llm.max_in_flight == 3
    assert server.request_count == 12 and server.max_in_flight == 3


async def test_concurrency_128_keeps_its_connections_alive(server: FakeOpenAIServer) -> None:
    # a pool that keeps fewer idle connections than requests in flight (httpx's default keeps 100) closes
    # and reopens the rest on every round: client CPU that bounds one process at high concurrency
    server.delay = 0.05
    async with make_llm(server, concurrency=128) as llm:
        for wave in range(3):
            asks = [[{"role": "user", "content": f"city {wave}-{i}"}] for i in range(128)]
            await asyncio.gather(*(llm.structured("tool", a, City) for a in asks))
    assert server.request_count == 384 and server.max_in_flight == 128
    assert server.connections == 128


def test_normalize_messages_leaves_the_callers_tool_calls_alone() -> None:
    call = {"id": "c1", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
    history = [{"role": "assistant", "content": None, "tool_calls": [call]}]
    out = normalize_messages(history)
    assert out[0]["tool_calls"][0] == {
        "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    assert call == {"id": "c1", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
    assert history[0]["content"] is None


async def test_auto_mode_falls_back_to_json_object_once_per_endpoint() -> None:
    async with (
        FakeOpenAIServer(reject_json_schema=True) as srv,
        make_llm(srv, structured_mode="auto", max_retries=3) as llm,
    ):
        results = await asyncio.gather(
            *(llm.structured("planner", [{"role": "user", "content": str(i)}], City) for i in range(4))
        )
        assert all(isinstance(r, City) for r in results)
        await llm.structured("judge", ASK, City)
        assert llm.stats["fallbacks"] == 1 and llm.stats["retries"] == 0
    kinds = [r["response_format"]["type"] for r in srv.requests]
    assert kinds == ["json_schema"] + ["json_object"] * 5  # probed once, no retry storm on the 500
    fallback = srv.requests[1]
    assert set(fallback["response_format"]["schema"]["properties"]) == {"name", "population"}
    assert (
        '"population"' in fallback["messages"][0]["content"] and fallback["messages"][0]["role"] == "system"
    )


async def test_json_object_mode_puts_schema_in_prompt_and_response_format(server: FakeOpenAIServer) -> None:
    system = [{"role": "system", "content": "You are terse."}, *ASK]
    async with make_llm(server, structured_mode="json_object") as llm:
        await llm.structured("planner", system, City)
    req = server.requests[0]
    assert (
        req["response_format"]["type"] == "json_object" and "properties" in req["response_format"]["schema"]
    )
    assert (
        req["messages"][0]["content"].startswith("You are terse.")
        and "JSON schema" in req["messages"][0]["content"]
    )


async def test_native_tool_calls_come_back_in_openai_shape(server: FakeOpenAIServer) -> None:
    async with make_llm(server, native_tools="on") as llm:
        reply = await llm.chat("assistant", ASK, tools=[WEATHER])
    assert server.requests[0]["tools"] == [WEATHER]
    [call] = reply.tool_calls
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "x"} and call["id"]


async def test_tool_call_emulation_returns_openai_tool_calls(server: FakeOpenAIServer) -> None:
    calls = {
        "tool_calls": [
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_weather", "arguments": {"city": "Oslo"}},
        ]
    }
    server.push(
        Reply(content=json.dumps(calls)),
        Reply(content=json.dumps(calls)),
        Reply(content='{"message": "Sunny."}'),
    )
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}}
        ]},
        {"role": "tool", "tool_call_id": "call_a", "content": '{"temp": 20}'},
    ]  # fmt: skip
    async with make_llm(server, native_tools="off", structured_mode="json_object") as llm:
        reply = await llm.chat("assistant", history, tools=[WEATHER])
        again = await llm.chat("assistant", history, tools=[WEATHER])
        text = await llm.chat("assistant", ASK, tools=[WEATHER])
    req = server.requests[0]
    assert "tools" not in req and req["response_format"]["type"] == "json_object"
    branches = req["response_format"]["schema"]["anyOf"]
    assert branches[1]["properties"]["tool_calls"]["items"]["properties"]["name"] == {"const": "get_weather"}
    sent = req["messages"]
    assert "get_weather" in sent[0]["content"]  # tools described in the system prompt
    assert sent[2]["role"] == "assistant" and '"Rome"' in sent[2]["content"] and "tool_calls" not in sent[2]
    assert sent[3]["role"] == "user" and '{"temp": 20}' in sent[3]["content"]
    assert reply.finish_reason == "tool_calls" and reply.content is None
    assert [json.loads(c["function"]["arguments"]) for c in reply.tool_calls] == [
        {"city": "Paris"},
        {"city": "Oslo"},
    ]
    ids = [c["id"] for c in reply.tool_calls]
    assert all(len(i) == 9 and i.isalnum() for i in ids) and len(set(ids)) == 2
    assert ids == [c["id"] for c in again.tool_calls]  # deterministic
    assert all(c["type"] == "function" for c in reply.tool_calls)
    assert text.content == "Sunny." and text.tool_calls == []


async def test_emulated_unknown_tool_is_repaired(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='{"tool_calls": [{"name": "get_wether", "arguments": {}}]}'),
                Reply(content='{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}'))
    async with make_llm(server, native_tools="off") as llm:
        reply = await llm.chat("assistant", ASK, tools=[WEATHER])
    assert len(server.requests) == 2
    assert "unknown tool 'get_wether'" in last_user_text(server.requests[1])
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in reply.tool_calls] == [
        ("get_weather", {"city": "Oslo"})]  # the repaired answer, not the first one
    assert reply.finish_reason == "tool_calls"


async def test_auto_native_tools_fall_back_to_emulation() -> None:
    async with FakeOpenAIServer(reject_tools=True) as srv, make_llm(srv, native_tools="auto") as llm:
        first = await llm.chat("assistant", ASK, tools=[WEATHER])
        await llm.chat("assistant", ASK + [{"role": "user", "content": "again"}], tools=[WEATHER])
        assert llm.stats["fallbacks"] == 1
    assert first.content == "x"  # the fake's schema-valid default is {"message": "x"}
    assert ["tools" in r for r in srv.requests] == [True, False, False]


async def test_assistant_null_content_is_sent_as_empty_string(server: FakeOpenAIServer) -> None:
    history = [*ASK, {"role": "assistant", "content": None}, {"role": "user", "content": "more"}]
    async with make_llm(server) as llm:
        await llm.chat("user", history)
    assert server.requests[0]["messages"][1] == {"role": "assistant", "content": ""}
    assert history[1]["content"] is None  # the caller's list is not mutated


async def test_per_role_endpoints_get_their_own_model(server: FakeOpenAIServer) -> None:
    async with FakeOpenAIServer() as other:
        roles = {"judge": RoleSettings(base_url=other.base_url, model="judge-model")}
        async with make_llm(server, roles=roles) as llm:
            await llm.structured("planner", ASK, City)
            await llm.structured("judge", ASK, City)
        assert [r["model"] for r in other.requests] == ["judge-model"]
    assert [r["model"] for r in server.requests] == ["fake"]


async def test_role_without_model_says_how_to_configure() -> None:
    llm = OpenAIClientLLM(LLMSettings(cache_dir=None))
    with pytest.raises(LLMError, match="TOOLFLOW_MODEL"):
        await llm.structured("planner", ASK, City)


async def test_json_wrapped_in_prose_is_salvaged(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='Sure! Here it is: {"name": "Oslo", "population": 1} Hope this helps {'))
    async with make_llm(server) as llm:
        assert await llm.structured("planner", ASK, City) == City(name="Oslo", population=1)
    assert server.request_count == 1


async def test_cache_scope_separates_identical_prompts(server: FakeOpenAIServer, tmp_path: Path) -> None:
    from toolflow.engine.llm.cache import cache_scope

    async with make_llm(server, cache_dir=tmp_path) as llm:
        for dlg in ("dlg-a", "dlg-b", "dlg-a"):
            with cache_scope(dlg):
                await llm.structured("planner", ASK, City)
    assert server.request_count == 2


async def test_fake_server_responder_answers_when_script_is_empty() -> None:
    def responder(request: dict[str, Any]) -> Reply:
        return Reply(content=json.dumps({"name": request["model"], "population": len(request["messages"])}))

    async with FakeOpenAIServer(responder=responder) as srv, make_llm(srv) as llm:
        srv.push(Reply(status=503))
        assert await llm.structured("planner", ASK, City) == City(name="fake", population=1)
    assert srv.request_count == 2


# -- raw JSON schemas and tool_choice -----------------------------------------------------------------

HOTEL = {
    "type": "function",
    "function": {
        "name": "book_hotel",
        "description": "Book a hotel.",
        "parameters": {"type": "object", "properties": {"hotel_id": {"type": "string", "examples": ["H1"]}},
                       "required": ["hotel_id"]},
    },
}


async def test_structured_json_sends_the_raw_schema_and_feeds_back_validation(server: FakeOpenAIServer) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}, "required": ["n"]}

    def check(value: Any) -> int:
        if value["n"] != 2:
            raise ValueError("n must be 2 here")
        return value["n"]

    server.push(Reply(content='{"n": 1}'), Reply(content='{"n": 2}'))
    async with make_llm(server, structured_mode="json_object") as llm:
        out = await llm.structured_json("tool", ASK, schema, validate=check, name="pick", describe=False)
    assert out == 2
    first, second = server.requests
    assert first["response_format"] == {"type": "json_object", "schema": schema}
    assert all("JSON schema" not in str(m["content"]) for m in first["messages"])  # describe=False
    assert "n must be 2 here" in last_user_text(second)


async def test_structured_json_repair_budget_can_be_lowered(server: FakeOpenAIServer) -> None:
    server.push(*[Reply(content="not json")] * 3)
    async with make_llm(server) as llm:
        with pytest.raises(StructuredOutputError, match="after 1 attempt"):
            await llm.structured_json("user", ASK, {"type": "object"}, max_repairs=0)
    assert server.request_count == 1


async def test_emulated_tool_choice_narrows_the_schema_and_the_prompt(server: FakeOpenAIServer) -> None:
    server.push(Reply(content='{"message": "Which hotel?"}'),
                Reply(content='{"tool_calls": [{"name": "book_hotel", "arguments": {"hotel_id": "H1"}}]}'),
                Reply(content='{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}]}'),
                Reply(content='{"message": "ok"}'))
    allowed = {"type": "allowed_tools", "allowed_tools": {
        "mode": "required", "tools": [{"type": "function", "function": {"name": "book_hotel"}}]}}
    async with make_llm(server, native_tools="off", structured_mode="json_object") as llm:
        text = await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice="none")
        call = await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice=allowed)
        refused = await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice="none")
    none_schema, allowed_schema = (r["response_format"]["schema"] for r in server.requests[:2])
    assert none_schema["properties"] == {"message": {"type": "string", "minLength": 1, "maxLength": 500}}
    branch = allowed_schema["properties"]["tool_calls"]["items"]
    assert branch["properties"]["name"] == {"const": "book_hotel"} and "anyOf" not in allowed_schema
    assert allowed_schema["properties"]["tool_calls"]["maxItems"] == 1  # one call per allowed tool
    assert "examples" not in json.dumps(branch)  # grammar-safe copy of the parameters
    # the prompt lists only what the reply may call: nothing for "none", the allowed tool otherwise
    assert "book_hotel" not in server.requests[0]["messages"][0]["content"]
    assert "get_weather" not in server.requests[1]["messages"][0]["content"]
    assert "book_hotel" in server.requests[1]["messages"][0]["content"]
    assert text.content == "Which hotel?" and call.tool_calls[0]["function"]["name"] == "book_hotel"
    assert "do not call tools now" in last_user_text(server.requests[3]) and refused.content == "ok"


async def test_native_tool_choice_is_passed_on(server: FakeOpenAIServer) -> None:
    allowed = {"type": "allowed_tools", "allowed_tools": {
        "mode": "auto", "tools": [{"type": "function", "function": {"name": "book_hotel"}}]}}
    named = {"type": "function", "function": {"name": "get_weather"}}
    async with make_llm(server, native_tools="on") as llm:
        await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice="none")
        await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice=allowed)
        await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL], tool_choice=named)
        await llm.chat("assistant", ASK, tools=[WEATHER, HOTEL])
    none, narrowed, forced, auto = server.requests
    assert "tool_choice" not in none and "tools" not in none  # nothing to call: a plain request
    assert "tool_choice" not in narrowed and [t["function"]["name"] for t in narrowed["tools"]] == ["book_hotel"]
    assert forced["tool_choice"] == named and [t["function"]["name"] for t in forced["tools"]] == ["get_weather"]
    assert len(auto["tools"]) == 2
    assert "tool_choice" not in auto


def test_unknown_tool_choice_is_an_error() -> None:
    from toolflow.engine.llm.tool_calls import resolve_tool_choice

    with pytest.raises(ValueError):
        resolve_tool_choice([WEATHER], {"type": "function", "function": {"name": "nope"}})
    with pytest.raises(ValueError):
        resolve_tool_choice([WEATHER], "sometimes")
