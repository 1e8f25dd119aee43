"""Planner agent: semantic plan validation and the bounded repair re-ask."""

import pytest
from fake_llm import ScriptedLLM, fixture_tools
from toolflow.engine.agents.planner import PlanError, make_plan, validate_plan
from toolflow.engine.models import Plan

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
    bad = {"turns": [{"kind": "tool_call", "intent": "x", "tools": ["nope"]}]}
    llm = ScriptedLLM({"planner": [bad, bad, bad, GOOD]})
    with pytest.raises(PlanError) as err:
        await make_plan(llm, TOOLS, target_turns=3, max_turns=6, max_repairs=2)
    assert len(llm.calls_for("planner")) == 3
    assert any("unknown tools" in p for p in err.value.problems)


async def test_prompt_carries_tools_and_target_length():
    llm = ScriptedLLM({"planner": [GOOD]})
    await make_plan(llm, TOOLS, target_turns=3, max_turns=6)
    system = llm.calls_for("planner")[0]["messages"][0]["content"]
    assert '"name": "book_hotel"' in system and "about 3 user turns" in system and "$" not in system


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
