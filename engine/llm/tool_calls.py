"""Tool calling for the client: native ``tools=`` where the endpoint honours it, else emulated with a union JSON
schema (``{"message"}`` or ``{"tool_calls": [...]}``, enforced as a grammar by llama.cpp), OpenAI-shaped either way.
A mixin of :class:`toolflow.engine.llm.client.OpenAIClientLLM`, plus the emulation schema and prompt.
"""

from __future__ import annotations

import json
from typing import Any

from toolflow.engine.llm.base import ChatReply, UsageTracker
from toolflow.engine.llm.completion import is_format_rejection, retry_only_throttling
from toolflow.engine.llm.errors import (
    LLMError,
)
from toolflow.engine.llm.messages import call_id, normalize_messages
from toolflow.engine.llm.schema import grammar_schema, pin_arguments, tool_line
from toolflow.engine.llm.settings import ResolvedRole
from toolflow.engine.secrets import redact_logger

log = redact_logger("toolflow.llm")  # LLM error text may echo an API key


class ToolCalling:
    """Native and emulated tool calls (see the module docstring)."""

    # -- tool calls --------------------------------------------------------------------------------

    def _native_tools_for(self, rs: ResolvedRole) -> bool | None:
        if rs.native_tools == "on":
            return True
        if rs.native_tools == "off":
            return False
        return self._native_tools.get(rs.endpoint)

    async def _native_chat(
        self,
        rs: ResolvedRole,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        tracker: UsageTracker | None,
        *,
        probing: bool,
        tool_choice: str | dict[str, Any] | None = None,
    ) -> ChatReply | None:
        """Native tool calling; None if a probed endpoint rejected `tools=` (then we emulate)."""
        convo = normalize_messages(messages)
        params = {**self._base_params(rs), "tools": tools}
        if tool_choice is not None:
            params["tool_choice"] = tool_choice
        try:
            comp = await self._call(
                rs, convo, params, tracker, retry_if=retry_only_throttling if probing else None
            )
        except LLMError as exc:
            if probing and is_format_rejection(exc.__cause__):
                log.warning("%s rejected native tools (%s); emulating tool calls", rs.endpoint, exc.__cause__)
                self._native_tools[rs.endpoint] = False
                self.stats["fallbacks"] += 1
                return None
            raise
        if probing:
            self._native_tools[rs.endpoint] = True
        calls = []
        for i, tc in enumerate(comp.tool_calls):
            fn = dict(tc.get("function") or {})
            args = fn.get("arguments")
            fn["arguments"] = args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
            calls.append(
                {
                    "id": tc.get("id") or call_id(convo, i, fn.get("name", ""), fn["arguments"]),
                    "type": "function",
                    "function": fn,
                }
            )
        return ChatReply(content=comp.content, tool_calls=calls, finish_reason=comp.finish_reason)

    async def _emulated_chat(
        self,
        rs: ResolvedRole,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        tracker: UsageTracker | None,
        *,
        offered: list[dict[str, Any]] | None = None,
        mode: str = "auto",
        pinned: dict[str, dict[str, Any]] | None = None,
    ) -> ChatReply:
        """Tool calling via a union schema: ``{"message": str}`` or ``{"tool_calls": [{"name", "arguments"}]}``.

        The prompt lists the tools the reply may call (:func:`shown_tools`: the `offered` ones, none when
        ``mode="none"``); the schema allows only those, and only the message branch (``mode="none"``) or
        only the calls branch (``mode="required"``) when asked.
        """
        every = {t["function"]["name"]: t["function"] for t in tools if t.get("function", {}).get("name")}
        names = {t.get("function", {}).get("name") for t in (tools if offered is None else offered)}
        functions = {n: fn for n, fn in every.items() if n in names}
        # narrowed to some tools (allowed_tools / a named function): one call per tool, as asked for;
        # otherwise parallel calls of one tool stay possible
        max_calls = len(functions) if offered is not None and len(functions) < len(every) else None
        schema = emulation_schema(list(functions.values()), mode=mode, max_calls=max_calls, pinned=pinned)
        convo = normalize_messages(messages, flatten_tools=True)
        if (fixed := fixed_call(functions, mode=mode, max_calls=max_calls, pinned=pinned)) is not None:
            return emulated_reply(fixed, functions, mode, convo)  # the grammar admits this reply and no other
        hint = emulation_prompt([t["function"] for t in shown_tools(tools, offered, mode)], pinned)

        def to_reply(data: Any) -> ChatReply:
            return emulated_reply(data, functions, mode, convo)

        # The hint already shows the reply format and every tool's parameters: repeating them as a
        # schema would double the prompt (JSON mode still gets the schema as a grammar).
        return await self._structured(
            rs, convo, schema, "reply_or_tool_calls", to_reply, tracker, hint=hint, describe=False
        )


