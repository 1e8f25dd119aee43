"""Scenario coverage: --mix parsing, reproducible shares over planned dialogues, plan shaping, and a
check per scenario that passes on a dialogue showing the scenario and fails on one that does not."""

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from fake_llm import AutoLLM, fixture_tools

from toolflow.engine.eval.ours import ours_metrics
from toolflow.engine.models import Dialogue, Meta, Plan, PlanTurn, Sample
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.seeds import rng_for
from toolflow.engine.synth.agents.skeleton import skeleton_plan
from toolflow.engine.synth.check_base import CheckInput
from toolflow.engine.synth.job import RunConfig, run_synthesis
from toolflow.engine.synth.scenario_checks import ScenarioShown
from toolflow.engine.synth.scenarios import MixError, parse_mix, scenario_for, shape_plan

TOOLS = {t.name: t for t in fixture_tools()}
MIX = "irrelevance=0.1,error=0.1,missing_function=0.1,missing_parameter=0.1,parallel=0.1,multi_step=0.1,long=0.1"


def test_parse_mix_resolves_aliases_and_rejects_bad_parts():
    assert parse_mix("error=0.2, long=0.1") == {"tool_error": 0.2, "long_results": 0.1}
    assert parse_mix("") == {}
    for bad, why in (("nonsense=0.1", "use NAME=SHARE"), ("error", "use NAME=SHARE"), ("error=x", "a number"),
                     ("error=1.5", "between 0 and 1"), ("error=0.6,parallel=0.6", "add up to 1.20")):
        with pytest.raises(MixError, match=why):
            parse_mix(bad)


def _sample(i: int) -> tuple[Sample, list]:
    """A combination holding a FEEDS-like chain (search → book) and independent tools, plus a random extra."""
    rng = rng_for(11, i, "test")
    names = ["search_hotels", "book_hotel", "get_forecast", "find_restaurants"]
    names += rng.sample(["convert_currency"], rng.randint(0, 1))
    rng.shuffle(names)
    tools = [TOOLS[n] for n in names]
    return Sample(id=f"smp-{i}", tool_ids=[t.id for t in tools], strategy="test"), tools


def test_mix_shares_hold_over_100_planned_dialogues():
    mix = parse_mix(MIX)
    assigned, planned = Counter(), Counter()
    for i in range(100):
        scenario = scenario_for(mix, 3, i)
        assigned[scenario] += 1
        sample, tools = _sample(i)
        plan = skeleton_plan(sample, tools, target_turns=4, max_turns=8, seed=3)
        shaped, _ = shape_plan(plan, scenario, tools, seed=3, key=i)
        planned[scenario if shaped is not None else "unplayable"] += 1
    for name, share in mix.items():
        assert abs(planned[name] / 100 - share) <= 0.05, (name, planned)
        assert assigned[name] == round(share * 100)
    assert [scenario_for(mix, 3, i) for i in range(100)] == [scenario_for(mix, 3, i) for i in range(100)]
    assert [scenario_for(mix, 3, i) for i in range(100)] != [scenario_for(mix, 4, i) for i in range(100)]


def _plan() -> Plan:
    return Plan(scenario="a trip", turns=[
        PlanTurn(kind="tool_call", intent="find hotels in Rome", tools=["search_hotels"]),
        PlanTurn(kind="follow_up", intent="book the first", tools=["book_hotel"], depends_on=[0]),
        PlanTurn(kind="tool_call", intent="weather in Rome", tools=["get_forecast"]),
        PlanTurn(kind="tool_call", intent="food near the hotel", tools=["find_restaurants"])])


