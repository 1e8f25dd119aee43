"""Planner agent: semantic plan validation and the bounded repair re-ask."""

import json

import jsonschema
import pytest
from fake_llm import ScriptedLLM, fixture_tools
from strict import import_or_require

from toolflow.engine.llm.schema import compact_schema
from toolflow.engine.models import Plan
from toolflow.engine.synth.agents.planner import PlanError, make_plan, plan_schema, validate_plan

TOOLS = [t for t in fixture_tools() if t.name in ("search_hotels", "book_hotel")]

GOOD = {
    "scenario": "A traveller planning a weekend in Lisbon.",
    "turns": [
        {"kind": "tool_call", "intent": "find hotels in Lisbon from 2025-05-02", "tools": ["search_hotels"]},
        {"kind": "clarify", "intent": "book the cheapest one", "tools": ["book_hotel"], "depends_on": [0],
         "missing": ["guests"]},
        {"kind": "chitchat", "intent": "say thanks", "tools": []},
    ],
}


def test_valid_plan_has_no_problems():
    assert validate_plan(Plan.model_validate(GOOD), TOOLS) == []


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        ({"kind": "tool_call", "intent": "x", "tools": ["fly_to_moon"]}, "unknown tools"),
        ({"kind": "follow_up", "intent": "x", "tools": ["book_hotel"], "depends_on": [5]}, "earlier turns"),
        ({"kind": "follow_up", "intent": "x", "tools": ["book_hotel"]}, "must set depends_on"),
        ({"kind": "clarify", "intent": "x", "tools": ["book_hotel"], "missing": ["nights"]}, "not required"),
        ({"kind": "clarify", "intent": "x", "tools": ["book_hotel"]}, "list the left-out"),
        ({"kind": "multi_tool", "intent": "x", "tools": ["book_hotel"]}, "at least two"),
        ({"kind": "chitchat", "intent": "x", "tools": ["book_hotel"]}, "use no tools"),
        ({"kind": "tool_call", "intent": "call search_hotels please", "tools": ["search_hotels"]}, "names tools"),
    ],
)
def test_each_invalid_turn_is_reported(turn, expected):
    plan = Plan.model_validate({"turns": [GOOD["turns"][0], turn, GOOD["turns"][1]]})
    problems = validate_plan(plan, TOOLS)
    assert any(expected in p for p in problems), problems


def test_unused_tool_and_too_many_turns_are_reported():
    plan = Plan.model_validate({"turns": [GOOD["turns"][0]] * 3})
    problems = validate_plan(plan, TOOLS, max_turns=2)
    assert any("never used" in p and "book_hotel" in p for p in problems)
    assert any("at most 2" in p for p in problems)


def test_plain_word_tool_name_in_intent_is_fine():
    tools = [TOOLS[0].model_copy(update={"name": "search"})]
    plan = Plan.model_validate({"turns": [{"kind": "tool_call", "intent": "search for hotels", "tools": ["search"]}]})
    assert validate_plan(plan, tools) == []


async def test_invalid_plan_is_repaired_with_the_problems_fed_back():
    bad = {"turns": [{"kind": "follow_up", "intent": "book it", "tools": ["book_hotel"], "depends_on": [3]}]}
    llm = ScriptedLLM({"planner": [bad, GOOD]})
    plan = await make_plan(llm, TOOLS, target_turns=3, max_turns=6)
    assert plan == Plan.model_validate(GOOD)
    calls = llm.calls_for("planner")
    assert len(calls) == 2
    feedback = calls[1]["messages"][-1]["content"]
    assert "earlier turns" in feedback and "never used" in feedback
    assert calls[1]["messages"][-2]["role"] == "assistant"


async def test_plan_error_after_bounded_repairs():
    worse = {"turns": [{"kind": "tool_call", "intent": "find hotels", "tools": ["nope"]},
                       {"kind": "chitchat", "intent": "say thanks", "tools": ["book_hotel"]}]}
    bad = {"turns": [{"kind": "tool_call", "intent": "find hotels", "tools": ["nope"]}]}
    llm = ScriptedLLM({"planner": [worse, bad, bad, GOOD]})
    with pytest.raises(PlanError) as err:
        await make_plan(llm, TOOLS, target_turns=3, max_turns=6, max_repairs=2)
    assert len(llm.calls_for("planner")) == 3  # the first re-ask helped (fewer problems), so a second came
    assert any("unknown tools" in p for p in err.value.problems)


async def test_re_asking_stops_when_it_does_not_help():
    bad = {"turns": [{"kind": "tool_call", "intent": "find hotels", "tools": ["nope"]}]}
    llm = ScriptedLLM({"planner": [bad, bad, GOOD]})
    with pytest.raises(PlanError):
        await make_plan(llm, TOOLS, target_turns=3, max_turns=6, max_repairs=2)
    assert len(llm.calls_for("planner")) == 2


