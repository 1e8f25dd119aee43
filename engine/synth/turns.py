"""The turn loop of one dialogue: per plan turn a user message, then assistant replies and tool results until
the assistant answers in words (:class:`TurnPlayer`).

Every decision of the loop is here in plain code, one named step each: what the user states now, the
assistant's tool choice and expected calls, running the calls (planned fault, live result, simulation), and
when the user speaks again within a turn. The agents only produce text. The assistant reads the dialogue
through :func:`assistant_view`: with a plan, earlier turns' tool calls and results are left out unless
this turn builds on them (the dialogue itself keeps everything).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.llm.base import LLM, ChatReply, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.models import Plan, PlannedCall, PlanTurn, Tool
from toolflow.engine.seeds import call_id
from toolflow.engine.synth.agents.assistant import blueprint_problems, reply_problems, respond
from toolflow.engine.synth.agents.tool_sim import ToolSimError, simulate
from toolflow.engine.synth.agents.user import (
    Stated,
    UserTurn,
    insert_values,
    mentions_value,
    next_user_message,
    value_words,
)
from toolflow.engine.synth.blueprint import planned_calls, referenced_paths, resolve_arguments
from toolflow.engine.synth.execute import Outcome, ToolUnavailable, live_result, record_mode
from toolflow.engine.synth.reasons import Reason
from toolflow.engine.synth.scenarios import error_result


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


def turn_needs_answer(turn: PlanTurn | None, called: set[str]) -> bool:
    """After a text reply, does the user speak again within this turn? Yes while its tools are uncalled
    (the assistant asked something, e.g. for the value a clarify turn left out)."""
    return turn is not None and bool(turn.tools) and not set(turn.tools) <= called


def assistant_view(messages: list[dict[str, Any]], turn_log: list[dict[str, Any]], keep: set[int]) -> list[dict[str, Any]]:
    """The dialogue as the assistant's next request shows it: the system message, the finished turns in
    `turn_log` as their words only (tool calls and results left out) except the turns in `keep` (those
    this turn builds on, whole), then the current turn whole.

    An earlier turn's results matter to a later reply only when the plan says it builds on them; sending
    every earlier call and result again made the assistant's prompt grow with the square of the turns
    (and past a small model's context window on wide real-world results).
    """
    view = messages[:1]
    done = 1
    for entry in turn_log:
        part = messages[entry["start"]:entry["end"]]
        if entry["plan_turn"] in keep:
            view.extend(part)
        else:
            view.extend({"role": m["role"], "content": m["content"]} for m in part
                        if m["role"] in ("user", "assistant") and (m.get("content") or "").strip())
        done = entry["end"]
    return view + messages[done:]


@dataclass
class TurnProgress:
    """Where one plan turn stands: the tools called in it, the user's extra replies, why it stopped."""

    called: set[str] = field(default_factory=set)
    replies: int = 0
    answered: bool = False
    stopped: str | None = None


class TurnPlayer:
    """Plays the turns of one dialogue into `state` (see the module docstring)."""

    def __init__(self, llm: LLM, tools: list[Tool], config: Any, state: DialogueState, tracker: UsageTracker):
        self.llm, self.tools, self.config, self.state, self.tracker = llm, tools, config, state, tracker
        self.plan = plan = state.plan
        self.by_name = {t.name: t for t in tools}
        self.n_turns = min(len(plan.turns), config.max_turns) if plan else min(config.target_turns, config.max_turns)
        self.scenario = plan.scenario if plan else ""
        self.planned = planned_calls(plan) if plan is not None and config.blueprint else []
        self.needed = referenced_paths(plan) if self.planned else {}

    async def play(self) -> str | None:
        """Every turn in order; returns why the dialogue stopped early (None when it played every turn)."""
        stopped: str | None = None
        for t_idx in range(self.n_turns):
            turn = self.plan.turns[t_idx] if self.plan else None
            start = len(self.state.messages)
            if not await self.user_says(turn, t_idx, answering=False):
                break
            progress = await self.play_turn(turn, t_idx)
            stopped = progress.stopped or stopped
            self.state.turn_log.append({"plan_turn": t_idx, "kind": turn.kind if turn else None, "start": start,
                                        "end": len(self.state.messages)})
            if not progress.answered:
                return stopped or "max_steps"
        return stopped

    async def play_turn(self, turn: PlanTurn | None, t_idx: int) -> TurnProgress:
        """Assistant replies (and the tool results of their calls) until a text answer ends the turn."""
        progress = TurnProgress()
        for _ in range(self.config.max_steps):
            reply, expected = await self.assistant_reply(turn, t_idx, progress)
            if reply.finish_reason == "length":
                progress.stopped = "truncated"
            elif reply.tool_calls:
                progress.stopped = await self.run_calls(reply, expected, turn, t_idx, progress.called)
                if progress.stopped is None:
                    continue
            elif not (reply.content or "").strip():
                progress.stopped = "empty_reply"
            elif turn_needs_answer(turn, progress.called) and progress.replies < self.config.max_user_replies:
                progress.replies += 1
                await self.user_says(turn, t_idx, answering=True)
                continue
            else:
                progress.answered = True
            break
        return progress

    # -- the user ----------------------------------------------------------------------------------------

    def pending(self, t_idx: int) -> list[tuple[int, PlannedCall]]:
        return [(k, c) for k, (i, c) in enumerate(self.planned) if i == t_idx and k not in self.state.results]

    def user_values(self, t_idx: int, answering: bool) -> list[Stated]:
        """The planned values the user states now: the turn's user values (clarify ones only once asked),
        except those an earlier user message already gave."""
        said = " ".join(str(m.get("content") or "") for m in self.state.messages if m.get("role") == "user")
        out: list[Stated] = []
        for _, call in self.pending(t_idx):
            for arg, src in call.arguments.items():
                wanted = src.source == "user" or (src.source == "clarify" and answering)
                if wanted and not mentions_value(said, src.value) and (value_words(arg), src.value) not in out:
                    out.append((value_words(arg), src.value))
        return out

    async def user_says(self, turn: PlanTurn | None, t_idx: int, answering: bool) -> bool:
        """Append the user's message; False when the (plan-less) user is done.

        With a plan, a user agent that cannot produce a usable message (after one re-ask) is replaced
        by the turn's intent: a validated plain-words request without tool names (counted in meta).
        """
        state = self.state
        values = self.user_values(t_idx, answering) if self.planned else []
        try:
            ut = await next_user_message(self.llm, state.messages[1:], turn=turn, tools=self.tools,
                                         scenario=self.scenario, answering=answering, turn_number=t_idx,
                                         max_turns=self.n_turns, tracker=self.tracker,
                                         max_repairs=1 if turn is not None else None, values=values)
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

    # -- the assistant -----------------------------------------------------------------------------------

    def expected_now(self, t_idx: int) -> dict[str, tuple[PlannedCall, dict[str, Any]]] | None:
        if not self.planned or t_idx in self.state.faulted:  # after a planned error the assistant chooses freely
            return None
        return {c.tool: (c, resolve_arguments(c, self.state.results, self.by_name[c.tool]))
                for _, c in self.pending(t_idx)}

    def builds_on(self, turn: PlanTurn | None, t_idx: int) -> set[int]:
        """The earlier turns whose calls and results the assistant sees in this turn: those it depends on
        and those holding a result a pending call takes a value from."""
        keep = set(turn.depends_on) if turn is not None else set()
        for _, call in self.pending(t_idx):
            keep.update(self.planned[src.call][0] for src in call.arguments.values()
                        if src.source == "result" and src.call is not None and src.call < len(self.planned))
        return keep

    async def assistant_reply(self, turn: PlanTurn | None, t_idx: int,
                              progress: TurnProgress) -> tuple[ChatReply, Any]:
        """The assistant's next message, appended with fresh call ids; also the calls it was expected to make."""
        state = self.state
        # with a blueprint every value of a non-clarify turn is stated (or in an earlier result): call now
        ready = progress.replies > 0 or (bool(self.planned) and turn is not None and turn.kind != "clarify")
        choice = plan_tool_choice(turn, progress.called, user_answered=ready) if self.config.guide_tools else "auto"
        expected = self.expected_now(t_idx)
        history = state.messages if turn is None else assistant_view(state.messages, state.turn_log,
                                                                     self.builds_on(turn, t_idx))
        reply = await respond(self.llm, self.tools, history, tracker=self.tracker, tool_choice=choice,
                              expected=expected)
        msg: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            for call in reply.tool_calls:
                call["id"] = call_id(state.dlg_id, state.n_calls)
                state.n_calls += 1
            msg["tool_calls"] = reply.tool_calls
        state.add(msg, reply.finish_reason)
        return reply, expected

    # -- the tools ---------------------------------------------------------------------------------------

    async def run_calls(self, reply: ChatReply, expected: Any, turn: PlanTurn | None, t_idx: int,
                        called: set[str]) -> str | None:
        """Check the reply's calls and append a result for each; returns why the dialogue stops, or None."""
        if reply_problems(reply, self.tools):
            return "invalid_call"
        if mismatch := blueprint_problems(reply, expected):
            self.state.failed.append(f"{Reason.CALL_MISMATCH}: {'; '.join(mismatch)[:400]}")
            return "call_mismatch"
        try:
            for call in reply.tool_calls:
                await self.run_call(call, turn, t_idx)
                called.add(call["function"]["name"])
        except ToolUnavailable as exc:
            self.state.failed.append(f"{Reason.TOOL_UNAVAILABLE}: {exc}")
            return "tool_unavailable"
        except ToolSimError as exc:
            self.state.failed.append(f"{Reason.TOOL_SIM_FAILED}: {exc}")
            return "tool_sim_failed"
        return None

    async def run_call(self, call: dict[str, Any], turn: PlanTurn | None, t_idx: int) -> None:
        """One call's result (the planned error, the live tool's, or simulated) appended as a tool message."""
        state, config = self.state, self.config
        fn = call["function"]
        tool, args = self.by_name[fn["name"]], loads_or_text(fn["arguments"])
        k = next((k for k, c in self.pending(t_idx) if c.tool == fn["name"]), None)
        live = None
        if turn is not None and turn.fault == "error" and t_idx not in state.faulted:
            state.faulted.add(t_idx)  # the planned failure: the call stays pending
            result, k = error_result(tool, args), None
        else:
            live = await live_result(tool, args)  # --execute: the real result
            result = live.value if isinstance(live, Outcome) else await simulate(
                self.llm, tool, args, state.earlier, tracker=self.tracker, max_items=config.result_items,
                max_chars=config.result_chars, max_tokens=config.result_tokens,
                needed=self.needed.get(k) if k is not None else None)
            record_mode(state.notes, call["id"], fn["name"], live)
        if k is not None:
            state.results[k] = result
            state.call_of[call["id"]] = k
        state.add({"role": "tool", "tool_call_id": call["id"], "name": fn["name"],
                   "content": live.content if isinstance(live, Outcome) else json.dumps(result, ensure_ascii=False)})
        state.earlier.append({"name": fn["name"], "arguments": args, "result": result})
