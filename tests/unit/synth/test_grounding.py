"""Grounded dialogues: call blueprints, agents that play them, and the checks that verify them.

Scripted fakes, one case per argument source kind (user, result, clarify, default), a clarify turn, a
follow-up that uses a list element of an earlier result, and a mismatched call that is repaired, or
rejected when the repair does not fix it.
"""

from __future__ import annotations

import contextlib
import json

from fake_llm import ScriptedLLM, fixture_tools, tool_call

from toolflow.engine.llm.base import ChatReply
from toolflow.engine.llm.settings import LLMSettings
from toolflow.engine.llm.tool_calls import emulation_schema
from toolflow.engine.models import ArgSource, Plan, PlannedCall, Sample, Tool
from toolflow.engine.synth.agents.tool_sim import missing_paths, result_schema
from toolflow.engine.synth.agents.user import insert_values, mentions_value
from toolflow.engine.synth.blueprint import (
    build_blueprint,
    return_paths,
    validate_blueprint,
    value_at,
)
from toolflow.engine.synth.checks import check_dialogue, reason_code
from toolflow.engine.synth.export_rows import hf_row, to_openai
from toolflow.engine.synth.loop import SynthConfig, synthesize
from toolflow.engine.synth.user_values import user_value

ALL = {t.name: t for t in fixture_tools()}
HOTELS = {"hotels": [{"hotel_id": "H-77", "name": "Roma Inn", "price": 90},
                     {"hotel_id": "H-78", "name": "Casa Blu", "price": 120}]}
BOOKED = {"booking_id": "B-1", "status": "confirmed"}

#: A tool with a required non-string parameter that has a schema default: the `default` source.
UNITS = Tool(id="x:units", name="weather_units", description="Weather for a city in chosen units.",
             parameters={"type": "object", "properties": {
                 "city": {"type": "string", "description": "City name"},
                 "metric": {"type": "boolean", "default": True, "description": "Metric units"}},
                 "required": ["city", "metric"]},
             returns={"type": "object", "properties": {"temp": {"type": "number"}}})


def sample(ts: list[Tool], feeds: bool = True) -> Sample:
    edges = [{"source": ts[0].id, "target": ts[1].id, "type": "FEEDS", "score": 0.9,
              "fields": ["hotel_id", "hotel_id"]}] if feeds and len(ts) > 1 else []
    return Sample(id="s1", tool_ids=[t.id for t in ts], path=[t.id for t in ts], strategy="walk", edges=edges)


def hotel_plan(kind0: str = "tool_call", missing: list[str] | None = None) -> Plan:
    return Plan.model_validate({"scenario": "A trip.", "turns": [
        {"kind": kind0, "intent": "Find me a hotel for my trip.", "tools": ["search_hotels"],
         "missing": missing or []},
        {"kind": "tool_call", "intent": "Book the first hotel you found.", "tools": ["book_hotel"]}]})


def test_blueprint_sources_user_result_and_list_element() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = build_blueprint(hotel_plan(), sample(ts), ts, seed=7)
    assert validate_blueprint(plan, ts) == []
    search, book = plan.turns[0].calls[0], plan.turns[1].calls[0]
    assert {a: s.source for a, s in search.arguments.items()} == {"city": "user", "check_in": "user"}
    assert isinstance(search.arguments["city"].value, str) and len(search.arguments["city"].value) >= 3
    assert search.arguments["check_in"].value[:4].isdigit()  # a date, from the description's YYYY-MM-DD
    assert book.arguments["hotel_id"] == ArgSource(source="result", call=0, path="hotels.0.hotel_id")
    assert book.arguments["guests"].source == "user" and isinstance(book.arguments["guests"].value, int)
    # the turn that uses an earlier result is a follow-up of the turn that made it
    assert (plan.turns[1].kind, plan.turns[1].depends_on) == ("follow_up", [0])
    assert value_at(HOTELS, "hotels.0.hotel_id") == "H-77"
    # deterministic per seed
    assert build_blueprint(hotel_plan(), sample(ts), ts, seed=7) == plan


