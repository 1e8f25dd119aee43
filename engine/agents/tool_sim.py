"""Tool agent: simulates a tool's result as JSON that fits its return schema.

Results must agree with earlier ones (same ids, same entities), so the agent sees the earlier calls
and results that matter. The return schema itself is the output schema (`structured_json`; on
llama.cpp a grammar, so the result fits by construction); LLMs without that answer in plain chat and
the reply is parsed here. Either way invalid JSON or a schema mismatch is fed back, a bounded number
of times.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolflow.engine.agents.prompting import render
from toolflow.engine.checks import validate_against
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.llm.schema import grammar_schema, tool_line
from toolflow.engine.models import Tool

#: How many earlier results the tool agent sees; enough for consistency, bounded for prompt size
#: (every prompt token costs time on a small local model).
MAX_EARLIER = 3


def _values(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {v for x in value.values() for v in _values(x)}
    if isinstance(value, list):
        return {v for x in value for v in _values(x)}
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    return {text} if len(text) >= 3 else set()


def relevant_earlier(earlier: list[dict[str, Any]], arguments: Any, limit: int = MAX_EARLIER) -> list[dict[str, Any]]:
    """The earlier calls the tool agent needs to stay consistent, oldest first: those whose results
    hold a value this call passes (the hotel id being booked), then the most recent ones, `limit` in all."""
    wanted = _values(arguments)
    grounding = [i for i, e in enumerate(earlier) if wanted & _values(e.get("result"))]
    keep = set(grounding[-limit:])
    for i in range(len(earlier) - 1, -1, -1):
        if len(keep) >= limit:
            break
        keep.add(i)
    return [earlier[i] for i in sorted(keep)]


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


#: Bounds on simulated results: realistic results are short, and a small model under a grammar
#: otherwise fills arrays and strings until the token limit.
RESULT_STRING_CHARS = 80
RESULT_ARRAY_ITEMS = 2


def result_schema(tool: Tool) -> dict[str, Any]:
    """The output schema of the tool agent: the tool's return schema (any JSON object without one),
    made grammar-safe, bounded and complete (every declared field present, no empty lists): a
    narrowing, so :func:`result_problem` only has to catch what a grammar cannot express."""
    returns = tool.returns if tool.returns is not None else {"type": "object"}
    return grammar_schema(returns, max_string=RESULT_STRING_CHARS, max_items=RESULT_ARRAY_ITEMS, min_items=1,
                          require_all=True)


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
    returns = grammar_schema(tool.returns) if tool.returns is not None else {"type": "object",
                                                                             "description": "any JSON object"}
    shown = relevant_earlier(earlier, arguments)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": render("tool", tool=tool_line(tool.openai_tool()["function"]),
                                             returns=json.dumps(returns, ensure_ascii=False))},
        {"role": "user", "content": render(
            "tool_call",
            earlier="\n".join(json.dumps(e, ensure_ascii=False) for e in shown) or "(none)",
            call=json.dumps({"name": tool.name, "arguments": arguments}, ensure_ascii=False))},
    ]
    problem = "no attempt made"
    structured_json = getattr(llm, "structured_json", None)
    for _ in range(max_attempts):
        if callable(structured_json):
            # the return schema as the output schema: a grammar on llama.cpp, so the result fits it by
            # construction; the prompt already shows the schema (describe=False)
            try:
                result = await structured_json("tool", messages, result_schema(tool), name=f"{tool.name}_result",
                                               tracker=tracker, describe=False)
            except StructuredOutputError as exc:
                text, problem = exc.last_output or "", f"not valid JSON ({exc})"
            else:
                text, problem = json.dumps(result, ensure_ascii=False), result_problem(tool, result)
        else:
            reply = await llm.chat("tool", messages, tracker=tracker)
            text = reply.content or ""
            try:
                result = parse_json_reply(reply.content)
            except ValueError as exc:
                problem = f"not valid JSON ({exc})"
            else:
                problem = result_problem(tool, result)
        if problem is None:
            return result
        messages = [*messages, {"role": "assistant", "content": text},
                    {"role": "user", "content": render("tool_repair", problem=problem)}]
    raise ToolSimError(f"{tool.name}: {problem}")
