"""Planner agent: tools + a target length → a validated dialogue Plan.

The plan is what makes ToolFlow dialogues coherent: every later agent follows it. The request
carries a schema built for the sample (:func:`plan_schema`: its tool names, the turn count, what each
kind of turn needs), which schema-enforcing backends satisfy by construction and the LLM layer
re-asks on; this module adds the *semantic* checks a schema cannot express (every tool used,
intents that are plain sentences without tool names) and a bounded re-ask.
"""

from __future__ import annotations

from toolflow.engine.errors import LLMError
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.llm.repair import RepairFeedback, Unrepairable
from toolflow.engine.models import Plan, Tool
from toolflow.engine.synth.agents.prompting import ask_json, render, tool_list
from toolflow.engine.synth.text import is_identifier_like, mentions_name, prose_problem


class PlanError(LLMError):
    """The planner could not produce a valid plan within its repair budget."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


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
        if turn.kind not in ("chitchat", "unserved") and not turn.tools:
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
        elif (why := prose_problem(turn.intent)) is not None:
            problems.append(f"{where}: intent {turn.intent[:60]!r}: {why}")
        same = next((j for j, other in enumerate(plan.turns[:i])
                     if (other.kind, other.tools, other.intent.strip()) == (turn.kind, turn.tools, turn.intent.strip())),
                    None)
        if same is not None:
            problems.append(f"{where}: repeats turn {same}; every turn asks for something new")
    if plan.scenario.strip() and (why := prose_problem(plan.scenario)) is not None:
        problems.append(f"scenario {plan.scenario[:60]!r}: {why}")
    unused = sorted(set(by_name) - used)
    if plan.turns and unused:
        problems.append(f"tools never used by any turn: {unused}")
    return problems


#: Bounds of the planner's free text: a plan of 8 turns stays far below a 512-token output budget.
INTENT_CHARS = 140
SCENARIO_CHARS = 160


def _array(items: dict, low: int, high: int) -> dict:
    return {"type": "array", "items": items, "minItems": low, "maxItems": high}


def _turn_schema(n_turns: int, tools: list[Tool]) -> dict:
    """Every acceptable shape of a turn: one `anyOf` branch per kind (per tool for clarify), so a
    schema-enforcing backend cannot produce a tool-less tool turn, a `depends_on` outside the plan or
    a `missing` value that is not a required parameter of the turn's tool. (One schema for all
    positions: per-position `prefixItems` would pin `depends_on` to earlier turns, but not every
    structured-output backend accepts them; `validate_plan` checks the direction.)"""
    names = {"type": "string", "enum": [t.name for t in tools]}
    none_int, none_str = _array({"type": "integer"}, 0, 0), _array({"type": "string"}, 0, 0)
    earlier = {"type": "integer", "enum": list(range(n_turns - 1))}
    intent = {"type": "string", "minLength": 8, "maxLength": INTENT_CHARS}

    def branch(kind: str, tool_list: dict, depends_on: dict, missing: dict) -> dict:
        props = {"kind": {"const": kind}, "tools": tool_list, "depends_on": depends_on, "missing": missing,
                 "intent": intent}
        return {"type": "object", "properties": props, "required": list(props)}

    branches = [branch("tool_call", _array(names, 1, 1), none_int, none_str)]
    if len(tools) >= 2:
        branches.append(branch("multi_tool", _array(names, 2, min(3, len(tools))), none_int, none_str))
    if n_turns > 1:
        branches.append(branch("follow_up", _array(names, 1, 2), _array(earlier, 1, min(n_turns - 1, 2)),
                               none_str))
    for t in tools:
        if t.required:
            deps = _array(earlier, 0, 1) if n_turns > 1 else none_int
            branches.append(branch("clarify", _array({"const": t.name}, 1, 1), deps,
                                   _array({"type": "string", "enum": t.required}, 1, 1)))
    branches.append(branch("chitchat", _array(names, 0, 0), none_int, none_str))
    return {"anyOf": branches}


def plan_schema(tools: list[Tool], n_turns: int) -> dict:
    """The JSON schema of a plan for exactly these tools and `n_turns` turns.

    Stricter than the `Plan` model (every value it allows is a valid `Plan`): tool names are an enum of
    the sample's tools, the turn count is fixed, each kind has the fields it needs. What a schema
    cannot say (every tool used somewhere, `depends_on` pointing backwards, intents without tool
    names) is left to `validate_plan`.
    """
    return {
        "type": "object",
        "properties": {
            "scenario": {"type": "string", "minLength": 10, "maxLength": SCENARIO_CHARS},
            "turns": _array(_turn_schema(n_turns, tools), n_turns, n_turns),
        },
        "required": ["scenario", "turns"],
    }


async def make_plan(
    llm: LLM,
    tools: list[Tool],
    *,
    target_turns: int,
    max_turns: int,
    tracker: UsageTracker | None = None,
    max_repairs: int = 2,
) -> Plan:
    """Ask for a plan; the LLM layer's repair policy re-asks with the listed problems up to `max_repairs`
    times (fewer when a re-ask does not reduce the number of problems, none when most intents are not
    even sentences).

    The request carries :func:`plan_schema` for this tool set (enforced as a grammar by llama.cpp,
    as ``response_format`` by json_schema endpoints). Raises PlanError with the last problems when no
    valid plan came back.
    """
    target_turns = max(1, min(target_turns, max_turns))
    schema = plan_schema(tools, target_turns)
    messages = [
        {"role": "system", "content": render("planner", tools=tool_list(tools), target_turns=target_turns,
                                             max_turns=max_turns)},
        {"role": "user", "content": "Write the plan now."},
    ]
    seen: dict[str, list[str]] = {}

    def check(raw: Plan) -> Plan:
        plan = normalize_plan(raw, tools)
        problems = validate_plan(plan, tools, max_turns=max_turns)
        if not problems:
            return plan
        before = seen.get("problems")
        seen["problems"] = problems
        text = "; ".join(problems)
        if before is not None and len(problems) >= len(before):
            raise Unrepairable(text)  # the re-ask did not help; another one is unlikely to (the caller may fall back)
        if 2 * sum(prose_problem(t.intent) is not None for t in plan.turns) > len(plan.turns):
            raise Unrepairable(text)  # most intents are not even sentences: a model that cannot plan
        raise RepairFeedback(text, render("planner_repair", problems="\n".join(f"- {p}" for p in problems)))

    try:
        # describe=False: the prompt shows the shape; the full per-sample schema would triple its length
        return await ask_json(llm, "planner", messages, Plan, schema, check=check, tracker=tracker, describe=False,
                              max_repairs=max_repairs)
    except StructuredOutputError:
        if "problems" in seen:
            raise PlanError(seen["problems"]) from None
        raise
