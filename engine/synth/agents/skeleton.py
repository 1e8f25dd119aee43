"""Plan skeletons: a plan built from the sample itself, for when the planner LLM cannot write one.

The graph already knows how a sample's tools fit together: a FEEDS edge A→B means B consumes what A
returns, a SHARES_INPUT edge means both take the same value from the user. That is enough for the
*structure* of a plan: "tool_call A", then "follow_up B, depends_on A's turn"; two independent tools
may be asked for in one multi_tool turn; a tool with a required value the user would type can be the
clarify turn; a closing chitchat turn may pad a short plan. The LLM then writes only what a schema can
pin down almost completely: one short intent per fixed turn. When even that fails, a deterministic
intent is made from the tool's description, so the fallback always yields a valid plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import Plan, PlanTurn, Sample, Tool
from toolflow.engine.seeds import rng_for
from toolflow.engine.synth.agents.planner import (
    INTENT_CHARS,
    SCENARIO_CHARS,
    is_identifier_like,
    mentions_name,
    prose_problem,
    validate_plan,
)
from toolflow.engine.synth.agents.prompting import ask_json, render
from toolflow.engine.synth.leak_checks import pasted_description

TEMPLATE_SCENARIO = "Someone getting a few related things done with the help of an AI assistant."
CHITCHAT_INTENT = "Thank the assistant for the help and say goodbye."


class Intents(BaseModel):
    """What the LLM fills into a skeleton: one intent per turn."""

    scenario: str = Field(default="", description="One sentence: who the user is and what they want.")
    intents: list[str] = Field(default_factory=list, description="What the user wants in each turn, in order.")


def _return_fields(schema: Any) -> set[str]:
    """Every property name anywhere in a return schema (nested objects, array items)."""
    out: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                out.update(props)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return out


class _Flow(BaseModel):
    """How a sample's tools connect: an order, FEEDS predecessors, fed parameters, SHARES_INPUT pairs."""

    order: list[str]
    feeds: dict[str, list[str]]
    fed: dict[str, set[str]]
    shares: set[frozenset[str]]


def _tool_flow(sample: Sample, tools: list[Tool]) -> _Flow:
    """The sample's data flow. FEEDS edges of the walk count first; a tool whose required parameter
    shares its name with a field another sample tool returns (``hotel_id`` from the hotel search) is
    fed by it too, since a walk records only the edges it took. The order puts every source before
    its targets and is the walk order otherwise."""
    name_of: dict[str, str] = {}
    for key, tool in zip(sample.tool_ids, tools, strict=False):
        name_of[key] = tool.name
    for tool in tools:
        name_of.setdefault(tool.id, tool.name)
        name_of.setdefault(tool.name, tool.name)
    names = [t.name for t in tools]
    base = list(dict.fromkeys([name_of[k] for k in sample.path if k in name_of] + names))
    feeds: dict[str, list[str]] = {n: [] for n in names}
    fed: dict[str, set[str]] = {n: set() for n in names}
    shares: set[frozenset[str]] = set()
    for edge in sample.edges:
        src, dst = name_of.get(edge.source), name_of.get(edge.target)
        if src is None or dst is None or src == dst:
            continue
        if edge.type == "FEEDS":
            if src not in feeds[dst]:
                feeds[dst].append(src)
            fed[dst].update(edge.fields[-1:])
        elif edge.type == "SHARES_INPUT":
            shares.add(frozenset((src, dst)))
    for b in tools:
        for a in tools:
            shared = set(b.required) & _return_fields(a.returns) if a is not b else set()
            if shared and a.name not in feeds[b.name] and b.name not in feeds[a.name]:
                feeds[b.name].append(a.name)
                fed[b.name] |= shared
    order: list[str] = []
    remaining = list(base)
    while remaining:  # stable topological sort; a cycle is broken at the earliest remaining tool
        ready = next((n for n in remaining if all(p in order for p in feeds[n])), remaining[0])
        order.append(ready)
        remaining.remove(ready)
    feeds = {n: [p for p in preds if order.index(p) < order.index(n)] for n, preds in feeds.items()}
    return _Flow(order=order, feeds=feeds, fed=fed, shares=shares)


_ID_LIKE = re.compile(r"(^|_)(id|ids|ref|reference)$|Id$", re.IGNORECASE)


