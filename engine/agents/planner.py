"""Planner agent: tools + a target length → a validated dialogue Plan.

The plan is what makes ToolFlow dialogues coherent: every later agent follows it. The LLM layer's
`structured()` already retries on *shape* errors; this module adds the *semantic* checks (tools exist,
`depends_on` points backwards, clarify turns leave out a real required value) and a bounded re-ask.
"""

from __future__ import annotations

import re

from toolflow.engine.agents.prompting import render, tool_specs_json
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Plan, Tool


class PlanError(Exception):
    """The planner could not produce a valid plan within its repair budget."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def mentions_name(text: str, name: str) -> bool:
    """True if `name` occurs in `text` as a whole identifier (underscores count as part of words)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text, re.IGNORECASE) is not None


def is_identifier_like(name: str) -> bool:
    """Names that no person would type by accident (snake_case, camelCase, digits, dashes).

    Plain words like "search" or "weather" are excluded: a user saying them is not leaking a tool name.
    """
    return bool(re.search(r"[_\-0-9]|[a-z][A-Z]", name))


def normalize_plan(plan: Plan, tools: list[Tool]) -> Plan:
    """Fix slips that have only one sensible reading, so small models need fewer re-asks.

    Tool names are matched case-insensitively, repeated names dropped, `missing` cleared outside
    clarify turns, a follow-up without `depends_on` points at the turn before it, and a multi_tool
    turn with a single tool becomes a tool_call. Everything else is left for `validate_plan`.
    """
    canonical = {t.name.lower(): t.name for t in tools}
    turns = []
    for i, turn in enumerate(plan.turns):
        names = list(dict.fromkeys(canonical.get(n.lower(), n) for n in turn.tools))
        update: dict = {"tools": names}
        if turn.kind != "clarify":
            update["missing"] = []
        if turn.kind == "follow_up" and not turn.depends_on and i > 0:
            update["depends_on"] = [i - 1]
        if turn.kind == "multi_tool" and len(names) == 1:
            update["kind"] = "tool_call"
        turns.append(turn.model_copy(update=update))
    return plan.model_copy(update={"turns": turns})


def validate_plan(plan: Plan, tools: list[Tool], *, max_turns: int | None = None) -> list[str]:
    """Problems that make `plan` unusable for `tools`; empty when it is fine."""
    by_name = {t.name: t for t in tools}
    problems: list[str] = []
    if not plan.turns:
        problems.append("the plan has no turns")
    if max_turns is not None and len(plan.turns) > max_turns:
        problems.append(f"the plan has {len(plan.turns)} turns; use at most {max_turns}")
    used: set[str] = set()
    for i, turn in enumerate(plan.turns):
        where = f"turn {i} ({turn.kind})"
        unknown = [n for n in turn.tools if n not in by_name]
        if unknown:
            problems.append(f"{where}: unknown tools {unknown}; use only {sorted(by_name)}")
        used.update(n for n in turn.tools if n in by_name)
        if turn.kind == "chitchat" and turn.tools:
            problems.append(f"{where}: chitchat turns use no tools")
        if turn.kind != "chitchat" and not turn.tools:
            problems.append(f"{where}: list the tools this turn needs")
        if turn.kind == "multi_tool" and len(turn.tools) < 2:
            problems.append(f"{where}: multi_tool turns need at least two tool calls")
        bad_deps = [d for d in turn.depends_on if not 0 <= d < i]
        if bad_deps:
            allowed = f"earlier turns (0..{i - 1})" if i else "earlier turns; the first turn has none"
            problems.append(f"{where}: depends_on {bad_deps} must point to {allowed}")
        if turn.kind == "follow_up" and not turn.depends_on:
            problems.append(f"{where}: follow_up turns must set depends_on")
        if turn.kind == "clarify":
            required = {p for n in turn.tools if n in by_name for p in by_name[n].required}
            if not turn.missing:
                problems.append(f"{where}: clarify turns must list the left-out required values in `missing`")
            bad = [m for m in turn.missing if m not in required]
            if bad:
                problems.append(f"{where}: missing {bad} are not required parameters of its tools {sorted(required)}")
        elif turn.missing:
            problems.append(f"{where}: only clarify turns may have `missing`")
        named = [n for n in by_name if is_identifier_like(n) and mentions_name(turn.intent, n)]
        if named:
            problems.append(f"{where}: the intent names tools {named}; describe the need in plain words")
        if not turn.intent.strip():
            problems.append(f"{where}: empty intent")
    unused = sorted(set(by_name) - used)
    if plan.turns and unused:
        problems.append(f"tools never used by any turn: {unused}")
    return problems


async def make_plan(
    llm: LLM,
    tools: list[Tool],
    *,
    target_turns: int,
    max_turns: int,
    tracker: UsageTracker | None = None,
    max_repairs: int = 2,
) -> Plan:
    """Ask for a plan, re-asking with the listed problems up to `max_repairs` times.

    Raises PlanError with the last problems when no valid plan came back.
    """
    target_turns = max(1, min(target_turns, max_turns))
    messages = [
        {"role": "system", "content": render("planner", tools=tool_specs_json(tools), target_turns=target_turns,
                                             max_turns=max_turns)},
        {"role": "user", "content": "Write the plan now."},
    ]
    problems: list[str] = []
    for _ in range(max_repairs + 1):
        plan = normalize_plan(await llm.structured("planner", messages, Plan, tracker=tracker), tools)
        problems = validate_plan(plan, tools, max_turns=max_turns)
        if not problems:
            return plan
        messages = [
            *messages,
            {"role": "assistant", "content": plan.model_dump_json()},
            {"role": "user", "content": render("planner_repair", problems="\n".join(f"- {p}" for p in problems))},
        ]
    raise PlanError(problems)