# -- tool-call emulation schema ----------------------------------------------------------------------


def emulated_reply(data: Any, functions: dict[str, Any], mode: str, convo: list[dict[str, Any]]) -> ChatReply:
    """The OpenAI-shaped reply for an emulated answer `data` (``{"message"}`` or ``{"tool_calls"}``); a
    ValueError says what to fix (fed back by the repair policy)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if data.get("tool_calls") and mode == "none":
        raise ValueError('do not call tools now: answer the user with {"message": "..."}')
    if mode == "required" and not data.get("tool_calls"):
        raise ValueError(f"call a tool now; available: {sorted(functions)}")
    if data.get("tool_calls"):
        calls = [_emulated_call(i, call, functions, convo) for i, call in enumerate(data["tool_calls"])]
        return ChatReply(content=None, tool_calls=calls, finish_reason="tool_calls")
    if isinstance(data.get("message"), str):
        if not data["message"].strip():
            raise ValueError('"message" is empty: write your answer to the user')
        return ChatReply(content=data["message"], finish_reason="stop")
    raise ValueError('expected {"message": "..."} or {"tool_calls": [{"name": ..., "arguments": {...}}]}')


def fixed_call(functions: dict[str, Any], *, mode: str, max_calls: int | None,
               pinned: dict[str, dict[str, Any]] | None) -> dict[str, Any] | None:
    """The one reply `emulation_schema` admits, when it admits only one: a call is required, of one tool, once,
    with every argument pinned (a planned call on a grammar backend). Asking the model for it would only pay
    for the prompt: the grammar leaves it no choice. None when the model has a choice to make."""
    if mode != "required" or len(functions) != 1 or max_calls != 1:
        return None
    (name, fn), = functions.items()
    if name not in (pinned or {}):
        return None
    props = (fn.get("parameters") or {}).get("properties") or {}
    args = {k: v for k, v in pinned[name].items() if k in props or not props}  # as `pin_arguments` pins them
    return {"tool_calls": [{"name": name, "arguments": args}]}


def _emulated_call(i: int, call: Any, functions: dict[str, Any], convo: list[dict[str, Any]]) -> dict[str, Any]:
    """Emulated call `i` as an OpenAI tool call (arguments a JSON string, a stable id)."""
    if not isinstance(call, dict) or call.get("name") not in functions:
        got = call.get("name") if isinstance(call, dict) else call
        raise ValueError(f"tool_calls[{i}] names unknown tool {got!r}; available: {sorted(functions)}")
    args = call.get("arguments", {})
    if isinstance(args, str):
        args = json.loads(args or "{}", strict=False)
    if not isinstance(args, dict):
        raise ValueError(f"tool_calls[{i}].arguments must be a JSON object")
    text = json.dumps(args, ensure_ascii=False)
    return {"id": call_id(convo, i, call["name"], text), "type": "function",
            "function": {"name": call["name"], "arguments": text}}


#: Bounds on emulated replies, so a small model under a grammar cannot ramble until max_tokens.
EMULATED_MESSAGE_CHARS = 500
EMULATED_ARGUMENT_CHARS = 200
EMULATED_ARGUMENT_ITEMS = 8


def resolve_tool_choice(
    tools: list[dict[str, Any]], tool_choice: str | dict[str, Any] | None
) -> tuple[list[dict[str, Any]], str]:
    """(the tools a reply may call, ``"auto" | "none" | "required"``) for an OpenAI `tool_choice`."""
    if tool_choice is None or tool_choice == "auto":
        return tools, "auto"
    if tool_choice in ("none", "required"):
        return tools, str(tool_choice)
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") == "function":
            wanted = {(tool_choice.get("function") or {}).get("name")}
            mode = "required"
        elif tool_choice.get("type") == "allowed_tools":
            spec = tool_choice.get("allowed_tools") or {}
            wanted = {(t.get("function") or {}).get("name") for t in spec.get("tools") or []}
            mode = spec.get("mode") or "auto"
        else:
            raise ValueError(f"unsupported tool_choice {tool_choice!r}")
        offered = [t for t in tools if (t.get("function") or {}).get("name") in wanted]
        if not offered or mode not in ("auto", "required"):
            raise ValueError(f"tool_choice {tool_choice!r} names no offered tool or has an unknown mode")
        return offered, mode
    raise ValueError(f"unsupported tool_choice {tool_choice!r}")


def emulation_schema(
    functions: list[dict[str, Any]], *, mode: str = "auto", max_calls: int | None = None,
    pinned: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Union schema for emulated tool calling; one branch per tool so a grammar keeps arguments valid.

    Each branch is ``{"name": {"const": tool}, "arguments": <that tool's parameters>}``, made
    grammar-safe (:func:`.schema.grammar_schema`): arguments follow the tool's schema by construction.
    ``mode="none"`` leaves only the message branch, ``"required"`` only the tool-calls branch;
    `max_calls` bounds the calls in one reply (default: the number of tools, at least 2); a tool in
    `pinned` gets exactly those argument values (:func:`.schema.pin_arguments`).
    """
    message = {
        "type": "object",
        "properties": {"message": {"type": "string", "minLength": 1, "maxLength": EMULATED_MESSAGE_CHARS}},
        "required": ["message"],
    }
    if mode == "none" or not functions:
        return message
    variants = []
    for fn in functions:
        params = pin_arguments(fn.get("parameters") or {}, pinned[fn["name"]]) if fn["name"] in (pinned or {}) \
            else _grammar_params(fn)
        variants.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn["name"]}, "arguments": params},
                "required": ["name", "arguments"],
            }
        )
    call = variants[0] if len(variants) == 1 else {"anyOf": variants}
    calls = {
        "type": "object",
        "properties": {
            "tool_calls": {
                "type": "array",
                "items": call,
                "minItems": 1,
                "maxItems": max_calls if max_calls else max(2, len(functions)),
            }
        },
        "required": ["tool_calls"],
    }
    return calls if mode == "required" else {"anyOf": [message, calls]}


