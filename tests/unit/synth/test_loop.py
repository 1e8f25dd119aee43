"""The one-dialogue loop, branch by branch, with scripted agents."""

import json

from fake_llm import ScriptedLLM, fixture_tools, tool_call

from toolflow.engine import __version__
from toolflow.engine.llm.base import ChatReply
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import PlanTurn, Sample
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.loop import SynthConfig, plan_tool_choice, synthesize

ALL = {t.name: t for t in fixture_tools()}


def tools(*names):
    return [ALL[n] for n in names]


def sample(ts):
    return Sample(id="s1", tool_ids=[t.id for t in ts], strategy="test")


def calls(*pairs):
    return ChatReply(tool_calls=[tool_call(n, a, cid=f"srv{i}") for i, (n, a) in enumerate(pairs)],
                     finish_reason="tool_calls")


HOTELS = '{"hotels": [{"hotel_id": "H-77", "name": "Roma Inn", "price": 90}]}'
BOOKED = '{"booking_id": "B-1", "status": "confirmed"}'


def roles(d):
    return [m["role"] + ("*" if m.get("tool_calls") else "") for m in d.messages]


async def run(llm, ts, **cfg):
    """The loop's branches with intent-only plans (scripted arguments); blueprint plans: test_grounding.py."""
    cfg.setdefault("blueprint", False)
    return await synthesize(llm, sample(ts), ts, index=3, config=SynthConfig(seed=7, **cfg))


async def test_clarification_assistant_asks_user_supplies_then_call():
    ts = tools("search_hotels", "book_hotel")
    plan = {"scenario": "Trip to Rome", "turns": [
        {"kind": "tool_call", "intent": "find hotels in Rome from 2025-06-01", "tools": ["search_hotels"]},
        {"kind": "clarify", "intent": "book the cheapest hotel", "tools": ["book_hotel"], "depends_on": [0],
         "missing": ["guests"]}]}
    llm = ScriptedLLM({
        "planner": [plan],
        "user": [{"message": "Hotels in Rome from 2025-06-01?"}, {"message": "Book the cheapest one."},
                 {"message": "We are two."}],
        "assistant": [calls(("search_hotels", {"city": "Rome", "check_in": "2025-06-01"})), "Roma Inn, 90 EUR.",
                      "How many guests?", calls(("book_hotel", {"hotel_id": "H-77", "guests": 2})), "Booked: B-1."],
        "tool": [HOTELS, BOOKED],
    })
    d = await run(llm, ts)
    assert roles(d) == ["system", "user", "assistant*", "tool", "assistant", "user", "assistant", "user",
                        "assistant*", "tool", "assistant"]
    assert d.messages[7]["content"] == "We are two."
    assert "Give it now" in llm.calls_for("user")[2]["messages"][-1]["content"]
    assert d.checks.model_dump() == {"passed": True, "failed": [], "flags": []}
    assert [t["plan_turn"] for t in d.meta.turns] == [0, 1]


async def test_clarify_turn_where_assistant_guesses_is_flagged():
    ts = tools("book_hotel")
    plan = {"turns": [{"kind": "clarify", "intent": "book hotel H-1", "tools": ["book_hotel"],
                       "missing": ["guests"]}]}
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Book hotel H-1."}],
                       "assistant": [calls(("book_hotel", {"hotel_id": "H-1", "guests": 4})), "Done."],
                       "tool": [BOOKED]})
    d = await run(llm, ts)
    assert d.checks.passed and "clarify_not_asked: turn 0" in d.checks.flags


async def test_parallel_calls_in_one_assistant_message():
    ts = tools("get_forecast", "find_restaurants")
    plan = {"turns": [{"kind": "multi_tool", "intent": "weather and food near the Colosseum in Rome",
                       "tools": ["get_forecast", "find_restaurants"]}]}
    llm = ScriptedLLM({
        "planner": [plan], "user": [{"message": "Weather in Rome and a place to eat near the Colosseum?"}],
        "assistant": [calls(("get_forecast", {"city": "Rome"}), ("find_restaurants", {"near": "Colosseum"})),
                      "Sunny; try Luzzi."],
        "tool": ['{"city": "Rome", "forecast": ["sunny"]}', '{"results": ["Luzzi"]}'],
    })
    d = await run(llm, ts)
    assert roles(d) == ["system", "user", "assistant*", "tool", "tool", "assistant"]
    ids = [c["id"] for c in d.messages[2]["tool_calls"]]
    assert len(set(ids)) == 2 and all(len(i) == 9 and i.isalnum() for i in ids)
    assert [d.messages[3]["tool_call_id"], d.messages[4]["tool_call_id"]] == ids
    assert [d.messages[3]["name"], d.messages[4]["name"]] == ["get_forecast", "find_restaurants"]
    assert d.checks.passed, d.checks