def test_blueprint_result_by_name_without_feeds_evidence_and_clarify_and_default() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = build_blueprint(hotel_plan("clarify", ["city"]), sample(ts, feeds=False), ts, seed=1)
    assert plan.turns[0].calls[0].arguments["city"].source == "clarify"
    assert plan.turns[1].calls[0].arguments["hotel_id"].source == "result"  # same field name
    units = build_blueprint(Plan.model_validate({"turns": [
        {"kind": "tool_call", "intent": "Weather please.", "tools": ["weather_units"]}]}),
        sample([UNITS]), [UNITS], seed=1)
    assert units.turns[0].calls[0].arguments["metric"] == ArgSource(source="default", value=True)
    assert validate_blueprint(units, [UNITS]) == []


def test_follow_up_without_any_earlier_value_becomes_a_tool_call() -> None:
    ts = [ALL["search_hotels"], ALL["get_forecast"]]
    plan = Plan.model_validate({"turns": [
        {"kind": "tool_call", "intent": "Hotels please.", "tools": ["search_hotels"]},
        {"kind": "follow_up", "intent": "And the weather there.", "tools": ["get_forecast"], "depends_on": [0]}]})
    out = build_blueprint(plan, sample(ts, feeds=False), ts, seed=3)
    assert (out.turns[1].kind, out.turns[1].depends_on) == ("tool_call", [])


def test_validate_blueprint_names_bad_sources() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = build_blueprint(hotel_plan(), sample(ts), ts, seed=7)
    bad = plan.model_copy(deep=True)
    bad.turns[1].calls[0].arguments["hotel_id"] = ArgSource(source="result", call=1, path="hotels.0.hotel_id")
    bad.turns[0].calls[0].arguments["check_in"] = ArgSource(source="user", value=5)
    bad.turns[0].calls[0].arguments.pop("city")
    bad.turns[1].calls.append(PlannedCall(tool="book_hotel", arguments={
        "hotel_id": ArgSource(source="result", call=0, path="hotels.0.nope"), "guests": ArgSource(source="user", value=2)}))
    problems = "\n".join(validate_blueprint(bad, ts))
    assert "not of an earlier turn" in problems
    assert "'check_in' value 5 is not a string" in problems
    assert "required argument 'city' has no source" in problems
    assert "returns no field 'hotels.0.nope'" in problems


def test_user_values_are_concrete_and_generic() -> None:
    import random

    rng = random.Random(0)
    assert user_value("country_code", {"type": "string", "description": "ISO code, e.g. PT"}, rng) == "PT"
    assert user_value("unit", {"type": "string", "enum": ["c", "f"]}, rng) in ("c", "f")
    assert user_value("lang", {"type": "string", "default": "en"}, rng) == "en"
    email = user_value("email", {"type": "string"}, rng)
    assert "@" in email
    assert 1 <= user_value("days", {"type": "integer", "minimum": 1, "maximum": 3}, rng) <= 3


def test_user_fallback_inserts_left_out_values() -> None:
    text, added = insert_values("Book it please", [("guests", 2), ("city", "Lisbon"), ("check in", "2026-05-12")])
    assert added == 3 and mentions_value(text, 2) and "Lisbon" in text and "2026-05-12" in text
    text, added = insert_values("Two of us, 2 guests, in lisbon.", [("guests", 2), ("city", "Lisbon")])
    assert added == 0
    assert not mentions_value("in 2012", 12)


def test_emulated_reply_schema_pins_planned_values() -> None:
    fn = ALL["book_hotel"].openai_tool()["function"]
    schema = emulation_schema([fn], mode="required", pinned={"book_hotel": {"hotel_id": "H-77", "guests": 2}})
    args = schema["properties"]["tool_calls"]["items"]["properties"]["arguments"]
    assert args["properties"] == {"hotel_id": {"const": "H-77"}, "guests": {"const": 2}}
    assert args["additionalProperties"] is False and set(args["required"]) == {"hotel_id", "guests"}