def test_shaping_per_scenario():
    tools = [TOOLS[n] for n in ("search_hotels", "book_hotel", "get_forecast", "find_restaurants")]
    plan, withheld = shape_plan(_plan(), "irrelevance", tools, seed=0, key="a")
    assert [t.kind for t in plan.turns] == ["unserved"] and withheld == plan.turns[0].withheld
    assert plan.turns[0].tools == [] and withheld[0] != "book_hotel"  # a turn nobody depends on
    plan, withheld = shape_plan(_plan(), "missing_function", tools, seed=0, key="a")
    assert plan.turns[3].kind == "unserved" and withheld == ["find_restaurants"]
    plan, _ = shape_plan(_plan(), "parallel", tools, seed=0, key="a")
    assert [t.kind for t in plan.turns].count("multi_tool") == 1 and len(plan.turns) == 3
    assert plan.turns[1].depends_on == [0]
    plan, _ = shape_plan(_plan(), "tool_error", tools, seed=0, key="a")
    assert sum(t.fault == "error" for t in plan.turns) == 1
    plan, _ = shape_plan(_plan(), "missing_parameter", tools, seed=0, key="a")
    clarify = [t for t in plan.turns if t.kind == "clarify"]
    assert len(clarify) == 1 and clarify[0].missing[0] in TOOLS[clarify[0].tools[0]].required
    single = Plan(turns=[PlanTurn(kind="tool_call", intent="x", tools=["get_forecast"])])
    assert shape_plan(single, "multi_step", tools[:1], seed=0, key="a") == (None, [])
    assert shape_plan(single, "irrelevance", [TOOLS["get_forecast"]], seed=0, key="a") == (None, [])
    assert "withheld" not in single.model_dump()["turns"][0]  # standard plans serialize as before


def _dialogue(scenario: str, turns: list[PlanTurn], messages: list[dict], tools=("get_forecast",)) -> Dialogue:
    log, start, t = [], 1, -1
    for i, m in enumerate(messages, start=1):
        if m["role"] == "user" and not m.get("answer"):
            if t >= 0:
                log.append({"plan_turn": t, "start": start, "end": i})
            t, start = t + 1, i
    log.append({"plan_turn": t, "start": start, "end": len(messages) + 1})
    return Dialogue(id="d", tools=[TOOLS[n].openai_tool() for n in tools], plan=Plan(turns=turns),
                    messages=[{"role": "system", "content": "s"}, *messages],
                    sample=Sample(id="s", tool_ids=[], strategy="t"),
                    meta=Meta(index=0, seed=0, strategy="t", plan=True, turns=log, scenario=scenario))


