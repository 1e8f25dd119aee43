"""Scenario coverage: the cases a tool-use model must learn besides "a tool fits and works".

``synth --mix irrelevance=0.1,tool_error=0.1,…`` sets the share of each scenario; the rest are
``standard``. Which dialogue gets which scenario is a pure function of (seed, index): indexes are taken
in blocks of :data:`BLOCK`, each block holds the exact quota of every scenario (largest remainder), in an
order shuffled by the seed. So the shares hold within a point per block, on every rerun and shard.

A scenario shapes the plan (:func:`shape_plan`) before its call blueprint is built:

- ``irrelevance``: one turn whose tools are withheld: the dialogue shows only the sample's other tools,
  related to the request by the graph walk but unable to serve it; the assistant must say so, no call;
- ``missing_function``: a later turn's tool is withheld; the assistant explains what it cannot do;
- ``tool_error``: a turn's first call fails (:func:`error_result`); the assistant retries with other
  arguments or explains;
- ``missing_parameter``: a clarify turn (the user leaves out a required value);
- ``parallel``: a multi_tool turn of independent tools;
- ``multi_step``: a follow_up turn that uses an earlier result;
- ``long_results``: results with many items and long strings (:data:`LONG_RESULT_ITEMS`), which the
  assistant must summarize.

What each one must show in the played dialogue is checked by :mod:`scenario_checks`.
"""

from __future__ import annotations

import random
import re
from typing import Any

from toolflow.engine.errors import ConfigError
from toolflow.engine.models import Plan, PlanTurn, Tool
from toolflow.engine.seeds import rng_for
from toolflow.engine.synth.reasons import Reason

STANDARD = "standard"
SCENARIOS: tuple[str, ...] = (STANDARD, "irrelevance", "missing_function", "tool_error", "missing_parameter",
                              "parallel", "multi_step", "long_results")
ALIASES = {"error": "tool_error", "missing_param": "missing_parameter", "clarify": "missing_parameter",
           "missing": "missing_function", "multi": "multi_step", "long": "long_results"}
#: Indexes per block of exact quotas.
BLOCK = 100
#: Result caps of a long_results dialogue (list items, characters per string).
LONG_RESULT_ITEMS = 12
LONG_RESULT_CHARS = 600
_ID_LIKE = re.compile(r"(^|_)(id|ids|ref|reference)$|Id$", re.IGNORECASE)


class MixError(ValueError, ConfigError):
    """A --mix value that cannot be used (one line, naming the option and the bad part)."""


def parse_mix(text: str | None) -> dict[str, float]:
    """``"irrelevance=0.1,error=0.1"`` → shares per scenario (aliases resolved); the rest is standard."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = part.partition("=")
        name = ALIASES.get(name.strip(), name.strip())
        if not sep or name not in SCENARIOS or name == STANDARD:
            raise MixError(f"--mix: {part!r}: use NAME=SHARE with NAME one of {', '.join(SCENARIOS[1:])}")
        try:
            share = float(value)
        except ValueError:
            raise MixError(f"--mix: {part!r}: the share must be a number between 0 and 1") from None
        if not 0 <= share <= 1:
            raise MixError(f"--mix: {part!r}: the share must be between 0 and 1")
        mix[name] = mix.get(name, 0.0) + share
    if sum(mix.values()) > 1 + 1e-9:
        raise MixError(f"--mix: the shares add up to {sum(mix.values()):.2f}; at most 1")
    return mix


def quotas(mix: dict[str, float], n: int = BLOCK) -> list[str]:
    """`n` labels holding each scenario's share of `n` (largest remainder), standard for the rest."""
    exact = {k: v * n for k, v in mix.items() if v > 0}
    exact[STANDARD] = max(0.0, n - sum(exact.values()))
    counts = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(exact, key=lambda k: (-(exact[k] - counts[k]), SCENARIOS.index(k)))
    for k in by_remainder[:n - sum(counts.values())]:
        counts[k] += 1
    return [k for k in SCENARIOS if k in counts for _ in range(counts[k])]


