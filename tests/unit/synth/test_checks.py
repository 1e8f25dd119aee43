"""Checks on hand-made good and bad dialogues, and the near-duplicate index."""

import copy

import pytest
from fake_llm import fixture_tools

from toolflow.engine.models import Checks, Dialogue, Plan, Sample
from toolflow.engine.synth.checks import (
    NearDuplicateIndex,
    check_dialogue,
    dedup_text,
    reason_code,
    validate_against,
)

ALL = {t.name: t for t in fixture_tools()}


def call(cid, name, args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def good() -> Dialogue:
    return Dialogue(
        id="dlg-x",
        tools=[ALL["search_hotels"].openai_tool(), ALL["book_hotel"].openai_tool()],
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Any hotels in Rome from 2025-06-01?"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c1", "search_hotels", '{"city": "Rome", "check_in": "2025-06-01"}')]},
            {"role": "tool", "tool_call_id": "c1", "name": "search_hotels",
             "content": '{"hotels": [{"hotel_id": "H-77", "name": "Roma Inn", "price": 90}]}'},
            {"role": "assistant", "content": "Roma Inn, 90 EUR a night."},
            {"role": "user", "content": "Book it for the two of us."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c2", "book_hotel", '{"hotel_id": "H-77", "guests": 2}')]},
            {"role": "tool", "tool_call_id": "c2", "name": "book_hotel",
             "content": '{"booking_id": "B1", "status": "confirmed"}'},
            {"role": "assistant", "content": "Booked, reference B1."},
        ],
        plan=Plan.model_validate({"turns": [
            {"kind": "tool_call", "intent": "hotels in Rome", "tools": ["search_hotels"]},
            {"kind": "follow_up", "intent": "book it", "tools": ["book_hotel"], "depends_on": [0]}]}),
        sample=Sample(id="s", tool_ids=["a", "b"], strategy="t"),
        meta={"index": 0, "seed": 0, "strategy": "t", "plan": True, "turns": [{"plan_turn": 0, "start": 1, "end": 5}, {"plan_turn": 1, "start": 5, "end": 9}],
              "finish_reasons": [None, None, "tool_calls", None, "stop", None, "tool_calls", None, "stop"]},
    )


def codes(d: Dialogue) -> set[str]:
    return {reason_code(r) for r in check_dialogue(d).failed}


def test_good_dialogue_passes():
    assert check_dialogue(good()).model_dump() == {"passed": True, "failed": [], "flags": []}


def mutate(fn):
    d = good()
    d.messages = copy.deepcopy(d.messages)
    fn(d)
    return d


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.messages[6]["tool_calls"][0]["function"].update(name="cancel_hotel"), "unknown_tool"),
        (lambda d: d.messages[6]["tool_calls"][0]["function"].update(
            arguments='{"hotel_id": "H-77", "guests": "two"}'), "bad_arguments"),
        (lambda d: d.messages[6]["tool_calls"][0]["function"].update(arguments='{"hotel_id": "H-77"}'),
         "missing_required"),
        (lambda d: d.messages[6]["tool_calls"][0]["function"].update(arguments='{"hotel_id": '),
         "bad_arguments_json"),
        (lambda d: d.messages.insert(5, {"role": "tool", "tool_call_id": "zz", "content": "{}"}),
         "orphan_tool_message"),
        (lambda d: d.messages.insert(4, dict(d.messages[3])), "duplicate_tool_message"),
        (lambda d: d.messages.pop(7), "unanswered_call"),
        (lambda d: d.messages[6]["tool_calls"][0].update(id="c1"), "bad_call_id"),
        (lambda d: d.messages[5].update(content="Now run book_hotel with it."), "tool_name_in_user"),
        (lambda d: d.messages[5].update(content="   "), "empty_turn"),
        (lambda d: d.messages[4].update(content=""), "empty_turn"),
        (lambda d: d.meta.finish_reasons.__setitem__(8, "length"), "truncated"),
        (lambda d: d.messages.pop(), "unfinished"),
        (lambda d: [d.messages.pop() for _ in range(4)], "plan_not_covered"),
    ],
)
def test_each_defect_is_caught(change, expected):
    d = mutate(change)
    result = check_dialogue(d)
    assert not result.passed
    assert expected in codes(d), result.failed


def test_plan_turn_without_user_message():
    d = good()
    d.meta.turns = d.meta.turns[:1]
    assert "plan_turns_missing" in codes(d)


def test_param_name_in_user_text_is_only_a_flag():
    d = mutate(lambda d: d.messages[5].update(content="Book it, my hotel_id is H-77."))
    result = check_dialogue(d)
    assert result.passed and result.flags == ["param_name_in_user: ['hotel_id'] in message 5"]


def test_plain_word_tool_names_in_user_text_are_fine():
    d = good()
    d.tools[0]["function"]["name"] = "search"
    d.messages[2]["tool_calls"][0]["function"]["name"] = "search"
    d.messages[3]["name"] = "search"
    d.plan.turns[0].tools = ["search"]
    d.messages[1]["content"] = "Can you search hotels in Rome from 2025-06-01?"
    assert check_dialogue(d).passed, check_dialogue(d)


def test_loop_failures_are_kept():
    d = good()
    d.checks = Checks(failed=["tool_sim_failed: x"])
    assert check_dialogue(d).failed == ["tool_sim_failed: x"]


def test_alias_types_and_broken_schemas():
    missing, errors, ok = validate_against(
        {"type": "dict", "properties": {"n": {"type": "float"}, "tags": {"type": "tuple"}}, "required": ["n"]},
        {"n": "x", "tags": [1]})
    assert ok and missing == [] and len(errors) == 1 and "n:" in errors[0]
    missing, errors, ok = validate_against({"type": "object", "properties": {"a": {"minLength": "x"}},
                                            "required": ["a"]}, {})
    assert not ok and missing == ["a"] and errors == []


def test_near_duplicates():
    idx = NearDuplicateIndex(threshold=0.9)
    base = ("I am flying to Rome on the first of June and need a quiet hotel near the station, "
            "then a table for two at a good trattoria close to the Colosseum on Saturday evening, "
            "and finally the weather forecast for the whole weekend so I can pack properly.")
    assert idx.check_and_add("a", base) is None
    assert idx.check_and_add("b", base.upper() + "!!") == "a"  # same normalized text
    assert idx.check_and_add("c", base.replace("properly", "properly today")) == "a"  # near-identical
    assert idx.check_and_add("d", "Weather in Oslo on Monday, and the exchange rate for NOK to EUR?") is None
    assert len(idx) == 2
    again = NearDuplicateIndex(threshold=0.9)
    assert again.signature(base) == idx.signature(base)  # deterministic across instances/processes


def test_dedup_text_uses_user_messages_only():
    assert dedup_text(good()) == "Any hotels in Rome from 2025-06-01?\nBook it for the two of us."
    assert dedup_text(good().model_dump()) == dedup_text(good())