def skeleton_plan(sample: Sample, tools: list[Tool], *, target_turns: int, max_turns: int,
                  seed: int | str = 0) -> Plan:
    """A valid plan for `tools` derived from the sample's walk; intents are placeholders from the tool
    descriptions (:func:`template_intent`). Deterministic for a given sample and seed."""
    rng = rng_for(seed, sample.id, "skeleton")
    by_name = {t.name: t for t in tools}
    flow = _tool_flow(sample, tools)
    feeds, shares = flow.feeds, flow.shares
    groups: list[list[str]] = [[n] for n in flow.order]

    # one multi_tool turn: two tools that need nothing from earlier turns, preferably sharing an input
    independent = [g[0] for g in groups if not feeds[g[0]]]
    pairs = [(a, b) for i, a in enumerate(independent) for b in independent[i + 1:]]
    pairs.sort(key=lambda p: frozenset(p) not in shares)  # SHARES_INPUT pairs first, stable otherwise
    if pairs and (len(groups) > max_turns or rng.random() < 0.5):
        a, b = pairs[0]
        groups = [g + [b] if g == [a] else g for g in groups if g != [b]]
    while len(groups) > max_turns:  # only with more tools than turns: fold the tail together
        groups[-2:] = [groups[-2] + groups[-1]]

    turn_of = {n: i for i, g in enumerate(groups) for n in g}
    turns: list[PlanTurn] = []
    for i, group in enumerate(groups):
        deps = sorted({turn_of[p] for n in group for p in feeds[n] if turn_of[p] < i})
        kind = "multi_tool" if len(group) > 1 else ("follow_up" if deps else "tool_call")
        turns.append(PlanTurn(kind=kind, intent="", tools=group, depends_on=deps))

    # one clarify turn: a tool_call turn (nothing from earlier turns) whose tool needs a value the user
    # would type; the user leaves it out and the assistant has to ask for it
    candidates = []
    for i, turn in enumerate(turns):
        if turn.kind == "tool_call":
            tool = by_name[turn.tools[0]]  # not a value an earlier result gives, nor an id nobody knows by heart
            askable = [p for p in tool.required if p not in flow.fed[tool.name] and not _ID_LIKE.search(p)]
            if askable:
                candidates.append((i, askable))
    if candidates and rng.random() < 0.5:
        i, askable = rng.choice(candidates)
        turns[i] = turns[i].model_copy(update={"kind": "clarify", "missing": [rng.choice(askable)]})

    if len(turns) < min(target_turns, max_turns) and rng.random() < 0.5:
        turns.append(PlanTurn(kind="chitchat", intent=CHITCHAT_INTENT))
    plan = Plan(scenario=TEMPLATE_SCENARIO, turns=turns)
    return plan.model_copy(update={"turns": [t.model_copy(update={"intent": t.intent or template_intent(t, by_name)})
                                             for t in plan.turns]})


#: Characters of a tool description in the intents prompt (ToolBench descriptions run to paragraphs).
BRIEF_DESCRIPTION_CHARS = 160


def _as_request(description: str) -> str:
    text = re.sub(r"\s+", " ", description).strip()
    if len(text) > BRIEF_DESCRIPTION_CHARS:
        text = text[:BRIEF_DESCRIPTION_CHARS].rsplit(" ", 1)[0]
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if text else ""


def _name_words(name: str) -> str:
    """``searchHotels`` / ``search_hotels`` → ``search hotels``: what the tool does, in words."""
    return " ".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_\-.]+", " ", name).lower().split())


def template_intent(turn: PlanTurn, by_name: dict[str, Tool]) -> str:
    """A plain-words intent from the turn's tool names turned into words (never the identifiers, and never
    the description pasted: a user who types a tool's description is a leak the checks reject), phrased
    as the user's own request, so it can also stand in for a user message."""
    if turn.kind == "chitchat":
        return CHITCHAT_INTENT
    parts = [_name_words(n) for n in turn.tools or turn.withheld]  # unserved: the withheld tools
    text = "Could you help me with this: " + "; and also: ".join(p for p in parts if p)
    if turn.depends_on:
        text += ", for what you found for me earlier"
    return text + "?"


