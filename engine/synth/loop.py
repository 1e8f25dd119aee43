"""The synthesis loop for ONE dialogue: plan, then per plan turn a user message followed by
assistant/tool steps until the assistant answers in text.

Deliberately thin and explicit: every decision (when the user speaks again, when to stop) is here in
plain code; the agents only produce text. The plan also guides the assistant's tool choice
(:func:`plan_tool_choice`). The dialogue is checked at the end; the run decides keep/reject.

When the planner LLM cannot write a valid plan, the plan is built from the sample's own structure
(:mod:`.agents.skeleton`) and ``meta["plan_source"]`` says so; a user message the user agent cannot
produce is replaced by the turn's intent. Other expected failures (a tool result that cannot be
simulated, unusable LLM output) become failed checks; unexpected exceptions (network, server)
propagate so the run can retry the dialogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine import __version__
from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.llm.base import LLM, ROLES, UsageTracker
from toolflow.engine.llm.cache import cache_scope
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import Checks, Dialogue, Meta, Plan, PlannedCall, PlanTurn, Sample, Tool
from toolflow.engine.seeds import call_id, dialogue_id, rng_for
from toolflow.engine.synth.agents.assistant import blueprint_problems, reply_problems, respond, system_prompt
from toolflow.engine.synth.agents.planner import PlanError, make_plan
from toolflow.engine.synth.agents.skeleton import plan_from_skeleton
from toolflow.engine.synth.agents.tool_sim import (
    RESULT_ARRAY_ITEMS,
    RESULT_STRING_CHARS,
    ToolSimError,
    simulate,
)
from toolflow.engine.synth.agents.user import (
    Stated,
    UserTurn,
    insert_values,
    mentions_value,
    next_user_message,
    value_words,
)
from toolflow.engine.synth.blueprint import (
    build_blueprint,
    planned_calls,
    referenced_paths,
    resolve_arguments,
    validate_blueprint,
)
from toolflow.engine.synth.checks import check_dialogue
from toolflow.engine.synth.evidence import argument_evidence
from toolflow.engine.synth.execute import Outcome, ToolUnavailable, live_result, record_mode
from toolflow.engine.synth.reasons import Reason, ReasonCodes
from toolflow.engine.synth.scenarios import (
    LONG_RESULT_CHARS,
    LONG_RESULT_ITEMS,
    STANDARD,
    ScenarioShaper,
    error_result,
)


class SynthConfig(BaseModel):
    """Knobs of one dialogue (the run derives `target_turns` per index)."""

    plan: bool = Field(default=True, description="False = the paper's −Plan ablation: the user improvises.")
    target_turns: int = Field(default=4, ge=1)
    max_turns: int = Field(default=8, ge=1, description="Hard cap on user turns.")
    max_steps: int = Field(default=6, ge=1, description="Assistant messages per user turn before giving up.")
    max_user_replies: int = Field(default=2, ge=0, description="Extra user replies in one turn (clarifications).")
    seed: int = 0
    strategy: str = "unknown"
    plan_repairs: int = Field(default=2, ge=0, description="Re-asks of the planner with its plan's problems.")
    plan_fallback: bool = Field(
        default=True, description="When the planner fails, plan from the sample's skeleton instead of rejecting.")
    use_planner: bool = Field(
        default=True, description="False: go straight to the skeleton plan (the run saw the planner keep failing).")
    guide_tools: bool = Field(
        default=True, description="Plan-guided tool_choice for the assistant (see `plan_tool_choice`).")
    blueprint: bool = Field(
        default=True, description="Plans fix every call and argument source (False: the paper's intent-only "
                                  "plan, for the ablation).")
    result_items: int = Field(default=RESULT_ARRAY_ITEMS, ge=1, description="List items per simulated result.")
    result_chars: int = Field(default=RESULT_STRING_CHARS, ge=8, description="Characters per result string.")
    result_tokens: int | None = Field(default=None, ge=1, description="The tool role's output token limit.")
    flag_only: ReasonCodes = Field(
        default_factory=list, description="Check codes reported as flags instead of rejecting "
                                          "(e.g. argument_not_sourced, follow_up_not_grounded).")
    scenario: str = Field(default=STANDARD, description="What this dialogue must cover (synth.scenarios).")


def target_turns_for(seed: int, index: int, low: int, high: int) -> int:
    """The planned length of dialogue `index`, varied but reproducible."""
    return rng_for(seed, index, "turns").randint(low, max(low, high))


def models_of(llm: LLM) -> dict[str, str]:
    """Model name per agent role, as the LLM reports it (recorded in every dialogue's meta)."""
    return {role: llm.model_for(role) for role in ROLES}

def plan_tool_choice(turn: PlanTurn | None, called: set[str], *, user_answered: bool) -> str | dict[str, Any]:
    """The assistant's OpenAI `tool_choice` for its next reply in plan turn `turn`.

    The plan knows what the turn needs, so the assistant is kept to it: a chitchat turn is answered in
    words (``"none"``), as is a turn whose tools have all been called (their results are in: time to
    answer, not to loop); a clarify turn starts with a question for the value the user left out;
    otherwise the turn's tools not called yet are the ones offered (``allowed_tools``; no loops on one
    tool of a multi_tool turn): mode auto at first (the assistant may still ask in words), required
    once the user has answered within the turn. The dialogue keeps the whole tool list; only the
    choice is narrowed.
    """
    if turn is None:
        return "auto"
    if turn.kind == "chitchat" or not turn.tools:
        return "none"
    pending = [n for n in turn.tools if n not in called]
    if not pending:
        return "none"
    if turn.kind == "clarify" and not user_answered:
        return "none"
    return {"type": "allowed_tools", "allowed_tools": {
        "mode": "required" if user_answered else "auto",
        "tools": [{"type": "function", "function": {"name": n}} for n in pending]}}


def _turn_needs_answer(turn: PlanTurn | None, called: set[str]) -> bool:
    """After a text reply, does the user speak again within this turn? Yes while its tools are uncalled
    (the assistant asked something, e.g. for the value a clarify turn left out)."""
    return turn is not None and bool(turn.tools) and not set(turn.tools) <= called


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


@dataclass
class DialogueState:
    """Everything the loop builds for one dialogue, in one place (the agents only produce text)."""

    dlg_id: str
    index: int
    messages: list[dict[str, Any]]
    finish: list[str | None] = field(default_factory=lambda: [None])  # per message: the LLM's finish_reason
    turn_log: list[dict[str, Any]] = field(default_factory=list)  # per plan turn: its message range
    failed: list[str] = field(default_factory=list)
    stopped: str | None = None
    plan: Plan | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # plan_source, plan_intents, planner_problem, user_fallbacks
    earlier: list[dict[str, Any]] = field(default_factory=list)  # {name, arguments, result} of every call so far
    n_calls: int = 0
    results: dict[int, Any] = field(default_factory=dict)  # planned call index → its result
    call_of: dict[str, int] = field(default_factory=dict)  # tool call id → planned call index
    faulted: set[int] = field(default_factory=set)  # plan turns whose planned tool error has happened

    def add(self, message: dict[str, Any], finish_reason: str | None = None) -> None:
        self.messages.append(message)
        self.finish.append(finish_reason)


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

    def blueprint(plan: Plan) -> Plan:
        return build_blueprint(plan, sample, tools, seed=config.seed)

    def prepare(plan: Plan) -> Plan:
        plan = shaper(plan)
        return blueprint(plan) if config.blueprint else plan

    if config.plan:
        problem = None if config.use_planner else f"{Reason.PLANNER_SKIPPED}: the planner kept failing earlier in this run"
        if config.use_planner:
            try:
                state.plan = shaper(await make_plan(llm, tools, target_turns=config.target_turns,
                                                    max_turns=config.max_turns, tracker=tracker,
                                                    max_repairs=config.plan_repairs))
                state.notes["plan_source"] = "llm"
            except PlanError as exc:
                problem = f"{Reason.PLAN_INVALID}: {exc}"
            except StructuredOutputError as exc:
                problem = f"{Reason.LLM_OUTPUT_INVALID}: planner: {exc}"
        if problem is not None:
            if not config.plan_fallback:
                state.failed.append(problem)
                return _build(state, llm, sample, tools, config, tracker)
            # the planner's problems stay on record; the dialogue goes on with the sample's own structure
            state.plan, intents = await plan_from_skeleton(
                llm, sample, tools, target_turns=config.target_turns, max_turns=config.max_turns, seed=config.seed,
                tracker=tracker, prepare=prepare)
            state.notes.update(plan_source="skeleton", plan_intents=intents, planner_problem=problem[:500])
        if config.blueprint:
            if not any(t.calls for t in state.plan.turns):
                state.plan = blueprint(state.plan)
            if problems := validate_blueprint(state.plan, tools):
                state.failed.append(f"{Reason.BLUEPRINT_INVALID}: {'; '.join(problems)[:500]}")
                return _build(state, llm, sample, tools, config, tracker)
        if shaper.problem is not None:
            state.failed.append(shaper.problem)
            return _build(state, llm, sample, tools, config, tracker)
        tools = shaper.offered(tools)
        if shaper.withheld:
            state.notes["scenario_withheld"] = shaper.withheld
    try:
        state.stopped = await _play(llm, tools, config, state, tracker)
    except StructuredOutputError as exc:
        state.failed.append(f"{Reason.LLM_OUTPUT_INVALID}: {exc}")
        state.stopped = "llm_output_invalid"
    return _build(state, llm, sample, tools, config, tracker)


async def _play(llm: LLM, tools: list[Tool], config: SynthConfig, state: DialogueState,
                tracker: UsageTracker) -> str | None:
    """The turn loop over `state`; returns why it stopped early (None when it played every turn)."""
    plan = state.plan
    stopped: str | None = None
    by_name = {t.name: t for t in tools}
    n_turns = min(len(plan.turns), config.max_turns) if plan else min(config.target_turns, config.max_turns)
    scenario = plan.scenario if plan else ""
    planned = planned_calls(plan) if plan is not None and config.blueprint else []
    needed = referenced_paths(plan) if planned else {}

    def pending(t_idx: int) -> list[tuple[int, PlannedCall]]:
        return [(k, c) for k, (i, c) in enumerate(planned) if i == t_idx and k not in state.results]

    def user_values(t_idx: int, answering: bool) -> list[Stated]:
        """The planned values the user states now: the turn's user values (clarify ones only once asked),
        except those an earlier user message already gave."""
        said = " ".join(str(m.get("content") or "") for m in state.messages if m.get("role") == "user")
        out: list[Stated] = []
        for _, call in pending(t_idx):
            for arg, src in call.arguments.items():
                wanted = src.source == "user" or (src.source == "clarify" and answering)
                if wanted and not mentions_value(said, src.value) and (value_words(arg), src.value) not in out:
                    out.append((value_words(arg), src.value))
        return out

    def expected_now(t_idx: int) -> dict[str, tuple[PlannedCall, dict[str, Any]]] | None:
        if not planned or t_idx in state.faulted:  # after a planned error the assistant chooses freely
            return None
        return {c.tool: (c, resolve_arguments(c, state.results, by_name[c.tool])) for _, c in pending(t_idx)}

    async def user_says(turn: PlanTurn | None, t_idx: int, answering: bool) -> bool:
        """Append the user's message; False when the (plan-less) user is done.

        With a plan, a user agent that cannot produce a usable message (after one re-ask) is replaced
        by the turn's intent: a validated plain-words request without tool names (counted in meta).
        """
        values = user_values(t_idx, answering) if planned else []
        try:
            ut = await next_user_message(llm, state.messages[1:], turn=turn, tools=tools, scenario=scenario,
                                         answering=answering, turn_number=t_idx, max_turns=n_turns,
                                         tracker=tracker, max_repairs=1 if turn is not None else None,
                                         values=values)
        except StructuredOutputError:
            if turn is None:
                raise
            state.notes["user_fallbacks"] = state.notes.get("user_fallbacks", 0) + 1
            ut = UserTurn(message=turn.intent)
        if turn is None and ut.done and not answering and t_idx > 0:
            return False
        message, added = insert_values(ut.message, values)
        if added:
            state.notes["user_values_inserted"] = state.notes.get("user_values_inserted", 0) + added
        state.add({"role": "user", "content": message})
        return True

    for t_idx in range(n_turns):
        turn = plan.turns[t_idx] if plan else None
        start = len(state.messages)
        if not await user_says(turn, t_idx, answering=False):
            break
        called: set[str] = set()
        replies = 0
        answered = False
        for _ in range(config.max_steps):
            # with a blueprint every value of a non-clarify turn is stated (or in an earlier result): call now
            ready = replies > 0 or (bool(planned) and turn is not None and turn.kind != "clarify")
            choice = plan_tool_choice(turn, called, user_answered=ready) if config.guide_tools else "auto"
            expected = expected_now(t_idx)
            reply = await respond(llm, tools, state.messages, tracker=tracker, tool_choice=choice,
                                  expected=expected)
            msg: dict[str, Any] = {"role": "assistant", "content": reply.content}
            if reply.tool_calls:
                for call in reply.tool_calls:
                    call["id"] = call_id(state.dlg_id, state.n_calls)
                    state.n_calls += 1
                msg["tool_calls"] = reply.tool_calls
            state.add(msg, reply.finish_reason)
            if reply.finish_reason == "length":
                stopped = "truncated"
                break
            if reply.tool_calls:
                if reply_problems(reply, tools):
                    stopped = "invalid_call"
                    break
                if mismatch := blueprint_problems(reply, expected):
                    state.failed.append(f"{Reason.CALL_MISMATCH}: {'; '.join(mismatch)[:400]}")
                    stopped = "call_mismatch"
                    break
                try:
                    for call in reply.tool_calls:
                        fn = call["function"]
                        args = loads_or_text(fn["arguments"])
                        k = next((k for k, c in pending(t_idx) if c.tool == fn["name"]), None)
                        if turn is not None and turn.fault == "error" and t_idx not in state.faulted:
                            state.faulted.add(t_idx)  # the planned failure: the call stays pending
                            result, k = error_result(by_name[fn["name"]], args), None
                        else:
                            live = await live_result(by_name[fn["name"]], args)  # --execute: the real result
                            result = live.value if isinstance(live, Outcome) else await simulate(
                                llm, by_name[fn["name"]], args, state.earlier, tracker=tracker,
                                max_items=config.result_items, max_chars=config.result_chars,
                                max_tokens=config.result_tokens,
                                needed=needed.get(k) if k is not None else None)
                            record_mode(state.notes, call["id"], fn["name"], live)
                        if k is not None:
                            state.results[k] = result
                            state.call_of[call["id"]] = k
                        state.add({"role": "tool", "tool_call_id": call["id"], "name": fn["name"],
                                   "content": live.content if isinstance(live, Outcome)
                                   else json.dumps(result, ensure_ascii=False)})
                        state.earlier.append({"name": fn["name"], "arguments": args, "result": result})
                        called.add(fn["name"])
                except ToolUnavailable as exc:
                    state.failed.append(f"{Reason.TOOL_UNAVAILABLE}: {exc}")
                    stopped = "tool_unavailable"
                    break
                except ToolSimError as exc:
                    state.failed.append(f"{Reason.TOOL_SIM_FAILED}: {exc}")
                    stopped = "tool_sim_failed"
                    break
                continue
            if not (reply.content or "").strip():
                stopped = "empty_reply"
                break
            if _turn_needs_answer(turn, called) and replies < config.max_user_replies:
                replies += 1
                await user_says(turn, t_idx, answering=True)
                continue
            answered = True
            break
        state.turn_log.append({"plan_turn": t_idx, "kind": turn.kind if turn else None, "start": start,
                               "end": len(state.messages)})
        if not answered:
            stopped = stopped or "max_steps"
            break
    return stopped