async def _follow_up(hotel_id, **cfg):
    ts = tools("search_hotels", "book_hotel")
    plan = {"turns": [
        {"kind": "tool_call", "intent": "hotels in Rome from 2025-06-01", "tools": ["search_hotels"]},
        {"kind": "follow_up", "intent": "book the first hotel for 2", "tools": ["book_hotel"], "depends_on": [0]}]}
    llm = ScriptedLLM({
        "planner": [plan], "user": [{"message": "Hotels in Rome from 2025-06-01?"}, {"message": "Book the first, 2 of us."}],
        "assistant": [calls(("search_hotels", {"city": "Rome", "check_in": "2025-06-01"})), "Roma Inn.",
                      calls(("book_hotel", {"hotel_id": hotel_id, "guests": 2})), "Booked."],
        "tool": [HOTELS, BOOKED],
    })
    return llm, await run(llm, ts, **cfg)


async def test_follow_up_uses_earlier_result_and_tool_agent_sees_it():
    llm, d = await _follow_up("H-77")
    book_prompt = llm.calls_for("tool")[1]["messages"][1]["content"]
    assert "Roma Inn" in book_prompt and '"hotel_id":"H-77"' in book_prompt
    assert json.loads(d.messages[6]["tool_calls"][0]["function"]["arguments"])["hotel_id"] == "H-77"
    assert d.checks.model_dump() == {"passed": True, "failed": [], "flags": []}


async def test_follow_up_not_grounded_is_rejected_or_flagged_by_setting():
    _, d = await _follow_up("H-00")
    assert not d.checks.passed
    assert {c.split(":")[0] for c in d.checks.failed} == {"follow_up_not_grounded", "argument_not_sourced"}
    _, d = await _follow_up("H-00", flag_only=["follow_up_not_grounded", "argument_not_sourced"])
    assert d.checks.passed and d.checks.flags[0].startswith("follow_up_not_grounded: turn 1")


async def test_truncated_reply_stops_and_is_rejected():
    ts = tools("get_forecast")
    plan = {"turns": [{"kind": "tool_call", "intent": "weather in Oslo", "tools": ["get_forecast"]},
                      {"kind": "chitchat", "intent": "thanks"}]}
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Weather in Oslo?"}],
                       "assistant": [ChatReply(content="The weather in Oslo will be", finish_reason="length")]})
    d = await run(llm, ts)
    assert d.meta.stopped == "truncated"
    assert not d.checks.passed
    codes = {r.split(":")[0] for r in d.checks.failed}
    assert {"truncated", "plan_not_covered", "plan_turns_missing"} <= codes


async def test_endless_tool_calls_hit_max_steps():
    ts = tools("get_forecast")
    plan = {"turns": [{"kind": "tool_call", "intent": "weather in Oslo", "tools": ["get_forecast"]}]}
    loop = calls(("get_forecast", {"city": "Oslo"}))
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Weather in Oslo?"}],
                       "assistant": [loop] * 3, "tool": ['{"city": "Oslo", "forecast": []}'] * 3})
    d = await run(llm, ts, max_steps=3)
    assert d.meta.stopped == "max_steps"
    assert any(r.startswith("unfinished") for r in d.checks.failed)


async def test_invalid_plan_without_fallback_becomes_a_reject_without_turns():
    bad = {"turns": [{"kind": "tool_call", "intent": "x", "tools": ["nope"]}]}
    llm = ScriptedLLM({"planner": [bad] * 3})
    d = await run(llm, tools("get_forecast"), plan_fallback=False)
    assert roles(d) == ["system"]
    assert len(d.checks.failed) == 1 and d.checks.failed[0].startswith("plan_invalid:")
    assert not d.checks.passed  # and no "unfinished" noise: the plan failure explains it


