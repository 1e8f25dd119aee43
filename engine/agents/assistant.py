"""Assistant agent: tools + history → OpenAI tool_calls (parallel allowed) or a text reply.

This is the side the dataset teaches, so its output is normalized to the exact OpenAI shape and a reply
with unusable calls (unknown tool, arguments that are not JSON or break the schema, missing required
values) is re-asked a bounded number of times with the problems spelled out.
"""

from __future__ import annotations

import json
from typing import Any

from toolflow.engine.agents.prompting import load_prompt, render
from toolflow.engine.checks import call_problems
from toolflow.engine.llm.base import LLM, ChatReply, UsageTracker
from toolflow.engine.models import Tool


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


def reply_problems(reply: ChatReply, tools: list[Tool]) -> list[str]:
    """Why the reply's tool calls cannot be used as they are (empty when they can)."""
    params = {t.name: t.parameters for t in tools}
    problems = []
    for call in reply.tool_calls:
        problems.extend(call_problems(call, params))
    return problems


async def respond(
    llm: LLM,
    tools: list[Tool],
    history: list[dict[str, Any]],
    *,
    tracker: UsageTracker | None = None,
    max_repairs: int = 1,
    tool_choice: str | dict[str, Any] | None = None,
) -> ChatReply:
    """The assistant's next message. `history` starts with the system message.

    `tool_choice` (OpenAI's values) is passed on only when it is not the default ``"auto"``, so an
    LLM without that keyword still works for unguided dialogues.
    On unusable calls the correction goes into the system message of a retry (not into the
    dialogue): every chat template accepts a leading system message, not all accept extra ones.
    """
    openai_tools = [t.openai_tool() for t in tools]
    extra: dict[str, Any] = {} if tool_choice in (None, "auto") else {"tool_choice": tool_choice}
    messages = history
    reply = ChatReply()
    for attempt in range(max_repairs + 1):
        reply = await llm.chat("assistant", messages, tools=openai_tools, tracker=tracker, **extra)
        reply = ChatReply(content=reply.content, tool_calls=[normalize_call(c) for c in reply.tool_calls],
                          finish_reason=reply.finish_reason)
        problems = reply_problems(reply, tools)
        if not problems or attempt == max_repairs or reply.finish_reason == "length":
            break
        note = render("assistant_repair", problems="\n".join(f"- {p}" for p in problems))
        system = dict(history[0]) if history and history[0].get("role") == "system" else {"role": "system", "content": ""}
        system["content"] = f"{system.get('content') or ''}\n\n{note}".strip()
        rest = history[1:] if history and history[0].get("role") == "system" else history
        messages = [system, *rest]
    return reply
