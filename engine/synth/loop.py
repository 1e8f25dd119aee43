"""The synthesis of ONE dialogue: plan, play the turns, check.

Deliberately thin and explicit: the plan comes from the planner or the sample's skeleton (`_plan`), the
turns are played by :class:`.turns.TurnPlayer` (per plan turn a user message followed by assistant/tool
steps until the assistant answers in text; every decision there is plain code, the agents only produce
text), and the dialogue is checked at the end; the run decides keep/reject.

When the planner LLM cannot write a valid plan, the plan is built from the sample's own structure
(:mod:`.agents.skeleton`) and ``meta["plan_source"]`` says so; a user message the user agent cannot
produce is replaced by the turn's intent. Other expected failures (a tool result that cannot be
simulated, unusable LLM output) become failed checks; unexpected exceptions (network, server)
propagate so the run can retry the dialogue.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from toolflow.engine import __version__
from toolflow.engine.llm.base import LLM, ROLES, UsageTracker
from toolflow.engine.llm.cache import cache_scope
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import Checks, Dialogue, Meta, Plan, Sample, Tool
from toolflow.engine.seeds import dialogue_id, rng_for
from toolflow.engine.synth.agents.assistant import system_prompt
from toolflow.engine.synth.agents.planner import PlanError, make_plan
from toolflow.engine.synth.agents.skeleton import plan_from_skeleton
from toolflow.engine.synth.agents.tool_sim import RESULT_ARRAY_ITEMS, RESULT_STRING_CHARS
from toolflow.engine.synth.blueprint import build_blueprint, planned_calls, validate_blueprint
from toolflow.engine.synth.checks import check_dialogue
from toolflow.engine.synth.config import DialogueKnobs
from toolflow.engine.synth.evidence import argument_evidence
from toolflow.engine.synth.reasons import Reason
from toolflow.engine.synth.scenarios import LONG_RESULT_CHARS, LONG_RESULT_ITEMS, STANDARD, ScenarioShaper
from toolflow.engine.synth.turns import DialogueState, TurnPlayer, plan_tool_choice

__all__ = ["DialogueState", "SynthConfig", "models_of", "plan_tool_choice", "synthesize", "target_turns_for"]


class SynthConfig(DialogueKnobs):
    """Knobs of one dialogue (the run derives `target_turns` per index; the shared ones are `DialogueKnobs`')."""

    target_turns: int = Field(default=4, ge=1)
    max_user_replies: int = Field(default=2, ge=0, description="Extra user replies in one turn (clarifications).")
    strategy: str = "unknown"
    plan_repairs: int = Field(default=2, ge=0, description="Re-asks of the planner with its plan's problems.")
    plan_fallback: bool = Field(
        default=True, description="When the planner fails, plan from the sample's skeleton instead of rejecting.")
    use_planner: bool = Field(
        default=True, description="False: go straight to the skeleton plan (the run saw the planner keep failing).")
    guide_tools: bool = Field(
        default=True, description="Plan-guided tool_choice for the assistant (see `plan_tool_choice`).")
    scenario: str = Field(default=STANDARD, description="What this dialogue must cover (synth.scenarios).")

    @model_validator(mode="after")
    def _result_caps(self) -> SynthConfig:
        """An unset result cap is the tool simulator's default (a dialogue always has both caps)."""
        if self.result_items is None:
            self.result_items = RESULT_ARRAY_ITEMS
        if self.result_chars is None:
            self.result_chars = RESULT_STRING_CHARS
        return self


def target_turns_for(seed: int, index: int, low: int, high: int) -> int:
    """The planned length of dialogue `index`, varied but reproducible."""
    return rng_for(seed, index, "turns").randint(low, max(low, high))


def models_of(llm: LLM) -> dict[str, str]:
    """Model name per agent role, as the LLM reports it (recorded in every dialogue's meta)."""
    return {role: llm.model_for(role) for role in ROLES}

async def synthesize(
    llm: LLM,
    sample: Sample,
    tools: list[Tool],
    *,
    index: int,
    config: SynthConfig,
    tracker: UsageTracker | None = None,
) -> Dialogue:
    """Play out one dialogue for `sample` and return it with its checks filled in.

    LLM requests are cache-scoped by the dialogue id: two dialogues never share a cached answer,
    while a rerun of the same dialogue (after a crash) replays its finished requests for free.
    """
    dlg_id = dialogue_id(config.seed, index)
    with cache_scope(dlg_id):
        return await _synthesize(llm, sample, tools, dlg_id=dlg_id, index=index, config=config,
                                 tracker=tracker if tracker is not None else UsageTracker())


def provenance(d: Dialogue, call_of: dict[str, int]) -> list[dict[str, Any]]:
    """Per call and argument: the planned source (blueprint dialogues) and the evidence in the dialogue."""
    planned = planned_calls(d.plan) if d.plan is not None else []
    out = []
    for entry in argument_evidence(d):
        k = call_of.get(str(entry["call_id"]))
        if k is not None and k < len(planned):
            turn, call = planned[k]
            entry = {**entry, "plan_turn": turn, "planned_call": k}
            for arg, ev in entry["arguments"].items():
                src = call.arguments.get(arg)
                planned_src = src.model_dump(exclude_none=True, exclude={"value"}) if src else {"source": "unplanned"}
                entry["arguments"][arg] = {**planned_src, **ev}
        out.append(entry)
    return out


def _build(state: DialogueState, llm: LLM, sample: Sample, tools: list[Tool], config: SynthConfig,
           tracker: UsageTracker) -> Dialogue:
    d = Dialogue(
        id=state.dlg_id, tools=[t.openai_tool() for t in tools], messages=state.messages, plan=state.plan,
        sample=sample, checks=Checks(failed=state.failed),
        meta=Meta(
            index=state.index, seed=config.seed, strategy=config.strategy, plan=config.plan,
            target_turns=config.target_turns, models=models_of(llm),
            tokens={r: u.model_dump() for r, u in tracker.by_role.items()},
            toolflow_version=__version__, turns=state.turn_log, finish_reasons=state.finish, stopped=state.stopped,
            **state.notes,
        ),
    )
    if config.plan:
        d.meta.blueprint = config.blueprint
    if d.messages:
        d.meta.provenance = provenance(d, state.call_of)
    d.checks = check_dialogue(d, as_flags=config.flag_only, returns={t.name: t.returns for t in tools if t.returns})
    return d


async def _synthesize(
    llm: LLM, sample: Sample, tools: list[Tool], *, dlg_id: str, index: int, config: SynthConfig,
    tracker: UsageTracker,
) -> Dialogue:
    state = DialogueState(dlg_id=dlg_id, index=index, messages=[{"role": "system", "content": system_prompt()}])
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        state.failed.append(f"{Reason.DUPLICATE_TOOL_NAMES}: {sorted(n for n in set(names) if names.count(n) > 1)}")
        return _build(state, llm, sample, tools, config, tracker)
    shaper = ScenarioShaper(config.scenario, tools, seed=config.seed, key=dlg_id)
    if config.scenario != STANDARD:
        state.notes["scenario"] = config.scenario
    if config.scenario == "long_results":
        config = config.model_copy(update={"result_items": max(config.result_items, LONG_RESULT_ITEMS),
                                           "result_chars": max(config.result_chars, LONG_RESULT_CHARS)})
    if config.plan:
        problem = await _plan(llm, sample, tools, config, state, tracker, shaper)
        if problem is not None:
            state.failed.append(problem)
            return _build(state, llm, sample, tools, config, tracker)
        tools = shaper.offered(tools)
        if shaper.withheld:
            state.notes["scenario_withheld"] = shaper.withheld
    try:
        state.stopped = await TurnPlayer(llm, tools, config, state, tracker).play()
    except StructuredOutputError as exc:
        state.failed.append(f"{Reason.LLM_OUTPUT_INVALID}: {exc}")
        state.stopped = "llm_output_invalid"
    return _build(state, llm, sample, tools, config, tracker)


async def _plan(llm: LLM, sample: Sample, tools: list[Tool], config: SynthConfig, state: DialogueState,
                tracker: UsageTracker, shaper: ScenarioShaper) -> str | None:
    """Set ``state.plan``: the planner's, else (with the fallback) the sample's skeleton; then its call
    blueprint. Returns why the dialogue cannot be played (a failed check), or None."""

    def blueprint(plan: Plan) -> Plan:
        return build_blueprint(plan, sample, tools, seed=config.seed)

    def prepare(plan: Plan) -> Plan:
        plan = shaper(plan)
        return blueprint(plan) if config.blueprint else plan

    problem = await _ask_planner(llm, tools, config, state, tracker, shaper) if config.use_planner else \
        f"{Reason.PLANNER_SKIPPED}: the planner kept failing earlier in this run"
    if problem is not None:
        if not config.plan_fallback:
            return problem
        # the planner's problems stay on record; the dialogue goes on with the sample's own structure
        state.plan, intents = await plan_from_skeleton(
            llm, sample, tools, target_turns=config.target_turns, max_turns=config.max_turns, seed=config.seed,
            tracker=tracker, prepare=prepare)
        state.notes.update(plan_source="skeleton", plan_intents=intents, planner_problem=problem[:500])
    if config.blueprint:
        if not any(t.calls for t in state.plan.turns):
            state.plan = blueprint(state.plan)
        if problems := validate_blueprint(state.plan, tools):
            return f"{Reason.BLUEPRINT_INVALID}: {'; '.join(problems)[:500]}"
    return shaper.problem


async def _ask_planner(llm: LLM, tools: list[Tool], config: SynthConfig, state: DialogueState,
                       tracker: UsageTracker, shaper: ScenarioShaper) -> str | None:
    """The planner LLM's plan into ``state.plan`` (source "llm"); returns its problem when it has none."""
    try:
        state.plan = shaper(await make_plan(llm, tools, target_turns=config.target_turns, max_turns=config.max_turns,
                                            tracker=tracker, max_repairs=config.plan_repairs))
    except PlanError as exc:
        return f"{Reason.PLAN_INVALID}: {exc}"
    except StructuredOutputError as exc:
        return f"{Reason.LLM_OUTPUT_INVALID}: planner: {exc}"
    state.notes["plan_source"] = "llm"
    return None
