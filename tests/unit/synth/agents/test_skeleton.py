"""Plan skeletons: the fallback plan built from the sample's walk, its intents, and its templates."""

import pytest
from fake_llm import ScriptedLLM

from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import EdgeTaken, Sample, Tool
from toolflow.engine.synth.agents.planner import validate_plan
from toolflow.engine.synth.agents.skeleton import plan_from_skeleton, skeleton_plan, template_intent
from toolflow.engine.synth.leak_checks import pasted_description


def tool(name: str, desc: str, required: list[str]) -> Tool:
    props = {p: {"type": "string", "description": p.replace("_", " ")} for p in [*required, "note"]}
    return Tool(id=f"ex:{name}", name=name, description=desc,
                parameters={"type": "object", "properties": props, "required": required})


SEARCH = tool("search_restaurants", "Find restaurants in a city by cuisine.", ["city"])
RESERVE = tool("reserve_table", "Reserve a table at a restaurant.", ["restaurant_id", "date"])
HOTELS = tool("search_hotels", "Search hotels in a city for given dates.", ["city", "check_in"])
FORECAST = tool("get_weather_forecast", "Daily weather forecast for a location given by coordinates.", [])
TOOLS = [RESERVE, SEARCH, HOTELS]


def edge(src: Tool, dst: Tool, kind: str, field: str) -> EdgeTaken:
    return EdgeTaken(source=src.id, target=dst.id, type=kind, score=0.9, fields=[field, field])


# the walk went reserve_table <- search_restaurants -> search_hotels: path order is not data-flow order
SAMPLE = Sample(id="walk-1", tool_ids=[t.id for t in TOOLS], path=[RESERVE.id, SEARCH.id, HOTELS.id],
                edges=[edge(SEARCH, RESERVE, "FEEDS", "restaurant_id"), edge(SEARCH, HOTELS, "SHARES_INPUT", "city")],
                strategy="walk")


@pytest.mark.parametrize("seed", range(12))
def test_skeleton_is_valid_and_follows_the_data_flow(seed):
    plan = skeleton_plan(SAMPLE, TOOLS, target_turns=4, max_turns=8, seed=seed)
    assert validate_plan(plan, TOOLS, max_turns=8) == []
    turn_of = {n: i for i, t in enumerate(plan.turns) for n in t.tools}
    assert turn_of["search_restaurants"] < turn_of["reserve_table"]
    reserve = plan.turns[turn_of["reserve_table"]]
    assert reserve.kind == "follow_up" and reserve.depends_on == [turn_of["search_restaurants"]]
    for t in plan.turns:
        if t.kind == "clarify":  # a value the user would type, never the one an earlier result feeds
            assert not t.depends_on and t.missing[0] != "restaurant_id"
        if t.kind == "multi_tool":
            assert set(t.tools) == {"search_restaurants", "search_hotels"}
    assert skeleton_plan(SAMPLE, TOOLS, target_turns=4, max_turns=8, seed=seed) == plan  # deterministic


def test_skeleton_varies_kinds_over_seeds_and_pads_short_plans_with_chitchat():
    plans = [skeleton_plan(SAMPLE, TOOLS, target_turns=5, max_turns=8, seed=s) for s in range(20)]
    kinds = {t.kind for p in plans for t in p.turns}
    assert {"tool_call", "follow_up", "multi_tool", "clarify", "chitchat"} <= kinds
    padded = [p.turns[-1].kind == "chitchat" for p in plans]
    assert any(padded) and not all(padded)  # a closing chitchat turn on some plans, not all
    exact = skeleton_plan(SAMPLE, TOOLS, target_turns=2, max_turns=8, seed=0)
    assert all(t.kind != "chitchat" for t in exact.turns)


def test_more_tools_than_turns_are_folded_into_multi_tool_turns():
    plan = skeleton_plan(SAMPLE, TOOLS, target_turns=1, max_turns=1, seed=0)
    assert len(plan.turns) == 1 and sorted(plan.turns[0].tools) == sorted(t.name for t in TOOLS)
    assert validate_plan(plan, TOOLS, max_turns=1) == []


def test_sample_without_edges_and_names_as_ids():
    sample = Sample(id="rnd", tool_ids=["search_hotels", "get_weather_forecast"], strategy="random")
    plan = skeleton_plan(sample, [HOTELS, FORECAST], target_turns=3, max_turns=8, seed=1)
    assert validate_plan(plan, [HOTELS, FORECAST]) == []