def test_result_schema_makes_referenced_fields_usable_and_caps_per_backend() -> None:
    tool = ALL["search_hotels"]
    schema = result_schema(tool, max_items=5, max_chars=300, needed={"hotels.1.hotel_id"})
    hotels = schema["properties"]["hotels"]
    assert hotels["minItems"] == 2 and hotels["maxItems"] == 5
    assert hotels["items"]["properties"]["hotel_id"]["minLength"] == 3
    assert hotels["items"]["properties"]["hotel_id"]["pattern"].startswith("^")  # a grammar enforces anchored ones
    assert missing_paths({"hotels": [{}, {"hotel_id": ");\n  ...}];"}]}, {"hotels.1.hotel_id"})  # leaked markup
    assert not missing_paths({"hotels": [{}, {"hotel_id": "H-77 B"}]}, {"hotels.1.hotel_id"})
    assert hotels["items"]["properties"]["name"]["maxLength"] == 300
    assert missing_paths({"hotels": [{"hotel_id": "H-1"}]}, {"hotels.1.hotel_id"}) == ["hotels.1.hotel_id"]
    assert missing_paths({"hotels": [{"hotel_id": "H-1"}, {"hotel_id": ""}]}, {"hotels.1.hotel_id"})
    assert ("hotels.0.hotel_id", {"type": "string"}) in return_paths(tool.returns)
    local, remote = LLMSettings(backend="llama_cpp").for_role("tool"), LLMSettings().for_role("tool")
    assert (local.result_items, local.result_chars) == (2, 80)
    assert (remote.result_items, remote.result_chars) == (5, 300)
    mixed = LLMSettings(model="gpt-x", roles={"tool": {}}).with_local_endpoint("http://127.0.0.1:1/v1")
    assert mixed.for_role("tool").result_items == 5  # the tool role has a model: not the local profile
    assert LLMSettings().with_local_endpoint("http://127.0.0.1:1/v1").for_role("tool").result_items == 2


# -- the loop plays the blueprint -----------------------------------------------------------------------


def calls(*pairs) -> ChatReply:
    return ChatReply(tool_calls=[tool_call(n, a, cid=f"srv{i}") for i, (n, a) in enumerate(pairs)],
                     finish_reason="tool_calls")


def planned_values(plan: Plan, ts: list[Tool], turn: int) -> dict[str, object]:
    bp = build_blueprint(plan, sample(ts), ts, seed=7)
    return {a: s.value for a, s in bp.turns[turn].calls[0].arguments.items()}


async def play(llm: ScriptedLLM, ts: list[Tool], **cfg):
    return await synthesize(llm, sample(ts), ts, index=3, config=SynthConfig(seed=7, **cfg))


async def test_follow_up_passes_a_list_element_of_an_earlier_result_with_provenance() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = hotel_plan()
    first, second = planned_values(plan, ts, 0), planned_values(plan, ts, 1)
    llm = ScriptedLLM({
        "planner": [plan.model_dump()],
        # the user agent drops the values: the fallback appends them to its message
        "user": [{"message": "I need a hotel.", "done": False}, {"message": "Book the first one.", "done": False}],
        "assistant": [calls(("search_hotels", first)), "Roma Inn or Casa Blu.",
                      calls(("book_hotel", {"hotel_id": "H-77", "guests": second["guests"]})), "Booked: B-1."],
        "tool": [HOTELS, BOOKED],
    })
    d = await play(llm, ts)
    assert d.checks.passed, d.checks
    assert first["city"] in d.messages[1]["content"] and first["check_in"] in d.messages[1]["content"]
    assert d.meta.user_values_inserted == 3  # city, check-in date, guests
    # on a grammar backend the planned values are pinned; result values once the result exists
    pins = [c["arguments"] for c in llm.calls_for("assistant")]
    assert pins[0] == {"search_hotels": first}
    # every value is stated: the assistant calls at once instead of asking again
    assert llm.calls_for("assistant")[0]["tool_choice"]["allowed_tools"]["mode"] == "required"
    assert pins[2] == {"book_hotel": {"hotel_id": "H-77", "guests": second["guests"]}}
    # the tool agent must fill the field the follow-up takes
    schema = llm.calls_for("tool")[0]["json_schema"]
    assert schema["properties"]["hotels"]["items"]["properties"]["hotel_id"]["minLength"] == 3
    prov = d.meta.provenance
    assert prov[1]["arguments"]["hotel_id"] == {"source": "result", "call": 0, "path": "hotels.0.hotel_id",
                                                "value": "H-77", "evidence": "result", "found_in": 3,
                                                "result_of": d.messages[2]["tool_calls"][0]["id"]}
    assert prov[0]["arguments"]["city"]["source"] == prov[0]["arguments"]["city"]["evidence"] == "user"
    assert d.plan.turns[1].calls[0].arguments["hotel_id"].path == "hotels.0.hotel_id"  # blueprint in the record
    assert d.meta.blueprint is True
    # the exports keep provenance and the blueprint
    record = json.loads(d.model_dump_json())
    assert to_openai(record)["provenance"] == record["meta"]["provenance"]
    assert json.loads(hf_row(record)["plan"])["turns"][1]["calls"][0]["tool"] == "book_hotel"
    assert "provenance" in json.loads(hf_row(record)["meta"])


