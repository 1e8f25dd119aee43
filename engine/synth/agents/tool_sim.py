"""Tool agent: simulates a tool's result as JSON that fits its return schema.

Results must agree with earlier ones (same ids, same entities), so the agent sees the earlier calls
and results that matter. The return schema itself is the output schema (`structured_json`; on
llama.cpp a grammar, so the result fits by construction); invalid JSON or a schema mismatch is fed back
under the LLM layer's one repair policy (`max_repairs` re-asks, the settings' budget by default).
"""

from __future__ import annotations

import re
from typing import Any

from toolflow.engine.errors import LLMError
from toolflow.engine.jsontext import compact_json
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError
from toolflow.engine.llm.repair import RepairFeedback
from toolflow.engine.llm.schema import grammar_schema
from toolflow.engine.models import Tool
from toolflow.engine.synth.agents.prompting import render
from toolflow.engine.synth.blueprint import USABLE_CHARS, USABLE_PATTERN, value_at
from toolflow.engine.synth.checks import validate_against
from toolflow.engine.synth.leak_checks import value_problems

#: How many earlier results the tool agent sees: those holding a value this call passes first, then the
#: latest; enough for consistency, bounded for prompt size (every prompt token costs time on a small model).
MAX_EARLIER = 2
#: Lines of the return-field outline and characters of each field's description in the tool agent's prompt.
OUTLINE_FIELDS = 40
OUTLINE_DESCRIPTION_CHARS = 100


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


class ToolSimError(LLMError):
    """No acceptable result after the repair budget."""


def _echoes_schema(result: Any, returns: dict[str, Any] | None) -> bool:
    """Small models sometimes answer with the return schema instead of a value of it."""
    if not isinstance(result, dict) or result.get("type") not in ("object", "array") or "properties" not in result:
        return False
    declared = (returns or {}).get("properties") or {}
    return "type" not in declared and "properties" not in declared


#: Default bounds on simulated results (the llama_cpp backend profile's; per backend in LLMSettings
#: ``result_items`` / ``result_chars``): realistic results are short, and a small model under a grammar
#: otherwise fills arrays and strings until the token limit.
RESULT_STRING_CHARS = 80
RESULT_ARRAY_ITEMS = 2
# A value a later call takes from a result is at least `USABLE_CHARS` long and looks like a value
# (`blueprint.USABLE_PATTERN`): the blueprint only plans result sources that can meet it.


def require_paths(schema: dict[str, Any], paths: set[str] | None) -> dict[str, Any]:
    """`schema` (already grammar-safe) with the fields later calls reference made present and usable:
    required on the way down, lists long enough for the referenced element, strings non-trivial."""
    for path in sorted(paths or ()):
        node = schema
        for part in path.split("."):
            if part.isdigit() and node.get("type") == "array" and isinstance(node.get("items"), dict):
                node["minItems"] = max(int(node.get("minItems", 0)), int(part) + 1)
                node["maxItems"] = max(int(node.get("maxItems", 0)), node["minItems"])
                node = node["items"]
            elif isinstance(node.get("properties"), dict) and isinstance(node["properties"].get(part), dict):
                node["required"] = list(dict.fromkeys([*node.get("required", []), part]))
                node = node["properties"][part]
            else:
                break
        else:
            if node.get("type") == "string" and not {"enum", "const", "format"} & node.keys():
                node["minLength"] = max(int(node.get("minLength", 0)), USABLE_CHARS)
                node["maxLength"] = max(int(node.get("maxLength", USABLE_CHARS)), USABLE_CHARS)
                node["pattern"] = USABLE_PATTERN
    return schema


def result_schema(tool: Tool, *, max_items: int = RESULT_ARRAY_ITEMS, max_chars: int = RESULT_STRING_CHARS,
                  needed: set[str] | None = None, require_all: bool = True) -> dict[str, Any]:
    """The output schema of the tool agent: the tool's return schema (any JSON object without one),
    made grammar-safe, bounded and complete (every declared field present, no empty lists), with the
    `needed` paths (fields later calls take values from) usable: a narrowing, so :func:`result_problem`
    only has to catch what a grammar cannot express. ``require_all=False`` requires only the declared
    required fields (for schemas too wide to fill within the token limit)."""
    returns = _typed(tool.returns) if tool.returns is not None else {"type": "object"}
    return require_paths(grammar_schema(returns, max_string=max_chars, max_items=max_items, min_items=1,
                                        require_all=require_all), needed)


