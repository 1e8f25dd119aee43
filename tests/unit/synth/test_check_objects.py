"""Checks as objects: each declares the codes it may emit and keeps to them, the runner keeps check order,
a fatal rejection stops the rest, a last-resort check speaks only when nothing else rejected."""

from __future__ import annotations

import pytest

from tests.unit.synth.test_checks import good, mutate
from toolflow.engine.models import Checks
from toolflow.engine.synth.check_base import CheckInput, run_checks
from toolflow.engine.synth.checks import DIALOGUE_CHECKS, EndsInAnswer, HasMessages, check_dialogue
from toolflow.engine.synth.reasons import Reason, Verdict

CHANGES = [
    lambda d: d.messages[6]["tool_calls"][0]["function"].update(name="cancel_hotel"),
    lambda d: d.messages[6]["tool_calls"][0]["function"].update(arguments='{"hotel_id": '),
    lambda d: d.messages[6]["tool_calls"][0]["function"].update(arguments='{"guests": 2}'),
    lambda d: d.messages.insert(5, {"role": "tool", "tool_call_id": "zz", "content": "{}"}),
    lambda d: d.messages[5].update(content="Now run book_hotel with the hotel_id."),
    lambda d: d.messages[7].update(name="other"),
    lambda d: d.messages[4].update(content=""),
    lambda d: [d.messages.pop() for _ in range(4)],
    lambda d: d.messages.clear(),
]


def test_verdict_record_form() -> None:
    assert str(Verdict.reject(Reason.UNKNOWN_TOOL, "'x'")) == "unknown_tool: 'x'"
    assert Verdict.flag(Reason.TOOL_NAME_MISMATCH, "c1").ok and not Verdict.reject(Reason.TRUNCATED, "").ok


def test_checks_have_unique_names_and_registered_reasons() -> None:
    names = [c.name for c in DIALOGUE_CHECKS]
    assert len(set(names)) == len(names)
    assert all(c.reasons and all(isinstance(r, Reason) for r in c.reasons) for c in DIALOGUE_CHECKS)


@pytest.mark.parametrize("change", CHANGES)
def test_each_check_emits_only_its_declared_reasons(change) -> None:
    subject = CheckInput(mutate(change))
    emitted = []
    for check in DIALOGUE_CHECKS:
        if not subject.dialogue.messages and not isinstance(check, HasMessages):
            continue
        verdicts = check(subject)
        assert all(v.reason in check.reasons for v in verdicts), (check.name, verdicts)
        emitted += verdicts
    assert emitted, "every change is caught by some check"


def test_fatal_check_stops_the_run_and_last_resort_waits() -> None:
    empty = CheckInput(mutate(lambda d: d.messages.clear()))
    assert [str(v) for v in run_checks(empty, DIALOGUE_CHECKS)] == ["empty_dialogue: no messages"]
    unfinished = CheckInput(mutate(lambda d: d.messages.pop()))
    assert [v.reason for v in run_checks(unfinished, [EndsInAnswer()])] == [Reason.UNFINISHED]
    assert run_checks(unfinished, [EndsInAnswer()], rejected_before=True) == []


def test_check_dialogue_keeps_earlier_failures_and_record_strings() -> None:
    d = good()
    d.checks = Checks(passed=False, failed=["tool_sim_failed: x"])
    assert check_dialogue(d).failed == ["tool_sim_failed: x"]
    bad = mutate(lambda d: d.messages[6]["tool_calls"][0]["function"].update(name="cancel_hotel"))
    assert "unknown_tool: 'cancel_hotel'" in check_dialogue(bad).failed