async def test_clarify_turn_withholds_then_gives_the_value() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = hotel_plan("clarify", ["check_in"])
    first, second = planned_values(plan, ts, 0), planned_values(plan, ts, 1)
    llm = ScriptedLLM({
        "planner": [plan.model_dump()],
        "user": [{"message": "I need a hotel.", "done": False}, {"message": "Oh, sure.", "done": False},
                 {"message": "Book the first one.", "done": False}],
        "assistant": ["When do you arrive?", calls(("search_hotels", first)), "Roma Inn.",
                      calls(("book_hotel", {"hotel_id": "H-77", "guests": second["guests"]})), "Booked."],
        "tool": [HOTELS, BOOKED],
    })
    d = await play(llm, ts)
    assert d.checks.passed, d.checks
    assert first["check_in"] not in d.messages[1]["content"]  # withheld in the first message
    assert first["city"] in d.messages[1]["content"]
    assert first["check_in"] in d.messages[3]["content"]  # given once asked
    assert llm.calls_for("assistant")[0]["tool_choice"] == "none"
    assert d.meta.provenance[0]["arguments"]["check_in"]["source"] == "clarify"
    assert "clarify_not_asked" not in " ".join(d.checks.flags)


async def test_mismatched_call_is_repaired_once() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = hotel_plan()
    first, second = planned_values(plan, ts, 0), planned_values(plan, ts, 1)
    good = {"hotel_id": "H-77", "guests": second["guests"]}
    llm = ScriptedLLM({
        "planner": [plan.model_dump()],
        "user": [{"message": "I need a hotel.", "done": False}, {"message": "Book the first one.", "done": False}],
        "assistant": [calls(("search_hotels", first)), "Roma Inn.",
                      calls(("book_hotel", {**good, "hotel_id": "H-99"})), calls(("book_hotel", good)), "Booked."],
        "tool": [HOTELS, BOOKED],
    })
    d = await play(llm, ts)
    assert d.checks.passed, d.checks
    repair = llm.calls_for("assistant")[3]["messages"][0]["content"]
    assert "book_hotel.hotel_id is 'H-99', expected 'H-77' (the result of call 0 at hotels.0.hotel_id)" in repair


async def test_mismatched_call_that_stays_wrong_is_rejected_with_the_reason() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    plan = hotel_plan()
    first, second = planned_values(plan, ts, 0), planned_values(plan, ts, 1)
    wrong = calls(("book_hotel", {"hotel_id": "H-99", "guests": second["guests"]}))
    llm = ScriptedLLM({
        "planner": [plan.model_dump()],
        "user": [{"message": "I need a hotel.", "done": False}, {"message": "Book the first one.", "done": False}],
        "assistant": [calls(("search_hotels", first)), "Roma Inn.", wrong, wrong],
        "tool": [HOTELS],
    })
    d = await play(llm, ts)
    assert not d.checks.passed and d.meta.stopped == "call_mismatch"
    assert any(r.startswith("call_mismatch: book_hotel.hotel_id is 'H-99'") for r in d.checks.failed)


