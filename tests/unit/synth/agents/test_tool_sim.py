"""Tool agent: JSON parsing, return-schema validation, repair, and consistency context."""

import pytest
from fake_llm import ScriptedLLM, fixture_tools

from toolflow.engine.llm.base import ChatReply
from toolflow.engine.llm.messages import complete_truncated_json, parse_json_text, truncated_json_values
from toolflow.engine.models import Tool
from toolflow.engine.synth.agents.tool_sim import (
    CHARS_PER_TOKEN,
    MIN_RESULT_CHARS,
    RESULT_ARRAY_ITEMS,
    RESULT_STRING_CHARS,
    ToolSimError,
    budgeted_schema,
    relevant_earlier,
    result_schema,
    result_size,
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
    assert "- booking_id (string)" in system and '"confirmed"' in system  # the return fields, as an outline
    assert "hotel_id (" not in system  # the call shows the arguments; the tool is its name and description
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


# -- results that fit the token limit ---------------------------------------------------------------

#: A wide RapidAPI-like return schema: 30 string fields in a list (real Weather and Mapping tools have more).
WIDE = Tool(id="x:wide", name="station_report", description="Readings of weather stations.",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            returns={"type": "object", "properties": {"stations": {"type": "array", "items": {
                "type": "object", "properties": {f"reading_{i}": {"type": "string"} for i in range(30)}}}}})


@pytest.mark.parametrize(("text", "value"), [
    ('{"hotels": [{"id": "H-1"}, {"id": "H-', {"hotels": [{"id": "H-1"}]}),  # the cut item dropped whole
    ('{"a": 1, "b": "half a str', {"a": 1}),
    ('{"a": [1, 2', {"a": [1]}),  # 2 may be the start of 25: dropped
    (r'{"a": "x,y\"}", "b": {"c": [true, {"d": "e', {"a": 'x,y"}', "b": {"c": [True]}}),  # quoted , and }
    ('```json\n{"a": {"b": [1, 2]}, "c": {"d": "ab', {"a": {"b": [1, 2]}}),
    ('{"a": ', None),  # nothing whole before the cut
    ("no json", None),
])
def test_a_cut_json_output_is_completed_by_rule(text, value):
    assert complete_truncated_json(text) == value


def test_completions_go_outwards_from_the_cut_item():
    cut = '{"hotels": [{"id": "H-1"}, {"id": "H-2", "name": "Ca'
    assert list(truncated_json_values(cut)) == [{"hotels": [{"id": "H-1"}, {"id": "H-2"}]},
                                                {"hotels": [{"id": "H-1"}]}]


async def test_a_result_cut_at_the_token_limit_is_trimmed_not_rejected():
    cut = '{"hotels": [{"hotel_id": "H-1", "name": "Roma Inn", "price": 90}, {"hotel_id": "H-2", "name": "Ca'
    llm = ScriptedLLM({"tool": [ChatReply(content=cut, finish_reason="length")]})
    result = await simulate(llm, TOOLS["search_hotels"], {"city": "Rome", "check_in": "2025-06-01"}, [],
                            max_repairs=0)
    assert result == {"hotels": [{"hotel_id": "H-1", "name": "Roma Inn", "price": 90}]}


async def test_a_cut_result_that_loses_a_required_field_is_re_asked():
    cut = '{"booking_id": "B-1", "status": "conf'  # `status` is required: trimming cannot save it
    llm = ScriptedLLM({"tool": [ChatReply(content=cut, finish_reason="length"),
                                '{"booking_id": "B-1", "status": "confirmed"}']})
    result = await simulate(llm, TOOLS["book_hotel"], {"hotel_id": "H1", "guests": 2}, [])
    assert result == {"booking_id": "B-1", "status": "confirmed"}
    assert "cut off" in llm.calls_for("tool")[1]["messages"][-1]["content"]
    with pytest.raises(ToolSimError, match="truncated"):
        await simulate(ScriptedLLM({"tool": [ChatReply(content=cut, finish_reason="length")]}), TOOLS["book_hotel"],
                       {"hotel_id": "H1", "guests": 2}, [], max_repairs=0)


def test_result_bounds_shrink_until_the_result_fits_the_token_limit():
    full = result_schema(WIDE)
    assert result_size(full) > 512 * CHARS_PER_TOKEN  # 2 items x 30 strings of 80 characters: too long
    fitted = budgeted_schema(WIDE, max_items=RESULT_ARRAY_ITEMS, max_chars=RESULT_STRING_CHARS, needed=None,
                             max_tokens=512)
    assert result_size(fitted) <= 512 * CHARS_PER_TOKEN
    stations = fitted["properties"]["stations"]
    assert stations["maxItems"] == 1 and MIN_RESULT_CHARS <= stations["items"]["properties"]["reading_0"]["maxLength"] < 80
    # a result that fits keeps its bounds; no limit, no change
    assert budgeted_schema(TOOLS["search_hotels"], max_items=2, max_chars=80, needed=None, max_tokens=512) == \
        result_schema(TOOLS["search_hotels"])
    assert budgeted_schema(WIDE, max_items=2, max_chars=80, needed=None, max_tokens=None) == full
    # a referenced list element keeps its index reachable however small the budget
    kept = budgeted_schema(WIDE, max_items=2, max_chars=80, needed={"stations.1.reading_3"}, max_tokens=64)
    assert kept["properties"]["stations"]["minItems"] == 2


async def test_the_tool_request_is_sized_by_the_token_limit():
    row = ", ".join(f'"reading_{i}": "r{i}"' for i in range(30))
    llm = ScriptedLLM({"tool": ['{"stations": [{' + row + '}]}']})
    await simulate(llm, WIDE, {"city": "Oslo"}, [], max_tokens=512)
    sent = llm.calls_for("tool")[0]["json_schema"]
    assert result_size(sent) <= 512 * CHARS_PER_TOKEN and sent != result_schema(WIDE)


def test_a_schema_too_wide_for_the_token_limit_requires_only_its_declared_fields():
    """A result of this schema cannot fit 512 tokens even at one item and short strings: every field was
    required, so a result cut at the limit had no completion the check took (tool_sim_failed)."""
    from toolflow.engine.synth.agents.tool_sim import budgeted_schema

    props = {f"reading_{i}": {"type": "number", "description": "a measurement"} for i in range(120)}
    wide = Tool(id="w", name="wide", description="Daily values.", parameters={"type": "object", "properties": {}},
                returns={"type": "object", "properties": props, "required": ["reading_0"]})
    schema = budgeted_schema(wide, max_items=2, max_chars=80, needed=None, max_tokens=512)
    assert schema["required"] == ["reading_0"]
    assert len(budgeted_schema(wide, max_items=2, max_chars=80, needed=None, max_tokens=None)["required"]) == 120


def test_a_return_schema_without_type_gets_its_implied_one():
    from toolflow.engine.synth.agents.tool_sim import result_schema

    listed = Tool(id="l", name="listed", description="Top 15.", parameters={"type": "object", "properties": {}},
                  returns={"items": {"properties": {"Magnitude": {"type": "string"}}}})
    assert result_schema(listed)["type"] == "array"
