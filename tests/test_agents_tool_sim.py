"""Tool agent: JSON parsing, return-schema validation, repair, and consistency context."""

import pytest
from fake_llm import ScriptedLLM, fixture_tools

from toolflow.engine.llm.messages import parse_json_text
from toolflow.engine.synth.agents.tool_sim import (
    RESULT_ARRAY_ITEMS,
    RESULT_STRING_CHARS,
    ToolSimError,
    relevant_earlier,
    result_schema,
    simulate,
)

TOOLS = {t.name: t for t in fixture_tools()}


def test_parse_json_reply_tolerates_fences_and_prose():
    assert parse_json_text('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_text('Sure! {"a": [1, 2]} hope that helps') == {"a": [1, 2]}
    with pytest.raises(ValueError):
        parse_json_text("no json here")


async def test_invalid_json_then_schema_error_then_valid():
    llm = ScriptedLLM({"tool": [
        '{"booking_id": "B1", "status": ',
        '{"booking_id": "B1", "status": "maybe"}',
        '{"booking_id": "B1", "status": "confirmed"}',
    ]})
    result = await simulate(llm, TOOLS["book_hotel"], {"hotel_id": "H1", "guests": 2}, [])
    assert result == {"booking_id": "B1", "status": "confirmed"}
    calls = llm.calls_for("tool")
    assert len(calls) == 3
    assert "invalid JSON" in calls[1]["messages"][-1]["content"]
    assert "is not one of" in calls[2]["messages"][-1]["content"]


async def test_gives_up_with_tool_sim_error():
    llm = ScriptedLLM({"tool": ['{"hotels": "none"}'] * 3})
    with pytest.raises(ToolSimError, match="search_hotels"):
        await simulate(llm, TOOLS["search_hotels"], {"city": "Rome", "check_in": "2025-01-01"}, [], max_repairs=2)
    assert len(llm.calls) == 3


async def test_without_return_schema_any_object_but_not_a_list():
    llm = ScriptedLLM({"tool": ["[1, 2]", '{"converted": 93.1}']})
    result = await simulate(llm, TOOLS["convert_currency"], {"amount": 100, "from_currency": "USD",
                                                              "to_currency": "EUR"}, [])
    assert result == {"converted": 93.1}
    assert "must be a JSON object" in llm.calls[1]["messages"][-1]["content"]


async def test_earlier_results_and_return_schema_are_in_the_prompt():
    earlier = [{"name": "search_hotels", "arguments": {"city": "Rome"},
                "result": {"hotels": [{"hotel_id": "H-77", "name": "Roma Inn", "price": 90}]}}]
    llm = ScriptedLLM({"tool": ['{"booking_id": "B9", "status": "pending"}']})
    await simulate(llm, TOOLS["book_hotel"], {"hotel_id": "H-77", "guests": 2}, earlier)
    system, user = (m["content"] for m in llm.calls[0]["messages"])
    assert '"booking_id"' in system and "confirmed" in system
    assert "H-77" in user and "Roma Inn" in user and '"guests":2' in user


def test_parse_json_reply_takes_the_first_value_when_text_follows():
    assert parse_json_text('{"a": 1}\n\n{"b": 2}') == {"a": 1}
    assert parse_json_text('Result: [1, {"x": 2}] and {"y": 3}') == [1, {"x": 2}]


async def test_schema_echo_is_refused():
    # convert_currency has no return schema, so without this guard any object (the echo too) would pass
    echo = '{"type": "object", "properties": {"converted": {"type": "number"}}}'
    llm = ScriptedLLM({"tool": [echo, '{"converted": 91.5, "rate": 0.915}']})
    result = await simulate(llm, TOOLS["convert_currency"], {"amount": 100, "from_currency": "USD",
                                                              "to_currency": "EUR"}, [])
    assert result == {"converted": 91.5, "rate": 0.915}
    assert "that is the schema" in llm.calls[1]["messages"][-1]["content"]


async def test_the_request_carries_the_bounded_complete_return_schema():
    llm = ScriptedLLM({"tool": ['{"hotels": [{"hotel_id": "H-1", "name": "Roma Inn", "price": 90}]}']})
    await simulate(llm, TOOLS["search_hotels"], {"city": "Rome", "check_in": "2025-06-01"}, [])
    schema = llm.calls_for("tool")[0]["json_schema"]
    assert schema == result_schema(TOOLS["search_hotels"])
    hotels = schema["properties"]["hotels"]
    assert (hotels["minItems"], hotels["maxItems"]) == (1, RESULT_ARRAY_ITEMS)
    assert hotels["items"]["required"] == ["hotel_id", "name", "price"]
    assert hotels["items"]["properties"]["name"]["maxLength"] == RESULT_STRING_CHARS
    assert result_schema(TOOLS["convert_currency"]) == {"type": "object"}  # no return schema: any object


def test_earlier_results_shown_are_the_grounding_ones_and_the_latest():
    earlier = [{"name": f"t{i}", "arguments": {}, "result": {"id": f"ID-{i}"}} for i in range(6)]
    shown = relevant_earlier(earlier, {"hotel_id": "ID-0"}, limit=3)
    assert [e["name"] for e in shown] == ["t0", "t4", "t5"]  # the result it builds on, then the latest
    assert relevant_earlier(earlier[:2], {}, limit=3) == earlier[:2]
    assert relevant_earlier([], {"x": 1}) == []


async def test_chatter_and_bad_formats_in_values_are_re_asked():
    tool = TOOLS["book_hotel"].model_copy(update={"returns": {"type": "object", "properties": {
        "booking_id": {"type": "string"}, "created": {"type": "string", "format": "date-time"}}}})
    chatter = '{"booking_id": "B1\\ntype:\'string\' }\\n```\\nThe result is a JSON in a", "created": "2026-04-27T14:53:09Z"}'
    llm = ScriptedLLM({"tool": [chatter, '{"booking_id": "B1", "created": "yesterday"}',
                                '{"booking_id": "B1", "created": "2026-04-27T14:53:09Z"}']})
    result = await simulate(llm, tool, {"hotel_id": "H1", "guests": 2}, [])
    assert result == {"booking_id": "B1", "created": "2026-04-27T14:53:09Z"}
    calls = llm.calls_for("tool")
    assert "booking_id holds commentary, not a value" in calls[1]["messages"][-1]["content"]
    assert "'yesterday' is not a date-time" in calls[2]["messages"][-1]["content"]
