"""Assistant agent: tools + history → OpenAI tool_calls (parallel allowed) or a text reply.

This is the side the dataset teaches, so its output is normalized to the exact OpenAI shape and a reply
with unusable calls (unknown tool, arguments that are not JSON or break the schema, missing required
values) is re-asked a bounded number of times with the problems spelled out.
"""

from __future__ import annotations

import json
from typing import Any

from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.llm.base import LLM, ChatReply, UsageTracker
from toolflow.engine.llm.messages import add_system_text
from toolflow.engine.llm.repair import RepairsExhausted, Unrepairable, repair_loop
from toolflow.engine.models import PlannedCall, Tool
from toolflow.engine.synth.agents.prompting import load_prompt, render
from toolflow.engine.synth.blueprint import call_mismatch
from toolflow.engine.synth.checks import call_problems


def system_prompt() -> str:
    """The assistant's system message; it is also the system message stored in the dialogue."""
    return load_prompt("assistant").strip()


def normalize_call(call: dict[str, Any]) -> dict[str, Any]:
    """One tool call in the exact OpenAI shape; arguments always a JSON string when they were an object."""
    fn = call.get("function") or {}
    args = fn.get("arguments")
    if isinstance(args, dict | list):
        args = json.dumps(args, ensure_ascii=False)
    elif args is None or (isinstance(args, str) and not args.strip()):
        args = "{}"
    return {"id": call.get("id") or "", "type": "function", "function": {"name": fn.get("name"), "arguments": args}}


#: The planned calls the assistant may make now: tool name → (its blueprint call, the resolved values).
Expected = dict[str, tuple[PlannedCall, dict[str, Any]]]


def blueprint_problems(reply: ChatReply, expected: Expected | None) -> list[str]:
    """How the reply's calls differ from the blueprint (empty without one): only planned tools, and the
    planned user / clarify / result values."""
    if expected is None:
        return []
    problems = []
    for call in reply.tool_calls:
        fn = call.get("function") or {}
        name = fn.get("name")
        if name not in expected:
            problems.append(f"{name} is not the call needed now; call {sorted(expected)}")
            continue
        args = loads_or_text(fn.get("arguments") or "{}")
        planned, values = expected[name]
        problems.extend(call_mismatch(planned, values, args if isinstance(args, dict) else {}))
    return problems


def reply_problems(reply: ChatReply, tools: list[Tool]) -> list[str]:
    """Why the reply's tool calls cannot be used as they are (empty when they can)."""
    params = {t.name: t.parameters for t in tools}
    problems = []
    for call in reply.tool_calls:
        problems.extend(str(v) for v in call_problems(call, params))
    return problems


async def respond(
    llm: LLM,
    tools: list[Tool],
    history: list[dict[str, Any]],
    *,
    tracker: UsageTracker | None = None,
    max_repairs: int = 1,
    tool_choice: str | dict[str, Any] | None = None,
    expected: Expected | None = None,
) -> ChatReply:
    """The assistant's next message. `history` starts with the system message.

    With `expected` (the blueprint's calls pending in this turn) the planned values are pinned where the
    backend decodes under a grammar, and calls that differ from them count as unusable: one repair
    (the budget), then the caller rejects the dialogue with the mismatch.

    Unusable calls are re-asked under the LLM layer's repair policy; the correction goes into the system
    message of the retry (not into the dialogue): every chat template accepts a leading system message,
    not all accept extra ones. After the budget the last reply is returned as it is, and the dialogue's
    checks reject it with the problems.
    """
    openai_tools = [t.openai_tool() for t in tools]
    convo = {"messages": history}
    pins = {name: values for name, (_, values) in expected.items()} if expected else None

    async def ask(attempt: int) -> ChatReply:
        reply = await llm.chat("assistant", convo["messages"], tools=openai_tools, tracker=tracker,
                               tool_choice=tool_choice, arguments=pins)
        return ChatReply(content=reply.content, tool_calls=[normalize_call(c) for c in reply.tool_calls],
                         finish_reason=reply.finish_reason)

    def check(reply: ChatReply) -> ChatReply:
        problems = reply_problems(reply, tools) or blueprint_problems(reply, expected)
        if problems and reply.finish_reason == "length":
            raise Unrepairable("; ".join(problems))
        if problems:
            raise ValueError("\n".join(f"- {p}" for p in problems))
        return reply

    def reject(reply: ChatReply, exc: ValueError) -> None:
        convo["messages"] = add_system_text(history, render("assistant_repair", problems=str(exc)))

    try:
        return await repair_loop(ask, check, reject, max_repairs)
    except RepairsExhausted as exc:
        return exc.last
