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
from toolflow.engine.synth.reasons import Reason

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


def _unserved(d: Dialogue, out: list[str]) -> None:
    offered = {(t.get("function", t)).get("name") for t in d.tools}
    for i, turn in enumerate(d.plan.turns if d.plan else []):
        if turn.kind != "unserved":
            continue
        if leaked := [n for n in turn.withheld if n in offered]:
            out.append(f"{Reason.SCENARIO_WITHHELD_OFFERED}: turn {i}: {leaked} is in the dialogue's tools")
        window = _window(d, i)
        if any(m.get("tool_calls") for m in window if m.get("role") == "assistant"):
            out.append(f"{Reason.SCENARIO_UNSERVED_CALLED}: turn {i} calls a tool for a request no shown tool serves")
        elif not any(DECLINE.search(t) for t in _texts(window)):
            out.append(f"{Reason.SCENARIO_UNSERVED_NOT_DECLINED}: turn {i}: the assistant does not say it cannot do it")


def _error_turn(d: Dialogue, out: list[str]) -> None:
    turns = [i for i, t in enumerate(d.plan.turns if d.plan else []) if t.fault == "error"]
    for i in turns:
        window = _window(d, i)
        failed_at = next((k for k, m in enumerate(window) if m.get("role") == "tool"
                          and '"error"' in str(m.get("content"))), None)
        if failed_at is None:
            out.append(f"{Reason.SCENARIO_ERROR_MISSING}: turn {i}: the planned tool error never happened")
            continue
        failed = window[failed_at]
        call = next((c for m in window[:failed_at] for c in m.get("tool_calls") or []
                     if c.get("id") == failed.get("tool_call_id")), None)
        after = window[failed_at + 1:]
        retry = next((c for m in after if m.get("role") == "assistant" for c in m.get("tool_calls") or []
                      if call and (c.get("function") or {}).get("name") == (call.get("function") or {}).get("name")),
                     None)
        if retry is not None and call is not None and _args(retry) == _args(call):
            out.append(f"{Reason.SCENARIO_ERROR_SAME_RETRY}: turn {i} retries {failed.get('name')} with the same arguments")
        elif retry is None and not any(DECLINE.search(t) for t in _texts(after)):
            out.append(f"{Reason.SCENARIO_ERROR_IGNORED}: turn {i}: no retry, and the answer does not mention the failure")


def _args(call: dict[str, Any]) -> Any:
    raw = (call.get("function") or {}).get("arguments")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def _long_results(d: Dialogue, out: list[str]) -> None:
    results = [(k, len(m.get("content") or "")) for k, m in enumerate(d.messages) if m.get("role") == "tool"]
    long = [(k, n) for k, n in results if n >= LONG_RESULT_MIN_CHARS]
    if not long:
        out.append(f"{Reason.SCENARIO_LONG_RESULT_MISSING}: no result reaches {LONG_RESULT_MIN_CHARS} characters")
        return
    k, n = long[0]
    answer = next((m.get("content") or "" for m in d.messages[k + 1:]
                   if m.get("role") == "assistant" and not m.get("tool_calls")), "")
    if not answer.strip() or len(answer) * 2 > n:
        out.append(f"{Reason.SCENARIO_LONG_RESULT_NOT_SUMMARIZED}: the answer after message {k} ({len(answer)} chars) "
                   f"is not under half the result ({n} chars)")


def scenario_problems(d: Dialogue, evidence: list[dict[str, Any]] | None = None) -> list[str]:
    """The failed ``scenario_*`` reasons of `d` (empty for standard dialogues). `evidence` is
    :func:`checks.argument_evidence` of `d` (multi_step reads it)."""
    scenario = getattr(d.meta, "scenario", None) or "standard"
    out: list[str] = []
    _unserved(d, out)
    _error_turn(d, out)
    if scenario == "irrelevance" and any(m.get("tool_calls") for m in d.messages):
        out.append(f"{Reason.SCENARIO_IRRELEVANCE_CALLED}: an irrelevance dialogue has a tool call")
    if scenario == "missing_parameter" and d.plan is not None:
        for i, t in enumerate(d.plan.turns):
            first = next((m for m in _window(d, i) if m.get("role") == "assistant"), None)
            if t.kind == "clarify" and first is not None and first.get("tool_calls"):
                out.append(f"{Reason.SCENARIO_CLARIFY_NOT_ASKED}: turn {i} calls before asking for {t.missing}")
    if scenario == "parallel" and not any(len(m.get("tool_calls") or []) >= 2 for m in d.messages):
        out.append(f"{Reason.SCENARIO_PARALLEL_MISSING}: no assistant message makes two or more calls")
    if scenario == "multi_step" and not any(a.get("evidence") == "result" for c in evidence or []
                                            for a in c["arguments"].values()):
        out.append(f"{Reason.SCENARIO_MULTI_STEP_UNCHAINED}: no call uses a value from an earlier result")
    if scenario == "long_results":
        _long_results(d, out)
    return out