async def test_invalid_plan_falls_back_to_the_sample_skeleton():
    ts = tools("search_hotels", "book_hotel")
    s = Sample(id="s1", tool_ids=[t.id for t in ts], path=[ts[0].id, ts[1].id], strategy="walk",
               edges=[{"source": ts[0].id, "target": ts[1].id, "type": "FEEDS", "score": 0.9,
                       "fields": ["hotel_id", "hotel_id"]}])
    bad = {"turns": [{"kind": "tool_call", "intent": "find a hotel", "tools": ["nope"]}]}
    intents = {"scenario": "A nurse planning a weekend in Rome.",
               "intents": ["Find me a hotel in Rome from 2025-06-01.", "Book the first one for two of us."]}
    llm = ScriptedLLM({
        "planner": [bad, bad, intents],
        "user": [{"message": "Hotels in Rome from 2025-06-01?"}, {"message": "Book the first, 2 of us."}],
        "assistant": [calls(("search_hotels", {"city": "Rome", "check_in": "2025-06-01"})), "Roma Inn.",
                      calls(("book_hotel", {"hotel_id": "H-77", "guests": 2})), "Booked."],
        "tool": [HOTELS, BOOKED],
    })
    d = await synthesize(llm, s, ts, index=3, config=SynthConfig(seed=7, target_turns=2, blueprint=False))
    assert d.checks.passed, d.checks
    assert (d.meta.plan_source, d.meta.plan_intents) == ("skeleton", "llm")
    assert d.meta.planner_problem.startswith("plan_invalid:")
    assert [(t.kind, t.tools, t.depends_on) for t in d.plan.turns] == [
        ("tool_call", ["search_hotels"], []), ("follow_up", ["book_hotel"], [0])]
    assert d.plan.scenario == "A nurse planning a weekend in Rome."
    assert "Rome from 2025-06-01" in llm.calls_for("user")[0]["messages"][-1]["content"]


async def test_llm_plan_is_recorded_as_such():
    plan = {"turns": [{"kind": "tool_call", "intent": "weather in Oslo", "tools": ["get_forecast"]}]}
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Weather in Oslo?"}],
                       "assistant": [calls(("get_forecast", {"city": "Oslo"})), "Rain."],
                       "tool": ['{"city": "Oslo", "forecast": ["rain"]}']})
    d = await run(llm, tools("get_forecast"))
    assert d.meta.plan_source == "llm" and d.meta.planner_problem is None


async def test_tool_simulation_failure_is_a_reject():
    plan = {"turns": [{"kind": "tool_call", "intent": "weather in Oslo", "tools": ["get_forecast"]}]}
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Weather in Oslo?"}],
                       "assistant": [calls(("get_forecast", {"city": "Oslo"}))], "tool": ["nope"] * 3})
    d = await run(llm, tools("get_forecast"))
    assert d.meta.stopped == "tool_sim_failed"
    assert any(r.startswith("tool_sim_failed: get_forecast") for r in d.checks.failed)


async def test_structured_output_error_is_a_reject_not_a_crash():
    llm = ScriptedLLM({"user": [StructuredOutputError("no valid JSON after 2 repairs")]})
    d = await run(llm, tools("get_forecast"), plan=False)
    assert any(r.startswith("llm_output_invalid") for r in d.checks.failed)


async def test_unusable_user_message_is_replaced_by_the_plan_intent():
    plan = {"turns": [{"kind": "tool_call", "intent": "What's the weather in Oslo tomorrow?", "tools": ["get_forecast"]}]}
    llm = ScriptedLLM({"planner": [plan], "user": [StructuredOutputError("no valid UserTurn")],
                       "assistant": [calls(("get_forecast", {"city": "Oslo"})), "Rain."],
                       "tool": ['{"city": "Oslo", "forecast": ["rain"]}']})
    d = await run(llm, tools("get_forecast"))
    assert d.messages[1] == {"role": "user", "content": "What's the weather in Oslo tomorrow?"}
    assert d.meta.user_fallbacks == 1 and d.checks.passed, d.checks