def _call(name: str, args: dict, cid: str = "c1") -> dict:
    return {"role": "assistant", "content": None,
            "tool_calls": [{"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}


def _codes(d: Dialogue) -> set[str]:
    return {v.reason.value for v in ScenarioShown()(CheckInput(d))}


def test_unserved_turn_must_decline_without_a_call():
    turn = [PlanTurn(kind="unserved", intent="book a flight", withheld=["book_hotel"])]
    ask = {"role": "user", "content": "Can you book me a hotel room in Rome?"}
    ok = _dialogue("irrelevance", turn, [ask, {"role": "assistant", "content": "Sorry, I cannot book rooms."}])
    assert _codes(ok) == set()
    said_yes = _dialogue("irrelevance", turn, [ask, {"role": "assistant", "content": "Here you are: done."}])
    assert _codes(said_yes) == {"scenario_unserved_not_declined"}
    called = _dialogue("irrelevance", turn, [ask, _call("get_forecast", {"city": "Rome"}),
                                             {"role": "tool", "tool_call_id": "c1", "content": "{}"},
                                             {"role": "assistant", "content": "Booked."}])
    assert _codes(called) == {"scenario_unserved_called", "scenario_irrelevance_called"}
    offered = _dialogue("missing_function", turn, [ask, {"role": "assistant", "content": "I can't do that."}],
                        tools=("get_forecast", "book_hotel"))
    assert _codes(offered) == {"scenario_withheld_offered"}


def test_tool_error_needs_a_different_retry_or_an_explanation():
    turn = [PlanTurn(kind="tool_call", intent="weather", tools=["get_forecast"], fault="error")]
    ask = {"role": "user", "content": "Weather in Rome?"}
    err = {"role": "tool", "tool_call_id": "c1", "name": "get_forecast",
           "content": json.dumps({"error": {"code": "INVALID_ARGUMENT", "message": "city not accepted"}})}
    retry_ok = [ask, _call("get_forecast", {"city": "rome"}), err, _call("get_forecast", {"city": "Rome, IT"}, "c2"),
                {"role": "tool", "tool_call_id": "c2", "content": '{"forecast": ["sun"]}'},
                {"role": "assistant", "content": "Sunny."}]
    assert _codes(_dialogue("tool_error", turn, retry_ok)) == set()
    same = [*retry_ok[:3], _call("get_forecast", {"city": "rome"}, "c2"), *retry_ok[4:]]
    assert _codes(_dialogue("tool_error", turn, same)) == {"scenario_error_same_retry"}
    explained = [*retry_ok[:3], {"role": "assistant", "content": "Sorry, the weather service failed."}]
    assert _codes(_dialogue("tool_error", turn, explained)) == set()
    ignored = [*retry_ok[:3], {"role": "assistant", "content": "It will be sunny."}]
    assert _codes(_dialogue("tool_error", turn, ignored)) == {"scenario_error_ignored"}
    no_error = [ask, _call("get_forecast", {"city": "Rome"}), {**err, "content": '{"forecast": []}'},
                {"role": "assistant", "content": "Nothing."}]
    assert _codes(_dialogue("tool_error", turn, no_error)) == {"scenario_error_missing"}


def test_parallel_multi_step_clarify_and_long_results_checks():
    par_turn = [PlanTurn(kind="multi_tool", intent="x", tools=["get_forecast", "find_restaurants"])]
    two = {"role": "assistant", "content": None, "tool_calls": [
        _call("get_forecast", {"city": "Rome"})["tool_calls"][0],
        _call("find_restaurants", {"near": "Trevi"}, "c2")["tool_calls"][0]]}
    ask = {"role": "user", "content": "Weather in Rome and food near Trevi?"}
    results = [{"role": "tool", "tool_call_id": "c1", "content": "{}"},
               {"role": "tool", "tool_call_id": "c2", "content": "{}"}, {"role": "assistant", "content": "ok"}]
    tools = ("get_forecast", "find_restaurants")
    assert _codes(_dialogue("parallel", par_turn, [ask, two, *results], tools)) == set()
    one_by_one = [ask, _call("get_forecast", {"city": "Rome"}), results[0],
                  _call("find_restaurants", {"near": "Trevi"}, "c2"), *results[1:]]
    assert _codes(_dialogue("parallel", par_turn, one_by_one, tools)) == {"scenario_parallel_missing"}

    chain = [PlanTurn(kind="tool_call", intent="x", tools=["search_hotels"]),
             PlanTurn(kind="follow_up", intent="y", tools=["book_hotel"], depends_on=[0])]
    msgs = [{"role": "user", "content": "Hotels in Rome from 2026-05-01?"},
            _call("search_hotels", {"city": "Rome", "check_in": "2026-05-01"}),
            {"role": "tool", "tool_call_id": "c1", "content": '{"hotels": [{"hotel_id": "H-7781"}]}'},
            {"role": "assistant", "content": "Found one."}, {"role": "user", "content": "Book it for 2 guests."},
            _call("book_hotel", {"hotel_id": "H-7781", "guests": 2}, "c2"),
            {"role": "tool", "tool_call_id": "c2", "content": '{"ok": true}'}, {"role": "assistant", "content": "Done"}]
    names = ("search_hotels", "book_hotel")
    assert _codes(_dialogue("multi_step", chain, msgs, names)) == set()
    unchained = [*msgs[:5], _call("book_hotel", {"hotel_id": "H-0000", "guests": 2}, "c2"), *msgs[6:]]
    assert _codes(_dialogue("multi_step", chain, unchained, names)) == {"scenario_multi_step_unchained"}

    clar = [PlanTurn(kind="clarify", intent="x", tools=["get_forecast"], missing=["city"])]
    asked = [{"role": "user", "content": "What's the weather?"}, {"role": "assistant", "content": "Which city?"},
             {"role": "user", "content": "Rome", "answer": True}, _call("get_forecast", {"city": "Rome"}),
             {"role": "tool", "tool_call_id": "c1", "content": "{}"}, {"role": "assistant", "content": "Sun."}]
    assert _codes(_dialogue("missing_parameter", clar, asked)) == set()
    assert _codes(_dialogue("missing_parameter", clar, [asked[0], *asked[3:]])) == {"scenario_clarify_not_asked"}

    long_turn = [PlanTurn(kind="tool_call", intent="x", tools=["find_restaurants"])]
    big = json.dumps({"results": [f"Trattoria number {i} near the fountain" for i in range(40)]})
    base = [{"role": "user", "content": "Food near Trevi?"}, _call("find_restaurants", {"near": "Trevi"}),
            {"role": "tool", "tool_call_id": "c1", "content": big}]
    summary = {"role": "assistant", "content": "Forty trattorias; the closest is number 0."}
    assert _codes(_dialogue("long_results", long_turn, [*base, summary], ("find_restaurants",))) == set()
    pasted = {"role": "assistant", "content": big}
    assert _codes(_dialogue("long_results", long_turn, [*base, pasted], ("find_restaurants",))) == {
        "scenario_long_result_not_summarized"}
    short = [*base[:2], {**base[2], "content": '{"results": ["Zia"]}'}, summary]
    assert _codes(_dialogue("long_results", long_turn, short, ("find_restaurants",))) == {
        "scenario_long_result_missing"}


def test_synth_run_with_a_mix_plays_and_counts_scenarios(tmp_path):
    tools = fixture_tools()
    out = tmp_path / "d.jsonl"
    mix = parse_mix("irrelevance=0.25,error=0.25,long=0.25")
    config = RunConfig(n=20, out=out, seed=1, mix=mix)
    summary = asyncio.run(run_synthesis(AutoLLM(tools), FileSampleSource(tools), config, show_progress=False))
    expected = Counter(scenario_for(mix, 1, i) for i in range(20))
    assert {k: sum(v.values()) for k, v in summary.scenarios.items()} == dict(expected)
    records = [json.loads(line) for p in (out, config.rejects_path) for line in p.read_text().splitlines()]
    assert Counter(r["meta"].get("scenario", "standard") for r in records) == expected
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    rejects = [json.loads(line) for line in config.rejects_path.read_text().splitlines()]
    assert ours_metrics(kept, rejects).scenarios == dict(sorted(summary.scenarios.items()))  # `toolflow eval`
    for r in records:
        scenario = r["meta"].get("scenario")
        offered = {t["function"]["name"] for t in r["tools"]}
        if scenario == "irrelevance" and r["messages"]:
            assert not any(m.get("tool_calls") for m in r["messages"])
            assert not set(r["meta"]["scenario_withheld"]) & offered
        if scenario == "tool_error" and r.get("plan") and any(m.get("tool_calls") for m in r["messages"]):
            assert any('"INVALID_ARGUMENT"' in (m.get("content") or "") for m in r["messages"] if m["role"] == "tool")


def test_synth_cli_rejects_a_bad_mix_in_one_line(tmp_path):
    from click.testing import CliRunner

    from toolflow.engine.cli.synth import synth

    tools = Path(__file__).parents[2] / "support" / "fixtures" / "synth" / "tools.jsonl"
    result = CliRunner().invoke(synth, ["-n", "1", "--out", str(tmp_path / "d.jsonl"), "--tools", str(tools),
                                        "--mix", "irrelevance=0.7,error=0.7"])
    assert result.exit_code == 2 and "--mix: the shares add up to 1.40; at most 1" in result.output
    assert not (tmp_path / "d.jsonl").exists()