def _typed(returns: dict[str, Any]) -> dict[str, Any]:
    """A top-level return schema with its implied type stated (``items`` alone is an array, ``properties``
    alone an object): a grammar converter otherwise reads it as any value, and the result is free text."""
    if "type" in returns:
        return returns
    implied = "array" if "items" in returns else "object" if "properties" in returns else None
    return {**returns, "type": implied} if implied else returns


#: Characters of a simulated JSON result per token, on the safe side: keys, quotes and short values
#: tokenize more densely than prose (about 4 characters a token).
CHARS_PER_TOKEN = 3
#: The shortest string bound a token budget shrinks results to: a name or an id still fits.
MIN_RESULT_CHARS = 16
#: Characters assumed for a value the schema does not bound (no type, a free-form object).
UNBOUNDED_CHARS = 120


def result_size(schema: Any) -> int:
    """The most characters a compact JSON value valid under the bounded result `schema` takes (an
    estimate where the schema leaves the size open: `UNBOUNDED_CHARS`)."""
    if not isinstance(schema, dict):
        return UNBOUNDED_CHARS
    if "enum" in schema or "const" in schema:
        return max((len(compact_json(v)) for v in schema.get("enum") or [schema.get("const")]), default=4)
    kind = schema.get("type")
    if kind == "object" and isinstance(schema.get("properties"), dict) and schema["properties"]:
        return 2 + sum(len(k) + 4 + result_size(v) for k, v in schema["properties"].items())
    if kind == "array" and isinstance(schema.get("items"), dict) and isinstance(schema.get("maxItems"), int):
        return 2 + schema["maxItems"] * (result_size(schema["items"]) + 1)
    if kind == "string":
        return 2 + int(schema.get("maxLength", UNBOUNDED_CHARS))
    return {"integer": 12, "number": 16, "boolean": 5, "null": 4}.get(str(kind), UNBOUNDED_CHARS)