async def test_plan_guided_tool_choice():
    ts = tools("search_hotels")
    plan = {"turns": [
        {"kind": "clarify", "intent": "find hotels in Rome", "tools": ["search_hotels"], "missing": ["check_in"]},
        {"kind": "chitchat", "intent": "say thanks"}]}
    def script():
        return ScriptedLLM({
            "planner": [plan],
            "user": [{"message": "Any hotels in Rome?"}, {"message": "From 2025-06-01."}, {"message": "Thanks!"}],
            "assistant": ["From which date?", calls(("search_hotels", {"city": "Rome", "check_in": "2025-06-01"})),
                          "Roma Inn.", "You're welcome."],
            "tool": [HOTELS],
        })

    llm = script()
    d = await run(llm, ts)
    assert d.checks.passed, d.checks
    choices = [c["tool_choice"] for c in llm.calls_for("assistant")]
    allowed = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [
        {"type": "function", "function": {"name": "search_hotels"}}]}}
    assert choices == ["none", allowed, "none", "none"]  # ask first; call once answered; then answer in words
    unguided = script()
    await run(unguided, ts, guide_tools=False)
    assert [c["tool_choice"] for c in unguided.calls_for("assistant")] == ["auto"] * 4  # OpenAI's default, sent as is
    assert plan_tool_choice(None, set(), user_answered=False) == "auto"
    first_call = plan_tool_choice(PlanTurn(kind="tool_call", intent="x", tools=["search_hotels"]), set(),
                                  user_answered=False)
    assert first_call["allowed_tools"]["mode"] == "auto"


async def test_no_plan_user_improvises_and_may_finish():
    ts = tools("get_forecast")
    llm = ScriptedLLM({"user": [{"message": "Weather in Rome tomorrow?"}, {"message": "", "done": True}],
                       "assistant": [calls(("get_forecast", {"city": "Rome", "days": 1})), "Sunny."],
                       "tool": ['{"city": "Rome", "forecast": ["sunny"]}']})
    d = await run(llm, ts, plan=False, target_turns=3)
    assert d.plan is None and d.meta.plan is False
    assert llm.calls_for("planner") == []
    assert roles(d) == ["system", "user", "assistant*", "tool", "assistant"]
    assert d.checks.passed, d.checks


async def test_duplicate_tool_names_are_rejected_upfront():
    dup = ALL["get_forecast"].model_copy(update={"id": "other:get_forecast"})
    llm = ScriptedLLM({})
    d = await run(llm, [ALL["get_forecast"], dup])
    assert d.checks.failed[0].startswith("duplicate_tool_names") and llm.calls == []


async def test_id_and_meta_provenance():
    plan = {"turns": [{"kind": "chitchat", "intent": "say hello"}]}
    ts = tools("get_forecast")
    plan["turns"].append({"kind": "tool_call", "intent": "weather in Rome", "tools": ["get_forecast"]})
    llm = ScriptedLLM({"planner": [plan], "user": [{"message": "Hello!"}, {"message": "Weather in Rome?"}],
                       "assistant": ["Hi!", calls(("get_forecast", {"city": "Rome"})), "Sunny."],
                       "tool": ['{"city": "Rome", "forecast": ["sunny"]}']},
                      models={"planner": "big", "assistant": "mid"})
    d = await run(llm, ts, strategy="walk")
    assert d.id == dialogue_id(7, 3) == "dlg-" + __import__("hashlib").sha1(b"7:3").hexdigest()[:16]
    assert dialogue_id(7, 4) != d.id and dialogue_id(8, 3) != d.id
    m = d.meta.model_dump()
    assert m["models"]["planner"] == "big" and m["models"]["assistant"] == "mid" and m["models"]["tool"] == "unknown"
    assert m["tokens"]["assistant"]["requests"] == 3 and m["tokens"]["planner"]["requests"] == 1
    assert (m["toolflow_version"], m["seed"], m["index"], m["strategy"], m["plan"]) == (__version__, 7, 3, "walk", True)
    assert d.tools == [ALL["get_forecast"].openai_tool()]
    assert d.checks.passed, d.checks
