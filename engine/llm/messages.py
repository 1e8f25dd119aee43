"""Outgoing-message shaping: the small rewrites that let one message list work on every endpoint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.seeds import call_id as seeded_call_id


def _args_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _copy_call(call: dict[str, Any]) -> dict[str, Any]:
    """A tool call with its own `function` dict, so filling in its defaults leaves the caller's intact."""
    copied = dict(call)
    if isinstance(copied.get("function"), dict):
        copied["function"] = dict(copied["function"])
    return copied


def normalize_messages(
    messages: list[dict[str, Any]], *, flatten_tools: bool = False
) -> list[dict[str, Any]]:
    """Copy `messages` into a form every OpenAI-compatible server accepts.

    - assistant ``content: None`` becomes ``""`` (llama.cpp's request validation rejects null);
    - tool-call arguments are JSON strings (agents may hand us dicts);
    - with `flatten_tools` (endpoints without native tool calling, whose chat templates silently drop
      ``tool_calls``), an assistant's calls become JSON text in the emulation format and tool results
      become user messages, so the model actually sees them.
    """
    out: list[dict[str, Any]] = []
    for msg in messages:
        m = dict(msg)  # only the message and its tool calls are rewritten: copy those, share the rest
        role = m.get("role")
        calls = [_copy_call(c) for c in m.get("tool_calls") or []]
        if calls:
            m["tool_calls"] = calls
        if role == "assistant":
            if m.get("content") is None:
                m["content"] = ""
            if calls:
                for c in calls:
                    fn = c.setdefault("function", {})
                    fn["arguments"] = _args_text(fn.get("arguments", {}))
                    c.setdefault("type", "function")
            else:
                m.pop("tool_calls", None)
            if flatten_tools and calls:
                emulated = [
                    {
                        "name": c["function"].get("name"),
                        "arguments": loads_or_text(c["function"]["arguments"]),
                    }
                    for c in calls
                ]
                text = json.dumps({"tool_calls": emulated}, ensure_ascii=False)
                m = {"role": "assistant", "content": (m["content"] + "\n" + text).strip()}
        elif role == "tool" and flatten_tools:
            label = m.get("name") or m.get("tool_call_id") or "tool"
            m = {"role": "user", "content": f"[result of {label}] {m.get('content') or ''}"}
        elif m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


def add_system_text(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Append `text` to the leading system message, or insert one."""
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content') or ''}\n\n{text}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def call_id(messages: list[dict[str, Any]], index: int, name: str, arguments: str) -> str:
    """Id for a tool call the server returned without one: the same conversation and call always get the
    same id (cache-friendly); the conversation digest keeps ids unique across turns. Same format as the
    dialogue's own call ids (`toolflow.engine.seeds.call_id`)."""
    blob = json.dumps([messages, name, arguments], sort_keys=True, ensure_ascii=False, default=str)
    return seeded_call_id(hashlib.sha256(blob.encode("utf-8")).hexdigest(), index)

def strip_fences(text: str) -> str:
    """Small models wrap JSON in ```json fences even in JSON mode."""
    t = text.strip()
    if "```" not in t:
        return t
    fenced = re.search(r"```[a-zA-Z0-9]*\s*(.*?)```", t, re.DOTALL)
    if fenced:
        return fenced.group(1).strip()
    if t.startswith("```"):  # an opening fence whose closing one was cut off
        t = re.sub(r"^```[a-zA-Z0-9]*\s*", "", t)
    return t


#: ``json.loads(text, strict=False)`` without building a decoder per call.
_LENIENT = json.JSONDecoder(strict=False)


def parse_json_text(text: str | None) -> Any:
    """The JSON value in a model reply: ``json.loads(strict=False)`` (models emit raw control characters in
    strings); with code fences or prose around it, the first complete object or array, instead of paying a
    repair round-trip. Raises json.JSONDecodeError (a ValueError) when there is none."""
    if text is None:
        raise json.JSONDecodeError("empty reply", "", 0)
    text = strip_fences(text)
    try:
        if text.startswith("\ufeff"):  # json.loads' own BOM error, word for word (it is fed back on a repair)
            return json.loads(text, strict=False)
        return _LENIENT.decode(text)
    except json.JSONDecodeError as exc:
        for start in sorted(i for i in (text.find("{"), text.find("[")) if i >= 0):
            try:
                return _LENIENT.raw_decode(text, start)[0]  # the first whole value; trailing text ignored
            except json.JSONDecodeError:
                continue
        raise exc


#: How many cut points `truncated_json_values` tries, newest first.
MAX_CUT_TRIES = 64
_CLOSER = {"{": "}", "[": "]"}


def truncated_json_values(text: str | None) -> Iterator[Any]:
    """The JSON values an output cut off at the token limit may be completed to, by rule, longest first:
    the item being written when the cut came is dropped (a half string or number is no value) and the open
    arrays and objects are closed; then the item around it, and so on outwards. ``{"hotels": [{"id":
    "H-1"}, {"id": "H-2", "name": "Ca`` gives ``{"hotels": [{"id": "H-1"}, {"id": "H-2"}]}``, then
    ``{"hotels": [{"id": "H-1"}]}``: the caller keeps the first its schema accepts. Nothing when no whole
    item precedes the cut or the text is no JSON prefix at all.
    """
    text = strip_fences(text or "").rstrip()
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return
    seen: set[str] = set()
    for end, stack in reversed(_cut_points(text, start)[-MAX_CUT_TRIES:]):
        candidate = text[start:end].rstrip().rstrip(",") + "".join(_CLOSER[c] for c in reversed(stack))
        if candidate in seen:  # the end of an item and the comma after it complete alike
            continue
        seen.add(candidate)
        try:
            yield json.loads(candidate, strict=False)
        except json.JSONDecodeError:
            continue


def complete_truncated_json(text: str | None) -> Any:
    """The longest completion of a cut JSON output (`truncated_json_values`), or None."""
    return next(truncated_json_values(text), None)


def _cut_points(text: str, start: int) -> list[tuple[int, list[str]]]:
    """(end, open containers) for every place where the text so far ends on a whole item: before a comma
    that follows an item, just after a container that was closed. Not just inside an opened one: a half
    item ``{"id": "H-`` is dropped whole, not kept as ``{}``."""
    stack: list[str] = []
    cuts: list[tuple[int, list[str]]] = []
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in _CLOSER:
            stack.append(ch)
        elif ch in "]}":
            if not stack:
                break
            stack.pop()
            if not stack:
                return [(i + 1, [])]  # the value is whole: the cut came after it
            cuts.append((i + 1, list(stack)))
        elif ch == ",":
            cuts.append((i, list(stack)))
    return cuts