def budgeted_schema(tool: Tool, *, max_items: int, max_chars: int, needed: set[str] | None,
                    max_tokens: int | None) -> dict[str, Any]:
    """`result_schema` with bounds small enough that a result fits in `max_tokens` (the tool role's output
    limit): fewer list items first, then shorter strings, down to one item of `MIN_RESULT_CHARS`; past
    that, only the declared required fields stay required.
    Measured on ToolBench: wide return schemas at the llama.cpp bounds (2 items, 80 characters) ran past
    512 tokens and the cut result was rejected (`tool_sim_failed ... finish_reason=length`)."""
    schema = result_schema(tool, max_items=max_items, max_chars=max_chars, needed=needed)
    limit = None if max_tokens is None else max_tokens * CHARS_PER_TOKEN
    while limit is not None and result_size(schema) > limit and (max_items > 1 or max_chars > MIN_RESULT_CHARS):
        if max_items > 1:
            max_items -= 1
        else:
            max_chars = max(MIN_RESULT_CHARS, max_chars // 2)
        schema = result_schema(tool, max_items=max_items, max_chars=max_chars, needed=needed)
    if limit is not None and result_size(schema) > limit:
        # too wide even at the smallest bounds: only the declared required fields stay required, so a
        # result cut at the limit is completed by rule (the cut field dropped) instead of rejected
        schema = result_schema(tool, max_items=max_items, max_chars=max_chars, needed=needed, require_all=False)
    return schema


def missing_paths(result: Any, needed: set[str] | None) -> list[str]:
    """The `needed` paths `result` does not fill with a usable value."""
    out = []
    for path in sorted(needed or ()):
        try:
            v = value_at(result, path)
        except (KeyError, TypeError):
            out.append(path)
            continue
        if v is None or isinstance(v, dict | list) or (isinstance(v, str) and not re.match(USABLE_PATTERN, v)):
            out.append(path)
    return out


def _outline_type(node: dict[str, Any]) -> str:
    if "enum" in node:
        return "one of " + ", ".join(compact_json(v) for v in node["enum"][:8])
    kind = node.get("type", "any")
    if kind == "array" and isinstance(node.get("items"), dict):
        return f"array of {_outline_type(node['items'])}"
    return " or ".join(map(str, kind)) if isinstance(kind, list) else str(kind)


def fields_outline(schema: Any, *, limit: int = OUTLINE_FIELDS) -> str:
    """The return schema as the tool agent reads it: one ``- path (type): description`` line per field
    (``hotels[].name``), instead of the schema's JSON. The grammar still enforces the whole schema; the
    outline only says what each field means, in about half the tokens. Past `limit` fields the rest is
    counted, not listed."""
    lines: list[str] = []
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        path, node = stack.pop(0)
        if not isinstance(node, dict):
            continue
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            node, path = node["items"], f"{path}[]"
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        for name, sub in props.items():
            if not isinstance(sub, dict):
                continue
            full = f"{path}.{name}" if path else name
            desc = " ".join(str(sub.get("description") or "").split())[:OUTLINE_DESCRIPTION_CHARS]
            lines.append(f"- {full} ({_outline_type(sub)})" + (f": {desc}" if desc else ""))
            stack.append((full, sub))
    if not lines:
        return "any JSON object"
    more = f"\n(and {len(lines) - limit} more fields)" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def tool_head(tool: Tool) -> str:
    """The tool as the tool agent reads it: its name and description (the call shows the arguments)."""
    return f"{tool.name}: {' '.join((tool.description or '').split())[:300]}"


def result_problem(tool: Tool, result: Any) -> str | None:
    """Why `result` is not acceptable for `tool`, or None."""
    if _echoes_schema(result, tool.returns):
        return "that is the schema; return an actual result that follows it, with realistic values"
    if tool.returns is None:
        return "; ".join(value_problems(result, None)) or None if isinstance(result, dict) else \
            "the result must be a JSON object"
    missing, errors, _ = validate_against(tool.returns, result)
    problems = [f"missing required field {m!r}" for m in missing] + errors + value_problems(result, tool.returns)
    return "; ".join(problems[:5]) or None


async def simulate(
    llm: LLM,
    tool: Tool,
    arguments: Any,
    earlier: list[dict[str, Any]],
    *,
    tracker: UsageTracker | None = None,
    max_repairs: int | None = None,
    max_items: int = RESULT_ARRAY_ITEMS,
    max_chars: int = RESULT_STRING_CHARS,
    needed: set[str] | None = None,
    max_tokens: int | None = None,
) -> Any:
    """The simulated result of calling `tool` with `arguments`.

    `earlier` holds ``{"name", "arguments", "result"}`` for the dialogue's previous calls, oldest first.
    `needed` are the result paths later calls of the blueprint take values from; `max_tokens`, the tool
    role's output limit, bounds the result's size (`budgeted_schema`), and a result cut at it all the same
    is completed by rule (the cut item dropped) when what remains is acceptable. Raises ToolSimError when
    no acceptable result came back.
    """
    returns = grammar_schema(tool.returns) if tool.returns is not None else {"type": "object"}
    shown = relevant_earlier(earlier, arguments)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": render("tool", tool=tool_head(tool), returns=fields_outline(returns))},
        {"role": "user", "content": render(
            "tool_call",
            earlier="\n".join(compact_json(e) for e in shown) or "(none)",
            call=compact_json({"name": tool.name, "arguments": arguments}))},
    ]
    def check(result: Any) -> Any:
        problem = result_problem(tool, result)
        if problem is None and (gaps := missing_paths(result, needed)):
            problem = "give these fields realistic, specific values: " + ", ".join(gaps)
        if problem is not None:
            raise RepairFeedback(problem, render("tool_repair", problem=problem))
        return result

    try:
        # the return schema as the output schema: a grammar on llama.cpp, so the result fits it by
        # construction; the prompt already shows the schema (describe=False)
        schema = budgeted_schema(tool, max_items=max_items, max_chars=max_chars, needed=needed,
                                 max_tokens=max_tokens)
        return await llm.structured_json("tool", messages, schema, validate=check,
                                         name=f"{tool.name}_result", tracker=tracker, describe=False,
                                         max_repairs=max_repairs, complete_truncated=True)
    except StructuredOutputError as exc:
        raise ToolSimError(f"{tool.name}: {exc.errors[-1] if exc.errors else exc}") from exc
