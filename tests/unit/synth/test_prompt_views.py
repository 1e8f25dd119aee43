"""What each role's request leaves out (bench/synth_tokens.py measures the tokens this saves): the assistant's
view of earlier turns, the user's transcript window, the tool agent's return-field outline, the planner's
shortened tool list and the emulated prompt of a call whose values are pinned."""

from __future__ import annotations

import json

from fake_llm import fixture_tools

from toolflow.engine.llm.tool_calls import emulation_prompt
from toolflow.engine.models import Tool
from toolflow.engine.synth.agents.prompting import PLANNER_ARGUMENT_CHARS, tool_list, transcript
from toolflow.engine.synth.agents.tool_sim import fields_outline
from toolflow.engine.synth.turns import assistant_view

CALL = {"id": "c1", "type": "function", "function": {"name": "search_hotels", "arguments": '{"city": "Rome"}'}}
MESSAGES = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "Hotels in Rome?"},                     # turn 0: 1..4
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "c1", "name": "search_hotels", "content": '{"hotels": ["Roma Inn"]}'},
    {"role": "assistant", "content": "Roma Inn is free."},
    {"role": "user", "content": "And the weather?"},                    # turn 1: 5..6
    {"role": "assistant", "content": "Sunny."},
    {"role": "user", "content": "Book the Roma Inn."},                  # turn 2 (current): 7..
]
LOG = [{"plan_turn": 0, "start": 1, "end": 5}, {"plan_turn": 1, "start": 5, "end": 7}]


def test_assistant_view_drops_earlier_calls_unless_the_turn_builds_on_them():
    view = assistant_view(MESSAGES, LOG, keep=set())
    assert [m["role"] for m in view] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert not any(m.get("tool_calls") or m["role"] == "tool" for m in view)
    assert view[-1] == MESSAGES[-1] and view[2]["content"] == "Roma Inn is free."
    whole = assistant_view(MESSAGES, LOG, keep={0})  # the booking builds on turn 0: its call and result stay
    assert whole[:5] == MESSAGES[:5] and len(whole) == len(MESSAGES) - 0
    assert assistant_view(MESSAGES, [], keep=set()) == MESSAGES  # nothing finished: everything is current


def test_user_transcript_keeps_the_latest_lines():
    text = transcript(MESSAGES, last=2)
    assert text.splitlines() == ["(earlier messages left out)", "ASSISTANT: Sunny.", "USER: Book the Roma Inn."]
    assert "Hotels in Rome?" in transcript(MESSAGES)  # the whole conversation by default


def test_fields_outline_names_every_field_with_type_and_description():
    schema = {"type": "object", "properties": {
        "hotels": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "description": "Hotel  name"},
            "stars": {"type": "integer", "enum": [3, 4, 5]}}}},
        "total": {"type": "integer"}}}
    lines = fields_outline(schema).splitlines()
    assert lines == ["- hotels (array of object)", "- total (integer)", "- hotels[].name (string): Hotel name",
                     "- hotels[].stars (one of 3, 4, 5)"]
    assert fields_outline(schema, limit=2).splitlines()[-1] == "(and 2 more fields)"
    assert fields_outline({"type": "object"}) == "any JSON object"


def test_planner_tool_list_shortens_descriptions_but_keeps_every_argument():
    long = "x" * 500
    tool = Tool(id="t", name="find", description=long, parameters={
        "type": "object", "properties": {"city": {"type": "string", "description": long}}, "required": ["city"]})
    text = tool_list([tool])
    assert "city (string, required)" in text and "x" * (PLANNER_ARGUMENT_CHARS + 1) not in text.split("city")[1]
    assert len(text) < 400


def test_emulated_prompt_shows_pinned_values_instead_of_parameters():
    fn = next(t for t in fixture_tools() if t.required).openai_tool()["function"]
    values = {k: "v" for k in fn["parameters"]["required"]}
    pinned = emulation_prompt([fn], {fn["name"]: values})
    assert f"arguments: {json.dumps(values, separators=(',', ':'))}" in pinned
    assert "required" not in pinned.split("\n")[2] and len(pinned) < len(emulation_prompt([fn]))


def test_a_reply_the_grammar_fixes_is_not_asked_for():
    """Required, one tool, once, every argument pinned: the one reply the emulation schema admits."""
    import jsonschema

    from toolflow.engine.llm.tool_calls import emulation_schema, fixed_call

    fn = next(t for t in fixture_tools() if t.required).openai_tool()["function"]
    values = {k: "v" for k in fn["parameters"]["required"]}
    fixed = fixed_call({fn["name"]: fn}, mode="required", max_calls=1, pinned={fn["name"]: values})
    assert fixed == {"tool_calls": [{"name": fn["name"], "arguments": values}]}
    jsonschema.validate(fixed, emulation_schema([fn], mode="required", max_calls=1, pinned={fn["name"]: values}))
    # the model still chooses: words or a call (auto), how many calls, or free arguments
    assert fixed_call({fn["name"]: fn}, mode="auto", max_calls=1, pinned={fn["name"]: values}) is None
    assert fixed_call({fn["name"]: fn}, mode="required", max_calls=None, pinned={fn["name"]: values}) is None
    assert fixed_call({fn["name"]: fn}, mode="required", max_calls=1, pinned=None) is None
