"""Tool agent: simulates a tool's result as JSON that fits its return schema.

Results must agree with earlier ones (same ids, same entities), so the agent sees the earlier calls
and results. It parses the reply itself (any JSON value a schema allows, not one fixed model), so it
also repairs it: invalid JSON or a schema mismatch is fed back, a bounded number of times.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolflow.engine.agents.prompting import render
from toolflow.engine.checks import validate_against
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Tool

#: How many earlier results the tool agent sees; enough for consistency, bounded for prompt size.
MAX_EARLIER = 8


class ToolSimError(Exception):
    """No acceptable result after the repair budget."""


def parse_json_reply(text: str | None) -> Any:
    """The JSON value in a model reply, tolerating code fences and prose around one object or array."""
    if text is None:
        raise ValueError("empty reply")
    s = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", s, re.DOTALL)
    if fenced:
        s = fenced.group(1).strip()
    try:
        return json.loads(s)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for start in sorted(i for i in (s.find("{"), s.find("[")) if i >= 0):
        try:
            return decoder.raw_decode(s, start)[0]  # the first whole value; trailing text ignored
        except ValueError:
            continue
    raise ValueError("no JSON value found")


def _echoes_schema(result: Any, returns: dict[str, Any] | None) -> bool:
    """Small models sometimes answer with the return schema instead of a value of it."""
    if not isinstance(result, dict) or result.get("type") not in ("object", "array") or "properties" not in result:
        return False
    declared = (returns or {}).get("properties") or {}
    return "type" not in declared and "properties" not in declared


def result_problem(tool: Tool, result: Any) -> str | None:
    """Why `result` is not acceptable for `tool`, or None."""
    if _echoes_schema(result, tool.returns):
        return "that is the schema; return an actual result that follows it, with realistic values"
    if tool.returns is None:
        return None if isinstance(result, dict) else "the result must be a JSON object"
    missing, errors, _ = validate_against(tool.returns, result)
    problems = [f"missing required field {m!r}" for m in missing] + errors
    return "; ".join(problems[:5]) or None


async def simulate(
    llm: LLM,
    tool: Tool,
    arguments: Any,
    earlier: list[dict[str, Any]],
    *,
    tracker: UsageTracker | None = None,
    max_attempts: int = 3,
) -> Any:
    """The simulated result of calling `tool` with `arguments`.

    `earlier` holds ``{"name", "arguments", "result"}`` for the dialogue's previous calls, oldest first.
    Raises ToolSimError when no acceptable result came back.
    """
    spec = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
    returns = tool.returns if tool.returns is not None else {"type": "object", "description": "any JSON object"}
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": render("tool", tool=json.dumps(spec, ensure_ascii=False, indent=1),
                                             returns=json.dumps(returns, ensure_ascii=False, indent=1))},
        {"role": "user", "content": render(
            "tool_call",
            earlier=json.dumps(earlier[-MAX_EARLIER:], ensure_ascii=False, indent=1),
            call=json.dumps({"name": tool.name, "arguments": arguments}, ensure_ascii=False))},
    ]
    problem = "no attempt made"
    for _ in range(max_attempts):
        reply = await llm.chat("tool", messages, tracker=tracker)
        try:
            result = parse_json_reply(reply.content)
        except ValueError as exc:
            problem = f"not valid JSON ({exc})"
        else:
            problem = result_problem(tool, result)
            if problem is None:
                return result
        messages = [*messages, {"role": "assistant", "content": reply.content or ""},
                    {"role": "user", "content": render("tool_repair", problem=problem)}]
    raise ToolSimError(f"{tool.name}: {problem}")