async def test_a_plan_of_non_sentences_is_not_re_asked():
    junk = {"scenario": "...", "turns": [
        {"kind": "tool_call", "intent": "... }, {", "tools": ["search_hotels"]},
        {"kind": "tool_call", "intent": "- - -", "tools": ["book_hotel"]},
        {"kind": "chitchat", "intent": "say thanks"}]}
    llm = ScriptedLLM({"planner": [junk, GOOD]})
    with pytest.raises(PlanError, match="plain"):
        await make_plan(llm, TOOLS, target_turns=3, max_turns=6, max_repairs=2)
    assert len(llm.calls_for("planner")) == 1


def test_placeholder_and_markup_intents_and_repeated_turns_are_problems():
    turns = [GOOD["turns"][0], {"kind": "chitchat", "intent": "- - -"},
             {"kind": "chitchat", "intent": "say [thanks] {here}"}, GOOD["turns"][0], GOOD["turns"][1]]
    problems = validate_plan(Plan.model_validate({"scenario": "...", "turns": turns}), TOOLS)
    assert any("turn 1" in p and "plain words" in p for p in problems)
    assert any("turn 2" in p and "no brackets" in p for p in problems)
    assert any("turn 3" in p and "repeats turn 0" in p for p in problems)
    assert any(p.startswith("scenario") for p in problems)


def test_plan_schema_pins_names_kinds_and_length():
    schema = plan_schema(TOOLS, 3)
    turns = schema["properties"]["turns"]
    assert turns["minItems"] == turns["maxItems"] == 3
    branches = turns["items"]["anyOf"]
    kinds = [b["properties"]["kind"]["const"] for b in branches]
    assert {"tool_call", "multi_tool", "follow_up", "clarify", "chitchat"} == set(kinds)
    follow = next(b for b in branches if b["properties"]["kind"]["const"] == "follow_up")
    assert follow["properties"]["depends_on"]["items"]["enum"] == [0, 1]
    assert follow["properties"]["depends_on"]["minItems"] == 1
    call = next(b for b in branches if b["properties"]["kind"]["const"] == "tool_call")
    assert call["properties"]["tools"]["items"]["enum"] == ["search_hotels", "book_hotel"]
    assert call["properties"]["tools"]["minItems"] == 1
    clarify = [b for b in branches if b["properties"]["kind"]["const"] == "clarify"]
    book = next(b for b in clarify if b["properties"]["tools"]["items"] == {"const": "book_hotel"})
    assert book["properties"]["missing"]["items"]["enum"] == ["hotel_id", "guests"]
    assert "follow_up" not in str(plan_schema(TOOLS, 1))  # a one-turn plan has nothing to follow up on
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(GOOD | {"turns": [dict(t, depends_on=t.get("depends_on", []), missing=t.get("missing", []))
                                          for t in GOOD["turns"]]}, schema)


def test_plan_schema_becomes_a_llama_cpp_grammar():
    grammar = import_or_require("llama_cpp.llama_grammar")
    text = grammar.json_schema_to_gbnf(json.dumps(compact_schema(plan_schema(TOOLS, 4))))
    assert '"\\"book_hotel\\""' in text and "turns-item" in text


async def test_the_request_carries_the_per_sample_schema():
    llm = ScriptedLLM({"planner": [GOOD]})
    await make_plan(llm, TOOLS, target_turns=3, max_turns=6)
    [call] = llm.calls_for("planner")
    assert call["json_schema"] == plan_schema(TOOLS, 3)


async def test_prompt_carries_tools_and_target_length():
    llm = ScriptedLLM({"planner": [GOOD]})
    await make_plan(llm, TOOLS, target_turns=3, max_turns=6)
    system = llm.calls_for("planner")[0]["messages"][0]["content"]
    assert "\n- book_hotel: Book a room" in system and "guests (integer, required)" in system and "about 3 user turns" in system and "$" not in system


async def test_unambiguous_slips_are_normalized_without_a_re_ask():
    sloppy = {"turns": [
        {"kind": "multi_tool", "intent": "hotels in Rome from 2025-06-01", "tools": ["Search_Hotels"],
         "missing": ["city"]},
        {"kind": "follow_up", "intent": "book the first for two", "tools": ["book_hotel", "book_hotel"]}]}
    llm = ScriptedLLM({"planner": [sloppy]})
    plan = await make_plan(llm, TOOLS, target_turns=2, max_turns=4)
    assert len(llm.calls) == 1
    first, second = plan.turns
    assert (first.kind, first.tools, first.missing) == ("tool_call", ["search_hotels"], [])
    assert (second.tools, second.depends_on) == (["book_hotel"], [0])
