"""Where each argument value of a dialogue's tool calls comes from: the user's words, an earlier tool
result, the schema's default, or nowhere. Pure: the same evidence feeds ``meta.provenance``, the sourcing
check and the multi-step scenario check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolflow.engine.models import Dialogue

#: A value shorter than this is not looked for (a "2" is in every text); the independent definition of
#: "sourced" that the issue's figures use counts strings of 3+ characters.
SOURCED_CHARS = 3
#: Worst first: a list or object argument takes the lowest-ranked evidence of its parts.
_RANK = {"unsourced": 0, "default": 1, "result": 2, "user": 3, "unchecked": 4}


def tool_params(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tool name → its parameter schema (an empty object schema when it declares none)."""
    out = {}
    for t in tools:
        fn = t.get("function", t)
        out[fn.get("name")] = fn.get("parameters") or {"type": "object", "properties": {}}
    return out


def _number_text(v: int | float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _found(value: Any, text: str) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in text.casefold()
    shown = re.escape(_number_text(value))
    return re.search(rf"(?<![\d.]){shown}(?![\d])", text) is not None


def _value_evidence(value: Any, schema: dict[str, Any], users: list[tuple[int, str]],
                    results: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Where one scalar argument value is found before its call: ``user`` (`found_in`: the message index),
    ``result`` (`found_in`: the tool message, `result_of`: its call id), ``default`` (the schema default or an enum member),
    ``unsourced``, or ``unchecked`` (booleans, nulls, values too short to look for)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return {"evidence": "unchecked"}
    text = value if isinstance(value, str) else _number_text(value)
    if len(text.strip()) < SOURCED_CHARS:
        return {"evidence": "unchecked"}
    for i, content in reversed(users):
        if _found(value, content):
            return {"evidence": "user", "found_in": i}
    for i, cid, content in reversed(results):
        if _found(value, content):
            return {"evidence": "result", "found_in": i, "result_of": cid}
    if value == schema.get("default") or value in (schema.get("enum") or []):
        return {"evidence": "default"}
    return {"evidence": "unsourced"}


def _leaf_items(value: Any, schema: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return [x for k, v in value.items() for x in _leaf_items(v, props.get(k) or {})]
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [x for v in value for x in _leaf_items(v, items)]
    return [(value, schema)]


def _call_evidence(call: dict[str, Any], i: int, params: dict[str, dict[str, Any]],
                   users: list[tuple[int, str]], results: list[tuple[int, str, str]]) -> dict[str, Any]:
    fn = call.get("function") or {}
    try:
        args = json.loads(fn.get("arguments") or "{}")
    except (TypeError, ValueError):
        args = None
    props = (params.get(fn.get("name")) or {}).get("properties") or {}
    entry: dict[str, Any] = {"call_id": call.get("id"), "tool": fn.get("name"), "message": i, "arguments": {}}
    for arg, value in args.items() if isinstance(args, dict) else []:
        found = [_value_evidence(v, sch, users, results) for v, sch in _leaf_items(value, props.get(arg) or {})]
        worst = min(found, key=lambda e: _RANK[e["evidence"]], default={"evidence": "unchecked"})
        entry["arguments"][arg] = {"value": value, **worst}
    return entry


def argument_evidence(dialogue: Dialogue) -> list[dict[str, Any]]:
    """Per tool call, in order: its id, tool, message index and, per argument, where its value is found
    in the dialogue before the call (:func:`_value_evidence`; a list or object argument takes the worst
    evidence of its parts)."""
    params = tool_params(dialogue.tools)
    users: list[tuple[int, str]] = []
    results: list[tuple[int, str, str]] = []
    out: list[dict[str, Any]] = []
    for i, m in enumerate(dialogue.messages):
        role, content = m.get("role"), m.get("content")
        text = content if isinstance(content, str) else ""
        if role == "user":
            users.append((i, text))
        elif role == "tool":
            results.append((i, str(m.get("tool_call_id") or ""), text))
        elif role == "assistant":
            out += [_call_evidence(call, i, params, users, results) for call in m.get("tool_calls") or []]
    return out
