"""What each scenario (:mod:`scenarios`) must show in the played dialogue; a dialogue that does not show
it is rejected with a ``scenario_*`` reason, like any other failed check.

- unserved turns (irrelevance, missing_function): no call in the turn, the withheld tool not offered,
  and a text reply that declines (says it cannot, has no way to, …);
- tool_error: the planned error happened, and after it the assistant either calls again with other
  arguments or answers in words that own the failure;
- missing_parameter: the assistant asks before calling in the clarify turn;
- parallel: one assistant message with two or more calls;
- multi_step: a call whose argument value is found in an earlier tool result;
- long_results: a result of at least :data:`LONG_RESULT_MIN_CHARS`, answered in fewer characters than
  half of it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolflow.engine.models import Dialogue
from toolflow.engine.synth.check_base import Check, CheckInput
from toolflow.engine.synth.reasons import Reason, Verdict

#: Words that say "I cannot do that" (the assistant's side of an unserved request or a failed call).
DECLINE = re.compile(
    r"\b(can ?not|can't|cannot|unable|not able|don't have|do not have|no (way|tool|access|function)|"
    r"not (possible|available|supported)|isn't (possible|available)|unfortunately|sorry|afraid|"
    r"failed|error|went wrong|didn't work|did not work|try again)\b", re.IGNORECASE)
LONG_RESULT_MIN_CHARS = 800


def _window(d: Dialogue, turn_index: int) -> list[dict[str, Any]]:
    for entry in d.meta.turns:
        if entry.get("plan_turn") == turn_index and entry.get("start") is not None:
            return d.messages[entry["start"]:entry.get("end")]
    return []


def _texts(window: list[dict[str, Any]]) -> list[str]:
    return [m.get("content") or "" for m in window if m.get("role") == "assistant" and not m.get("tool_calls")]


def _unserved(d: Dialogue) -> list[Verdict]:
    out: list[Verdict] = []
    offered = {(t.get("function", t)).get("name") for t in d.tools}
    for i, turn in enumerate(d.plan.turns if d.plan else []):
        if turn.kind != "unserved":
            continue
        if leaked := [n for n in turn.withheld if n in offered]:
            out.append(Verdict.reject(Reason.SCENARIO_WITHHELD_OFFERED, f"turn {i}: {leaked} is in the dialogue's tools"))
        window = _window(d, i)
        if any(m.get("tool_calls") for m in window if m.get("role") == "assistant"):
            out.append(Verdict.reject(Reason.SCENARIO_UNSERVED_CALLED,
                                      f"turn {i} calls a tool for a request no shown tool serves"))
        elif not any(DECLINE.search(t) for t in _texts(window)):
            out.append(Verdict.reject(Reason.SCENARIO_UNSERVED_NOT_DECLINED,
                                      f"turn {i}: the assistant does not say it cannot do it"))
    return out


def _error_turn(d: Dialogue, i: int) -> Verdict | None:
    window = _window(d, i)
    failed_at = next((k for k, m in enumerate(window) if m.get("role") == "tool"
                      and '"error"' in str(m.get("content"))), None)
    if failed_at is None:
        return Verdict.reject(Reason.SCENARIO_ERROR_MISSING, f"turn {i}: the planned tool error never happened")
    failed = window[failed_at]
    call = next((c for m in window[:failed_at] for c in m.get("tool_calls") or []
                 if c.get("id") == failed.get("tool_call_id")), None)
    after = window[failed_at + 1:]
    retry = next((c for m in after if m.get("role") == "assistant" for c in m.get("tool_calls") or []
                  if call and (c.get("function") or {}).get("name") == (call.get("function") or {}).get("name")),
                 None)
    if retry is not None and call is not None and _args(retry) == _args(call):
        return Verdict.reject(Reason.SCENARIO_ERROR_SAME_RETRY,
                              f"turn {i} retries {failed.get('name')} with the same arguments")
    if retry is None and not any(DECLINE.search(t) for t in _texts(after)):
        return Verdict.reject(Reason.SCENARIO_ERROR_IGNORED,
                              f"turn {i}: no retry, and the answer does not mention the failure")
    return None


def _args(call: dict[str, Any]) -> Any:
    raw = (call.get("function") or {}).get("arguments")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def _long_results(d: Dialogue) -> Verdict | None:
    results = [(k, len(m.get("content") or "")) for k, m in enumerate(d.messages) if m.get("role") == "tool"]
    long = [(k, n) for k, n in results if n >= LONG_RESULT_MIN_CHARS]
    if not long:
        return Verdict.reject(Reason.SCENARIO_LONG_RESULT_MISSING, f"no result reaches {LONG_RESULT_MIN_CHARS} characters")
    k, n = long[0]
    answer = next((m.get("content") or "" for m in d.messages[k + 1:]
                   if m.get("role") == "assistant" and not m.get("tool_calls")), "")
    if not answer.strip() or len(answer) * 2 > n:
        return Verdict.reject(Reason.SCENARIO_LONG_RESULT_NOT_SUMMARIZED,
                              f"the answer after message {k} ({len(answer)} chars) is not under half the result "
                              f"({n} chars)")
    return None


def _shape(d: Dialogue, scenario: str, evidence: list[dict[str, Any]]) -> list[Verdict | None]:
    """The dialogue-wide marks of a scenario (one verdict or None each)."""
    out: list[Verdict | None] = []
    if scenario == "irrelevance" and any(m.get("tool_calls") for m in d.messages):
        out.append(Verdict.reject(Reason.SCENARIO_IRRELEVANCE_CALLED, "an irrelevance dialogue has a tool call"))
    if scenario == "missing_parameter" and d.plan is not None:
        for i, t in enumerate(d.plan.turns):
            first = next((m for m in _window(d, i) if m.get("role") == "assistant"), None)
            if t.kind == "clarify" and first is not None and first.get("tool_calls"):
                out.append(Verdict.reject(Reason.SCENARIO_CLARIFY_NOT_ASKED, f"turn {i} calls before asking for {t.missing}"))
    if scenario == "parallel" and not any(len(m.get("tool_calls") or []) >= 2 for m in d.messages):
        out.append(Verdict.reject(Reason.SCENARIO_PARALLEL_MISSING, "no assistant message makes two or more calls"))
    if scenario == "multi_step" and not any(a.get("evidence") == "result" for c in evidence
                                            for a in c["arguments"].values()):
        out.append(Verdict.reject(Reason.SCENARIO_MULTI_STEP_UNCHAINED, "no call uses a value from an earlier result"))
    if scenario == "long_results":
        out.append(_long_results(d))
    return out


class ScenarioShown(Check):
    """The played dialogue shows its scenario (nothing to show for standard dialogues)."""

    name = "scenario_shown"
    reasons = (Reason.SCENARIO_WITHHELD_OFFERED, Reason.SCENARIO_UNSERVED_CALLED, Reason.SCENARIO_UNSERVED_NOT_DECLINED,
               Reason.SCENARIO_ERROR_MISSING, Reason.SCENARIO_ERROR_SAME_RETRY, Reason.SCENARIO_ERROR_IGNORED,
               Reason.SCENARIO_IRRELEVANCE_CALLED, Reason.SCENARIO_CLARIFY_NOT_ASKED, Reason.SCENARIO_PARALLEL_MISSING,
               Reason.SCENARIO_MULTI_STEP_UNCHAINED, Reason.SCENARIO_LONG_RESULT_MISSING,
               Reason.SCENARIO_LONG_RESULT_NOT_SUMMARIZED)

    def __call__(self, subject: CheckInput) -> list[Verdict]:
        d = subject.dialogue
        scenario = getattr(d.meta, "scenario", None) or "standard"
        errors = [_error_turn(d, i) for i, t in enumerate(d.plan.turns if d.plan else []) if t.fault == "error"]
        found = [*_unserved(d), *errors, *_shape(d, scenario, subject.evidence)]
        return [v for v in found if v is not None]