async def test_intent_only_plans_stay_available_and_unsourced_values_are_rejected_or_flagged() -> None:
    ts = [ALL["get_forecast"]]
    plan = {"turns": [{"kind": "tool_call", "intent": "Weather where I am.", "tools": ["get_forecast"]}]}

    def script() -> ScriptedLLM:
        return ScriptedLLM({"planner": [plan], "user": [{"message": "What's the weather like?", "done": False}],
                            "assistant": [calls(("get_forecast", {"city": "myCity"})), "Sunny."],
                            "tool": [{"city": "myCity", "forecast": ["sun"]}]})

    d = await play(script(), ts, blueprint=False)
    assert d.plan.turns[0].calls == [] and d.meta.blueprint is False
    assert [reason_code(r) for r in d.checks.failed] == ["argument_not_sourced"]
    assert d.meta.provenance[0]["arguments"]["city"] == {"value": "myCity", "evidence": "unsourced"}
    d = await play(script(), ts, blueprint=False, flag_only=["argument_not_sourced"])
    assert d.checks.passed and reason_code(d.checks.flags[0]) == "argument_not_sourced"
    assert reason_code(check_dialogue(d).failed[0]) == "argument_not_sourced"  # the default is to reject


def test_result_sources_number_calls_across_a_multi_tool_turn() -> None:
    ts = [ALL["get_forecast"], ALL["search_hotels"], ALL["book_hotel"]]
    plan = Plan.model_validate({"turns": [
        {"kind": "multi_tool", "intent": "Weather and hotels, please.", "tools": ["get_forecast", "search_hotels"]},
        {"kind": "follow_up", "intent": "Book the first hotel.", "tools": ["book_hotel"], "depends_on": [0]}]})
    out = build_blueprint(plan, sample(ts, feeds=False), ts, seed=2)
    assert out.turns[1].calls[0].arguments["hotel_id"] == ArgSource(source="result", call=1, path="hotels.0.hotel_id")
    assert validate_blueprint(out, ts) == []


async def test_skeleton_intents_are_written_for_the_planned_values() -> None:
    ts = [ALL["search_hotels"], ALL["book_hotel"]]
    bad = {"turns": [{"kind": "tool_call", "intent": "find a hotel", "tools": ["nope"]}]}
    llm = ScriptedLLM({"planner": [bad, bad, bad, {"scenario": "x"}], "user": [], "assistant": []})
    with contextlib.suppress(AssertionError):  # the scripts end once the intents were asked for
        await play(llm, ts, plan_repairs=0, target_turns=2)
    brief = next(c for c in llm.calls_for("planner") if c["name"] == "Intents")["messages"][0]["content"]
    planned = build_blueprint(Plan.model_validate({"turns": [
        {"kind": "tool_call", "intent": "x x x x", "tools": ["search_hotels"]}]}), sample(ts), ts, seed=7)
    assert planned.turns[0].calls[0].arguments["city"].value in brief


def test_made_up_dates_of_one_call_ascend_in_parameter_order() -> None:
    trip = Tool(id="x:trip", name="book_trip", description="Book a trip.",
                parameters={"type": "object", "properties": {
                    "start_date": {"type": "string", "description": "YYYY-MM-DD"},
                    "end_date": {"type": "string", "description": "YYYY-MM-DD"}}, "required": ["start_date", "end_date"]})
    for seed in range(12):
        plan = build_blueprint(Plan.model_validate({"turns": [
            {"kind": "tool_call", "intent": "Book my trip.", "tools": ["book_trip"]}]}), sample([trip]), [trip], seed=seed)
        args = plan.turns[0].calls[0].arguments
        assert args["start_date"].value <= args["end_date"].value