def _grammar_params(fn: dict[str, Any]) -> dict[str, Any]:
    params = fn.get("parameters")
    if not isinstance(params, dict) or params.get("type", "object") != "object":
        return {"type": "object"}
    return grammar_schema(
        {**params, "type": "object"}, max_string=EMULATED_ARGUMENT_CHARS, max_items=EMULATED_ARGUMENT_ITEMS
    )


def shown_tools(
    tools: list[dict[str, Any]], offered: list[dict[str, Any]] | None, mode: str
) -> list[dict[str, Any]]:
    """The tools a request shows the model: the ones its reply may call (`offered`, from
    :func:`resolve_tool_choice`), none when it must answer in words.

    The one rule for both backends (native ``tools=``, the emulation prompt) and for the token bench.
    Showing every tool in every request kept the prompt identical whatever the choice (good for a
    server's prefix cache) but paid for each schema again in every request: on the example travel tools
    the schemas were 44 % of the assistant's prompt tokens, and a dialogue's plan already fixes which
    tools each reply may call, so the others are never usable there.
    """
    if mode == "none":
        return []
    return list(tools if offered is None else offered)


def pinned_line(fn: dict[str, Any], values: dict[str, Any]) -> str:
    """A tool whose argument values are fixed (`pin_arguments`): its description and those values, not its
    parameters one by one (the grammar admits nothing else)."""
    head = f"- {fn['name']}: {(fn.get('description') or '').strip()[:300]}"
    return f"{head}\n  arguments: {json.dumps(values, ensure_ascii=False, separators=(',', ':'))}"


def emulation_prompt(functions: list[dict[str, Any]], pinned: dict[str, dict[str, Any]] | None = None) -> str:
    """The reply format and the tools a reply may call (`tool_line`; a pinned tool as `pinned_line`)."""
    if not functions:
        return 'Reply with JSON only: {"message": "<text>"} to answer the user.'
    pinned = pinned or {}
    lines = [
        "You can call these tools:",
        *(pinned_line(fn, pinned[fn["name"]]) if fn["name"] in pinned else tool_line(fn) for fn in functions),
        'Reply with JSON only: {"tool_calls": [{"name": "<tool>", "arguments": {...}}]} to call tools, '
        'or {"message": "<text>"} to answer the user.',
    ]
    return "\n".join(lines)