def scenario_for(mix: dict[str, float], seed: int, index: int) -> str:
    """The scenario of dialogue `index` of a job: reproducible per seed, exact quotas per block."""
    if not mix:
        return STANDARD
    labels = quotas(mix)
    rng_for(seed, index // BLOCK, "scenario").shuffle(labels)
    return labels[index % BLOCK]


def error_result(tool: Tool, arguments: Any) -> dict[str, Any]:
    """The failure a tool_error turn's first call returns: a typed error naming an argument, as real APIs
    answer a value they reject (no LLM: the fault is planned, not simulated)."""
    args = arguments if isinstance(arguments, dict) else {}
    arg = next(iter(sorted(args)), None)
    detail = f"the value given for '{arg}' was not accepted" if arg else "the request was not accepted"
    return {"error": {"code": "INVALID_ARGUMENT", "status": 400, "message": f"{tool.name}: {detail}; "
                      "check the value and try again"}}


def _remap(turns: list[PlanTurn], removed: int, into: int | None) -> list[PlanTurn]:
    """Turns after removing index `removed` (its dependents now point to `into`, or lose it)."""
    out = []
    for t in turns:
        deps = sorted({(into if d == removed else d - (d > removed)) for d in t.depends_on
                       if d != removed or into is not None})
        out.append(t.model_copy(update={"depends_on": deps}))
    return out


def _depended(turns: list[PlanTurn]) -> set[int]:
    return {d for t in turns for d in t.depends_on}


def _withhold(plan: Plan, turns: list[PlanTurn], i: int) -> tuple[Plan, list[str]] | None:
    others = {n for j, t in enumerate(turns) if j != i for n in t.tools}
    withheld = [n for n in turns[i].tools if n not in others]
    if not withheld or i in _depended(turns):
        return None
    turns = list(turns)
    turns[i] = turns[i].model_copy(update={"kind": "unserved", "tools": [], "withheld": withheld, "missing": [],
                                           "calls": []})
    return plan.model_copy(update={"turns": turns}), withheld


def _irrelevance(plan: Plan, tools: list[Tool], rng: random.Random) -> tuple[Plan, list[str]] | None:
    tool_turns = [i for i, t in enumerate(plan.turns) if t.tools and not t.depends_on]
    for i in rng.sample(tool_turns, len(tool_turns)):
        turn = plan.turns[i]
        if len(set(turn.tools)) < len(tools):  # something related stays on offer
            single = plan.model_copy(update={"turns": [turn.model_copy(update={"depends_on": []})]})
            return _withhold(single, single.turns, 0)
    return None


def _missing_function(plan: Plan, rng: random.Random) -> tuple[Plan, list[str]] | None:
    tool_turns = [i for i, t in enumerate(plan.turns) if t.tools]
    for i in sorted(tool_turns[1:], reverse=True):  # a later turn: the dialogue has served something first
        shaped = _withhold(plan, plan.turns, i)
        if shaped is not None:
            return shaped
    return None


def _clarify(plan: Plan, tools: list[Tool], rng: random.Random) -> Plan | None:
    if any(t.kind == "clarify" for t in plan.turns):
        return plan
    by_name = {t.name: t for t in tools}
    options = [(i, p) for i, t in enumerate(plan.turns) if t.kind == "tool_call" and not t.depends_on
               for p in by_name[t.tools[0]].required if not _ID_LIKE.search(p)]
    if not options:
        return None
    i, param = rng.choice(options)
    turns = list(plan.turns)
    turns[i] = turns[i].model_copy(update={"kind": "clarify", "missing": [param]})
    return plan.model_copy(update={"turns": turns})


def _parallel(plan: Plan) -> Plan | None:
    if any(t.kind == "multi_tool" for t in plan.turns):
        return plan
    free = [i for i, t in enumerate(plan.turns) if t.kind == "tool_call" and not t.depends_on]
    for a in free:
        for b in free:
            if b > a and b not in _depended(plan.turns) and set(plan.turns[a].tools).isdisjoint(plan.turns[b].tools):
                ta, tb = plan.turns[a], plan.turns[b]
                merged = ta.model_copy(update={"kind": "multi_tool", "tools": ta.tools + tb.tools,
                                               "intent": f"{ta.intent.rstrip('.?! ')}; and also {tb.intent}"})
                turns = [merged if i == a else t for i, t in enumerate(plan.turns)]
                del turns[b]
                return plan.model_copy(update={"turns": _remap(turns, b, a)})
    return None


def _fault(plan: Plan, rng: random.Random) -> Plan | None:
    options = [i for i, t in enumerate(plan.turns) if t.tools and t.kind != "clarify"]
    if not options:
        return None
    i = rng.choice(options)
    turns = [t.model_copy(update={"fault": "error"}) if j == i else t for j, t in enumerate(plan.turns)]
    return plan.model_copy(update={"turns": turns})


def shape_plan(plan: Plan, scenario: str, tools: list[Tool], *, seed: int | str = 0,
               key: object = "") -> tuple[Plan | None, list[str]]:
    """(the plan shaped for `scenario`, the tools withheld from the dialogue); the plan is None when the
    sample cannot play the scenario (no independent pair for parallel, no FEEDS turn for multi_step, …)."""
    rng = rng_for(seed, key, f"scenario:{scenario}")
    if scenario == "irrelevance":
        shaped = _irrelevance(plan, tools, rng)
        return (shaped[0], shaped[1]) if shaped else (None, [])
    if scenario == "missing_function":
        shaped = _missing_function(plan, rng)
        return (shaped[0], shaped[1]) if shaped else (None, [])
    if scenario == "missing_parameter":
        return _clarify(plan, tools, rng), []
    if scenario == "parallel":
        return _parallel(plan), []
    if scenario == "multi_step":
        return (plan if any(t.kind == "follow_up" for t in plan.turns) else None), []
    if scenario == "tool_error":
        return _fault(plan, rng), []
    return plan, []


class ScenarioShaper:
    """Applies :func:`shape_plan` once per dialogue and remembers what it withheld, or why it could not."""

    def __init__(self, scenario: str, tools: list[Tool], *, seed: int | str, key: object) -> None:
        self.scenario, self.tools, self.seed, self.key = scenario, tools, seed, key
        self.withheld: list[str] = []
        self.problem: str | None = None

    def __call__(self, plan: Plan) -> Plan:
        if self.scenario == STANDARD:
            return plan
        shaped, self.withheld = shape_plan(plan, self.scenario, self.tools, seed=self.seed, key=self.key)
        if shaped is None:
            self.problem = f"{Reason.SCENARIO_UNPLAYABLE}: this sample's plan cannot hold a {self.scenario} turn"
            return plan
        return shaped

    def offered(self, tools: list[Tool]) -> list[Tool]:
        """The tools the dialogue shows (all but the withheld ones)."""
        return [t for t in tools if t.name not in self.withheld]