def test_template_intents_describe_without_tool_names():
    plan = skeleton_plan(SAMPLE, TOOLS, target_turns=4, max_turns=8, seed=3)
    by_name = {t.name: t for t in TOOLS}
    for turn in plan.turns:
        text = template_intent(turn, by_name)
        assert turn.intent == text and not any(n in text for n in by_name)
    follow = next(t for t in plan.turns if t.kind == "follow_up")
    assert "reserve table" in follow.intent and "earlier" in follow.intent
    assert not any(pasted_description(turn.intent, t.description) for turn in plan.turns for t in TOOLS)


async def test_llm_writes_the_intents_into_the_fixed_structure():
    skeleton = skeleton_plan(SAMPLE, TOOLS, target_turns=3, max_turns=8, seed=0)
    n = len(skeleton.turns)
    good = {"scenario": "A food blogger spending a weekend in Porto.",
            "intents": [f"Something concrete for turn {i + 1} in Porto." for i in range(n)]}
    llm = ScriptedLLM({"planner": [good]})
    plan, source = await plan_from_skeleton(llm, SAMPLE, TOOLS, target_turns=3, max_turns=8, seed=0)
    assert source == "llm" and plan.scenario == good["scenario"]
    assert [t.intent for t in plan.turns] == good["intents"]
    assert [(t.kind, t.tools) for t in plan.turns] == [(t.kind, t.tools) for t in skeleton.turns]
    [call] = llm.calls_for("planner")
    schema = call["json_schema"]["properties"]["intents"]
    assert schema["minItems"] == schema["maxItems"] == n
    prompt = call["messages"][0]["content"]
    assert "reserve a table at a restaurant (using the result of turn" in prompt
    assert "reserve_table" not in prompt


@pytest.mark.parametrize("answer", [
    StructuredOutputError("garbage"),
    {"scenario": "A food blogger.", "intents": ["call reserve_table now", "a", "b", "c"]},  # names a tool
    {"scenario": "A food blogger.", "intents": ["[turn 1]", "a b", "c d", "e f"]},  # placeholder
    {"scenario": "A food blogger.", "intents": ["only one"]},  # wrong count
])
async def test_intents_fall_back_to_templates(answer):
    llm = ScriptedLLM({"planner": [answer]})
    plan, source = await plan_from_skeleton(llm, SAMPLE, TOOLS, target_turns=4, max_turns=8, seed=1)
    assert source == "template"
    assert plan == skeleton_plan(SAMPLE, TOOLS, target_turns=4, max_turns=8, seed=1)


def test_name_level_data_flow_orders_tools_the_walk_only_connected_by_shared_inputs():
    search = Tool(id="ex:search_hotels", name="search_hotels", description="Search hotels in a city.",
                  parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                  returns={"type": "object", "properties": {"hotels": {"type": "array", "items": {
                      "type": "object", "properties": {"hotel_id": {"type": "string"}}}}}})
    book = Tool(id="ex:book_hotel", name="book_hotel", description="Reserve a room in a hotel.",
                parameters={"type": "object", "properties": {"hotel_id": {"type": "string"},
                                                             "check_in": {"type": "string"}},
                            "required": ["hotel_id", "check_in"]})
    # the walk went book -> search over a shared input; nothing says the search feeds the booking
    sample = Sample(id="w", tool_ids=[book.id, search.id], path=[book.id, search.id], strategy="walk",
                    edges=[EdgeTaken(source=book.id, target=search.id, type="SHARES_INPUT", score=1.0,
                                     fields=["check_in", "check_in"])])
    for seed in range(10):
        plan = skeleton_plan(sample, [book, search], target_turns=2, max_turns=8, seed=seed)
        assert [t.tools for t in plan.turns[:2]] == [["search_hotels"], ["book_hotel"]]
        assert plan.turns[1].depends_on == [0] and plan.turns[1].missing == []
        assert validate_plan(plan, [book, search]) == []


async def test_intents_that_copy_a_tool_description_fall_back_to_the_template():
    skeleton = skeleton_plan(SAMPLE, TOOLS, target_turns=3, max_turns=8, seed=0)
    by_name = {t.name: t for t in TOOLS}
    first = skeleton.turns[0]
    desc = by_name[first.tools[0]].description if first.tools else "Reserve a table at a restaurant."
    intents = [f"Tool description: {desc}"] + [f"Something concrete for turn {i + 1}." for i in range(1, len(skeleton.turns))]
    llm = ScriptedLLM({"planner": [{"scenario": "A food blogger in Porto.", "intents": intents}]})
    plan, source = await plan_from_skeleton(llm, SAMPLE, TOOLS, target_turns=3, max_turns=8, seed=0)
    assert source == "template" and not any(desc in t.intent for t in plan.turns)
