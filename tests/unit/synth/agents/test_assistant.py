"""Assistant agent: OpenAI tool-call shape, parallel calls, and the repair of unusable calls."""

import json

from fake_llm import ScriptedLLM, fixture_tools, tool_call

from toolflow.engine.llm.base import ChatReply
from toolflow.engine.synth.agents.assistant import respond, system_prompt

TOOLS = fixture_tools()
HISTORY = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "Weather in Rome and Paris?"}]


async def test_parallel_calls_come_back_normalized():
    raw = [{"id": "a", "function": {"name": "get_forecast", "arguments": {"city": "Rome"}}},
           tool_call("get_forecast", {"city": "Paris"}, cid="b")]
    llm = ScriptedLLM({"assistant": [ChatReply(tool_calls=raw, finish_reason="tool_calls")]})
    reply = await respond(llm, TOOLS, HISTORY)
    assert [c["function"]["name"] for c in reply.tool_calls] == ["get_forecast", "get_forecast"]
    assert all(c["type"] == "function" and isinstance(c["function"]["arguments"], str) for c in reply.tool_calls)
    assert json.loads(reply.tool_calls[0]["function"]["arguments"]) == {"city": "Rome"}
    sent_tools = llm.calls_for("assistant")[0]["tools"]
    assert {t["function"]["name"] for t in sent_tools} == {t.name for t in TOOLS}


async def test_invalid_json_arguments_are_repaired_out_of_band():
    bad = ChatReply(tool_calls=[tool_call("get_forecast", '{"city": "Rome"')], finish_reason="tool_calls")
    good = ChatReply(tool_calls=[tool_call("get_forecast", {"city": "Rome"})], finish_reason="tool_calls")
    llm = ScriptedLLM({"assistant": [bad, good]})
    reply = await respond(llm, TOOLS, HISTORY)
    assert json.loads(reply.tool_calls[0]["function"]["arguments"]) == {"city": "Rome"}
    second = llm.calls_for("assistant")[1]["messages"]
    assert "bad_arguments_json" in second[0]["content"] and second[0]["role"] == "system"
    assert second[1:] == HISTORY[1:]
    assert "rejected" not in HISTORY[0]["content"]  # the caller's history is untouched


async def test_missing_required_gives_up_after_the_budget():
    bad = ChatReply(tool_calls=[tool_call("book_hotel", {"hotel_id": "H1"})], finish_reason="tool_calls")
    llm = ScriptedLLM({"assistant": [bad, bad]})
    reply = await respond(llm, TOOLS, HISTORY, max_repairs=1)
    assert len(llm.calls_for("assistant")) == 2
    assert reply.tool_calls[0]["function"]["name"] == "book_hotel"  # returned as is; checks will reject it
    assert "missing_required: book_hotel.guests" in llm.calls_for("assistant")[1]["messages"][0]["content"]


async def test_text_reply_is_not_re_asked():
    llm = ScriptedLLM({"assistant": ["Which city do you mean?"]})
    reply = await respond(llm, TOOLS, HISTORY)
    assert reply.content == "Which city do you mean?" and reply.tool_calls == []
    assert len(llm.calls) == 1
