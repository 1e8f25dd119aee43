"""The synthesis loop for ONE dialogue: plan, then per plan turn a user message followed by
assistant/tool steps until the assistant answers in text.

Deliberately thin and explicit: every decision (when the user speaks again, when to stop) is here in
plain code; the agents only produce text. The dialogue is checked at the end; the run decides
keep/reject. Expected failures (no valid plan, a tool result that cannot be simulated) become failed
checks; unexpected exceptions (network, server) propagate so the run can retry the dialogue.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from pydantic import BaseModel, Field
from toolflow.engine import __version__
from toolflow.engine.agents.assistant import reply_problems, respond, system_prompt
from toolflow.engine.agents.planner import PlanError, make_plan
from toolflow.engine.agents.tool_sim import ToolSimError, simulate
from toolflow.engine.agents.user import next_user_message
from toolflow.engine.checks import check_dialogue
from toolflow.engine.llm.base import LLM, ROLES, UsageTracker
from toolflow.engine.llm.cache import cache_scope
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import Dialogue, Plan, PlanTurn, Sample, Tool


class SynthConfig(BaseModel):
    """Knobs of one dialogue (the run derives `target_turns` per index)."""

    plan: bool = Field(default=True, description="False = the paper's −Plan ablation: the user improvises.")
    target_turns: int = Field(default=4, ge=1)
    max_turns: int = Field(default=8, ge=1, description="Hard cap on user turns.")
    max_steps: int = Field(default=6, ge=1, description="Assistant messages per user turn before giving up.")
    max_user_replies: int = Field(default=2, ge=0, description="Extra user replies in one turn (clarifications).")
    seed: int = 0
    strategy: str = "unknown"


def dialogue_id(seed: int, index: int) -> str:
    """Stable id of the index-th dialogue of a job: what makes reruns skip finished work."""
    return "dlg-" + hashlib.sha1(f"{seed}:{index}".encode()).hexdigest()[:16]


def call_id(dlg_id: str, k: int) -> str:
    """Deterministic tool-call id; 9 alphanumerics because some chat templates (Mistral) demand exactly that."""
    return hashlib.sha1(f"{dlg_id}:call:{k}".encode()).hexdigest()[:9]


def target_turns_for(seed: int, index: int, low: int, high: int) -> int:
    """The planned length of dialogue `index`, varied but reproducible."""
    return random.Random(f"{seed}:{index}:turns").randint(low, max(low, high))


def models_of(llm: Any) -> dict[str, str]:
    """Model name per role, if the LLM object tells (`models` mapping, `model_for(role)` or `model`)."""
    out = {}
    for role in ROLES:
        name = None
        models = getattr(llm, "models", None)
        if isinstance(models, dict):
            name = models.get(role)
        if name is None and callable(getattr(llm, "model_for", None)):
            try:
                name = llm.model_for(role)
            except Exception:  # noqa: BLE001 - provenance is best effort
                name = None
        settings = getattr(llm, "settings", None)
        if name is None and callable(getattr(settings, "for_role", None)):
            try:
                name = settings.for_role(role).model
            except Exception:  # noqa: BLE001 - provenance is best effort
                name = None
        if name is None and isinstance(getattr(llm, "model", None), str):
            name = llm.model
        out[role] = str(name) if name else "unknown"
    return out


def _parse_args(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


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


async def _synthesize(
    llm: LLM, sample: Sample, tools: list[Tool], *, dlg_id: str, index: int, config: SynthConfig,
    tracker: UsageTracker,
) -> Dialogue:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt()}]
    finish: list[str | None] = [None]
    turn_log: list[dict[str, Any]] = []
    failed: list[str] = []
    stopped: str | None = None
    plan: Plan | None = None

    def build() -> Dialogue:
        d = Dialogue(
            id=dlg_id, tools=[t.openai_tool() for t in tools], messages=messages, plan=plan, sample=sample,
            checks={"failed": failed},
            meta={
                "index": index, "seed": config.seed, "strategy": config.strategy, "plan": config.plan,
                "target_turns": config.target_turns, "models": models_of(llm),
                "tokens": {r: u.model_dump() for r, u in tracker.by_role.items()},
                "toolflow_version": __version__, "turns": turn_log, "finish_reasons": finish, "stopped": stopped,
            },
        )
        d.checks = check_dialogue(d)
        return d

    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        failed.append(f"duplicate_tool_names: {sorted(n for n in set(names) if names.count(n) > 1)}")
        return build()
    if config.plan:
        try:
            plan = await make_plan(llm, tools, target_turns=config.target_turns, max_turns=config.max_turns,
                                   tracker=tracker)
        except PlanError as exc:
            failed.append(f"plan_invalid: {exc}")
            return build()
        except StructuredOutputError as exc:
            failed.append(f"llm_output_invalid: planner: {exc}")
            return build()
    try:
        stopped = await _play(llm, tools, plan, config, dlg_id, messages, finish, turn_log, failed, tracker)
    except StructuredOutputError as exc:
        failed.append(f"llm_output_invalid: {exc}")
        stopped = "llm_output_invalid"
    return build()


async def _play(
    llm: LLM,
    tools: list[Tool],
    plan: Plan | None,
    config: SynthConfig,
    dlg_id: str,
    messages: list[dict[str, Any]],
    finish: list[str | None],
    turn_log: list[dict[str, Any]],
    failed: list[str],
    tracker: UsageTracker,
) -> str | None:
    """The turn loop; appends to `messages`/`finish`/`turn_log`/`failed` and returns why it stopped early."""
    stopped: str | None = None
    by_name = {t.name: t for t in tools}
    earlier: list[dict[str, Any]] = []
    n_calls = 0
    n_turns = min(len(plan.turns), config.max_turns) if plan else min(config.target_turns, config.max_turns)
    scenario = plan.scenario if plan else ""

    async def user_says(turn: PlanTurn | None, t_idx: int, answering: bool) -> bool:
        """Append the user's message; False when the (plan-less) user is done."""
        ut = await next_user_message(llm, messages[1:], turn=turn, tools=tools, scenario=scenario,
                                     answering=answering, turn_number=t_idx, max_turns=n_turns, tracker=tracker)
        if turn is None and ut.done and not answering and t_idx > 0:
            return False
        messages.append({"role": "user", "content": ut.message})
        finish.append(None)
        return True

    for t_idx in range(n_turns):
        turn = plan.turns[t_idx] if plan else None
        start = len(messages)
        if not await user_says(turn, t_idx, answering=False):
            break
        called: set[str] = set()
        replies = 0
        answered = False
        for _ in range(config.max_steps):
            reply = await respond(llm, tools, messages, tracker=tracker)
            msg: dict[str, Any] = {"role": "assistant", "content": reply.content}
            if reply.tool_calls:
                for call in reply.tool_calls:
                    call["id"] = call_id(dlg_id, n_calls)
                    n_calls += 1
                msg["tool_calls"] = reply.tool_calls
            messages.append(msg)
            finish.append(reply.finish_reason)
            if reply.finish_reason == "length":
                stopped = "truncated"
                break
            if reply.tool_calls:
                if reply_problems(reply, tools):
                    stopped = "invalid_call"
                    break
                try:
                    for call in reply.tool_calls:
                        fn = call["function"]
                        args = _parse_args(fn["arguments"])
                        result = await simulate(llm, by_name[fn["name"]], args, earlier, tracker=tracker)
                        content = json.dumps(result, ensure_ascii=False)
                        messages.append({"role": "tool", "tool_call_id": call["id"], "name": fn["name"],
                                         "content": content})
                        finish.append(None)
                        earlier.append({"name": fn["name"], "arguments": args, "result": result})
                        called.add(fn["name"])
                except ToolSimError as exc:
                    failed.append(f"tool_sim_failed: {exc}")
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
        turn_log.append({"plan_turn": t_idx, "kind": turn.kind if turn else None, "start": start,
                         "end": len(messages)})
        if not answered:
            stopped = stopped or "max_steps"
            break
    return stopped