def _turn_brief(i: int, turn: PlanTurn, by_name: dict[str, Tool]) -> str:
    if turn.kind == "chitchat":
        return f"{i + 1}. small talk: the user thanks the assistant"
    what = "; and also: ".join(_as_request(by_name[n].description) for n in turn.tools or turn.withheld)
    line = f"{i + 1}. the user needs: {what}"
    said = [str(a.value) for c in turn.calls for a in c.arguments.values() if a.source == "user"]
    if said:  # the planned values, so the intent and the values the user states agree
        line += f" (for: {', '.join(dict.fromkeys(said))})"
    if turn.depends_on:
        line += f" (using the result of turn {', '.join(str(d + 1) for d in turn.depends_on)})"
    return line


def intents_schema(n_turns: int) -> dict[str, Any]:
    intent = {"type": "string", "minLength": 8, "maxLength": INTENT_CHARS}
    return {
        "type": "object",
        "properties": {
            "scenario": {"type": "string", "minLength": 10, "maxLength": SCENARIO_CHARS},
            "intents": {"type": "array", "items": intent, "minItems": n_turns, "maxItems": n_turns},
        },
        "required": ["scenario", "intents"],
    }


async def write_intents(llm: LLM, plan: Plan, tools: list[Tool], *, tracker: UsageTracker | None = None) -> Plan:
    """`plan` with scenario and intents written by the LLM (one fixed-length request), or unchanged when
    the LLM cannot produce usable ones."""
    by_name = {t.name: t for t in tools}
    named = [n for n in by_name if is_identifier_like(n)]

    def check(out: Intents) -> Intents:
        if len(out.intents) != len(plan.turns):
            raise ValueError(f"give exactly {len(plan.turns)} intents, one per turn, in order")
        for i, text in enumerate(out.intents):
            if not text.strip():
                raise ValueError(f"intent {i + 1} is empty")
            leaked = [n for n in named if mentions_name(text, n)]
            if leaked:
                raise ValueError(f"intent {i + 1} names functions {leaked}; say it in plain words")
            if (why := prose_problem(text)) is not None:
                raise ValueError(f"intent {i + 1}: {why}")
            pasted = [n for n in plan.turns[i].tools or plan.turns[i].withheld
                      if n in by_name and pasted_description(text, by_name[n].description)]
            if pasted:
                raise ValueError(f"intent {i + 1} copies a tool description; say what the person wants, "
                                 "in their own words")
        if (why := prose_problem(out.scenario)) is not None:
            raise ValueError(f"scenario: {why}")
        return out

    messages = [
        {"role": "system", "content": render("planner_intents", n=len(plan.turns), turns="\n".join(
            _turn_brief(i, t, by_name) for i, t in enumerate(plan.turns)))},
        {"role": "user", "content": "Write the JSON now."},
    ]
    try:
        out = await ask_json(llm, "planner", messages, Intents, intents_schema(len(plan.turns)), check=check,
                             tracker=tracker, describe=False, max_repairs=0)  # the template is the fallback
    except (StructuredOutputError, ValueError):
        return plan
    turns = []
    for turn, text in zip(plan.turns, out.intents, strict=True):
        text = " ".join(text.split())
        if turn.kind == "clarify":  # the user must not be told the value they are to leave out
            text = text or turn.intent
        turns.append(turn.model_copy(update={"intent": text}))
    written = plan.model_copy(update={"scenario": " ".join(out.scenario.split()) or plan.scenario, "turns": turns})
    return written if not validate_plan(written, tools) else plan


async def plan_from_skeleton(llm: LLM, sample: Sample, tools: list[Tool], *, target_turns: int, max_turns: int,
                             seed: int | str = 0, tracker: UsageTracker | None = None,
                             prepare: Callable[[Plan], Plan] | None = None) -> tuple[Plan, str]:
    """The fallback plan and where its intents came from: ``"llm"`` or ``"template"``. `prepare` completes
    the skeleton before the intents are written (the call blueprint, whose values the intents mention)."""
    skeleton = skeleton_plan(sample, tools, target_turns=target_turns, max_turns=max_turns, seed=seed)
    if prepare is not None:
        skeleton = prepare(skeleton)
    written = await write_intents(llm, skeleton, tools, tracker=tracker)
    return written, "template" if written is skeleton else "llm"
