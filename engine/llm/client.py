"""`OpenAIClientLLM`: the production :class:`~toolflow.engine.llm.base.LLM`, over the `openai` async client.

One code path for OpenAI, vLLM, Ollama and llama.cpp's server; endpoint quirks are absorbed here:

- structured outputs: ``response_format`` json_schema where the endpoint takes it, else JSON mode
  (``{"type": "json_object", "schema": S}``, which llama.cpp turns into a grammar) plus the schema in
  the system prompt. ``structured_mode="auto"`` probes json_schema once per endpoint and remembers
  the fallback if the endpoint rejects it;
- output is parsed with ``json.loads(strict=False)``; cut-off (``finish_reason == "length"``),
  unparsable or invalid output is re-asked with the error fed back, at most ``max_repairs`` times;
- transport errors retry with backoff + jitter (:mod:`.retry`); the `openai` client's own retries are off;
- tool calls are native (``tools=``) or emulated with a union JSON schema for servers that ignore
  ``tool_choice="auto"``, and come back in OpenAI shape either way;
- a semaphore bounds in-flight requests; every response is cached on disk (:mod:`.cache`);
- token usage is recorded per role in the caller's tracker and in the run-wide :attr:`usage`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from toolflow.engine.llm.base import ChatReply, Role, T, Usage, UsageTracker
from toolflow.engine.llm.cache import ResponseCache, request_key
from toolflow.engine.llm.errors import (
    ContextOverflowError,
    LLMError,
    LLMTransportError,
    MalformedResponseError,
    is_context_overflow,
)
from toolflow.engine.llm.messages import add_system_text, call_id, normalize_messages
from toolflow.engine.llm.repair import structured_with_repairs
from toolflow.engine.llm.retry import RETRY_STATUS, RetryPolicy, is_transient, with_retries
from toolflow.engine.llm.schema import compact_schema, grammar_schema, pin_arguments, schema_of, tool_line
from toolflow.engine.llm.settings import LLMSettings, ResolvedRole
from toolflow.engine.secrets import redact, register_secret

log = logging.getLogger("toolflow.llm")

# Statuses that say "this request shape is not supported" rather than "try later" or "bad credentials".
_NOT_A_FORMAT_PROBLEM = frozenset({401, 402, 403, 404}) | RETRY_STATUS


@dataclass
class Completion:
    """The part of a chat completion we use, in a form that round-trips through the cache."""

    content: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    prefix_cached_tokens: int = 0  # prompt tokens the server served from its prefix cache (when it says)

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "tool_calls": self.tool_calls,
            "finish_reason": self.finish_reason,
            "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, cached: bool = False) -> Completion:
        usage = data.get("usage") or {}
        return cls(
            content=data.get("content"),
            tool_calls=list(data.get("tool_calls") or []),
            finish_reason=data.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cached=cached,
        )

    @classmethod
    def from_response(cls, resp: Any) -> Completion:
        if not getattr(resp, "choices", None):
            raise LLMError(f"completion without choices: {str(resp)[:300]}")
        choice = resp.choices[0]
        msg = choice.message
        calls = []
        for tc in getattr(msg, "tool_calls", None) or []:
            fn = tc.function
            calls.append(
                {"id": tc.id, "type": "function", "function": {"name": fn.name, "arguments": fn.arguments}}
            )
        usage = getattr(resp, "usage", None)
        return cls(
            content=msg.content,
            tool_calls=calls,
            finish_reason=choice.finish_reason,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            prefix_cached_tokens=int(getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", 0) or 0),
        )


def _schema_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"


def _is_format_rejection(exc: BaseException) -> bool:
    return isinstance(exc, openai.APIStatusError) and exc.status_code not in _NOT_A_FORMAT_PROBLEM


def _retry_only_throttling(exc: BaseException) -> bool:
    """While probing a feature, a 4xx/5xx is an answer about the feature, not something to retry."""
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code in RETRY_STATUS


class OpenAIClientLLM:
    """The :class:`~toolflow.engine.llm.base.LLM` protocol over `openai.AsyncOpenAI` (one client per endpoint).

    Use one instance per event loop (the HTTP pools and the semaphore bind to it); ``aclose()`` or
    ``async with`` releases the connections.
    """

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self.settings = settings if settings is not None else LLMSettings.from_env()
        self.usage = UsageTracker()  # run-wide, across all dialogues
        self.stats: Counter[str] = Counter()  # requests, cache_hits, retries, repairs, fallbacks
        self.cache = ResponseCache(self.settings.cache_dir) if self.settings.cache_dir else None
        self.retry_policy = RetryPolicy(
            max_retries=self.settings.max_retries,
            base_delay=self.settings.retry_base_delay,
            max_delay=self.settings.retry_max_delay,
        )
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        self._clients: dict[tuple[str, str], openai.AsyncOpenAI] = {}
        self._structured_mode: dict[str, str] = {}  # endpoint -> learned "json_schema" | "json_object"
        self._native_tools: dict[str, bool] = {}  # endpoint -> learned support for `tools=`
        self._probe_locks: dict[str, asyncio.Lock] = {}
        self._in_flight = 0
        self.max_in_flight = 0

    # -- lifecycle -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            await c.close()

    def model_for(self, role: Role) -> str:
        return str(self.settings.for_role(role).model or "unknown")

    async def __aenter__(self) -> OpenAIClientLLM:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the LLM protocol --------------------------------------------------------------------------

    async def structured(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        schema: type[T],
        *,
        tracker: UsageTracker | None = None,
    ) -> T:
        """An instance of `schema`; invalid output is re-asked with the error fed back (``max_repairs``)."""
        rs = self._resolve(role)
        return await self._structured(
            rs, messages, schema_of(schema), schema.__name__, schema.model_validate, tracker, hint=""
        )

    async def structured_json(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        json_schema: dict[str, Any],
        *,
        validate: Callable[[Any], Any] | None = None,
        name: str = "output",
        tracker: UsageTracker | None = None,
        describe: bool = True,
        max_repairs: int | None = None,
    ) -> Any:
        """A JSON value following the raw JSON schema `json_schema` (no pydantic model needed), e.g. a
        schema built per request: enums of this sample's tool names, a tool's own return schema.

        `validate(value)` may return a converted value or raise ValueError; the error is fed back like a
        parse error (``max_repairs``). ``describe=False`` keeps the schema out of the prompt in JSON
        mode, for prompts that already show the shape (the schema still goes in ``response_format``,
        where llama.cpp enforces it as a grammar). `max_repairs` overrides the settings' budget for
        callers that have a cheaper fallback than another re-ask.
        """
        rs = self._resolve(role)
        check = validate if validate is not None else (lambda value: value)
        return await self._structured(
            rs, messages, json_schema, name, check, tracker, hint="", describe=describe, max_repairs=max_repairs
        )

    async def chat(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tracker: UsageTracker | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        arguments: dict[str, dict[str, Any]] | None = None,
    ) -> ChatReply:
        """A chat completion; with `tools`, OpenAI-shaped ``tool_calls`` (native or emulated).

        `arguments` pins planned argument values (tool → argument → value): emulation narrows those
        arguments to ``const`` in the reply grammar; native endpoints do not get it.

        `tool_choice` takes OpenAI's values: ``"auto"`` (default), ``"none"``, ``"required"``,
        ``{"type": "function", "function": {"name": ...}}`` or ``{"type": "allowed_tools",
        "allowed_tools": {"mode": "auto" | "required", "tools": [{"type": "function", "function":
        {"name": ...}}]}}``. Native endpoints get it as ``tool_choice`` (allowed_tools as the filtered
        `tools` plus the mode, which more servers understand); emulation narrows the reply schema, so
        the prompt (and a server's prompt cache) stays the same whatever the choice.
        """
        rs = self._resolve(role)
        native = self._native_tools_for(rs)
        if not tools:
            convo = normalize_messages(messages, flatten_tools=native is False)
            comp = await self._call(rs, convo, self._base_params(rs), tracker)
            return ChatReply(content=comp.content, finish_reason=comp.finish_reason)
        offered, mode = resolve_tool_choice(tools, tool_choice)
        if native is not False:
            named = isinstance(tool_choice, dict) and tool_choice.get("type") == "function"
            reply = await self._native_chat(
                rs, messages, tools if named else offered, tracker, probing=native is None,
                tool_choice=tool_choice if named else (None if mode == "auto" else mode),
            )  # fmt: skip
            if reply is not None:
                return reply
        return await self._emulated_chat(rs, messages, tools, tracker, offered=offered, mode=mode, pinned=arguments)

    # -- structured outputs ------------------------------------------------------------------------

    async def _structured(
        self,
        rs: ResolvedRole,
        messages: list[dict[str, Any]],
        json_schema: dict[str, Any],
        name: str,
        validate: Callable[[Any], T],
        tracker: UsageTracker | None,
        *,
        hint: str,
        describe: bool = True,
        max_repairs: int | None = None,
    ) -> T:
        convo = normalize_messages(messages, flatten_tools=self._native_tools_for(rs) is False)
        if hint:
            convo = add_system_text(convo, hint)
        repairs = self.settings.max_repairs if max_repairs is None else max(0, max_repairs)

        spent: list[int] = []  # tokens of each attempt: all but an accepted last one are waste

        async def request(attempt: int, messages: list[dict[str, Any]]) -> tuple[str, str | None]:
            if attempt:
                self.stats["repairs"] += 1
            comp = await self._structured_request(rs, messages, json_schema, name, tracker, describe=describe)
            spent.append(comp.prompt_tokens + comp.completion_tokens)
            return comp.content or "", comp.finish_reason

        accepted = False
        try:
            value = await structured_with_repairs(request, convo, validate, budget=repairs, role=rs.role, name=name,
                                                  max_tokens=rs.max_tokens)
            accepted = True
            return value
        finally:
            wasted = sum(spent[:-1] if accepted else spent)
            if wasted:
                self._record(rs, Usage(wasted_tokens=wasted), tracker)

    async def _structured_request(
        self,
        rs: ResolvedRole,
        convo: list[dict[str, Any]],
        json_schema: dict[str, Any],
        name: str,
        tracker: UsageTracker | None,
        *,
        describe: bool = True,
    ) -> Completion:
        mode = self._structured_mode_for(rs)
        if mode is not None:
            return await self._call(
                rs, *self._structured_payload(rs, convo, json_schema, name, mode, describe), tracker
            )
        lock = self._probe_locks.setdefault(rs.endpoint, asyncio.Lock())
        async with lock:  # one probe per endpoint; the others wait for its verdict
            mode = self._structured_mode_for(rs)
            if mode is not None:
                return await self._call(
                    rs, *self._structured_payload(rs, convo, json_schema, name, mode, describe), tracker
                )
            try:
                comp = await self._call(
                    rs, *self._structured_payload(rs, convo, json_schema, name, "json_schema", describe), tracker,
                    retry_if=_retry_only_throttling,
                )  # fmt: skip
            except LLMError as exc:
                if not _is_format_rejection(exc.__cause__):
                    raise
                log.warning(
                    "%s rejected response_format json_schema (%s); using json_object",
                    rs.endpoint,
                    exc.__cause__,
                )
                comp = await self._call(
                    rs, *self._structured_payload(rs, convo, json_schema, name, "json_object", describe), tracker
                )
                self._structured_mode[rs.endpoint] = "json_object"
                self.stats["fallbacks"] += 1
                return comp
            self._structured_mode[rs.endpoint] = "json_schema"
            return comp

    def _structured_payload(
        self,
        rs: ResolvedRole,
        convo: list[dict[str, Any]],
        json_schema: dict[str, Any],
        name: str,
        mode: str,
        describe: bool = True,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        params = self._base_params(rs)
        if mode == "json_schema":
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": _schema_name(name), "schema": json_schema, "strict": False},
            }
            return convo, params
        compact = compact_schema(json_schema)  # fewer prompt tokens, no $ref for small models to copy
        params["response_format"] = {"type": "json_object", "schema": compact}
        if not describe:
            return convo, params
        instruction = "Reply with only a JSON object that matches this JSON schema:\n" + json.dumps(
            compact, ensure_ascii=False, separators=(",", ":")
        )
        return add_system_text(convo, instruction), params

    def _structured_mode_for(self, rs: ResolvedRole) -> str | None:
        if rs.structured_mode != "auto":
            return rs.structured_mode
        return self._structured_mode.get(rs.endpoint)

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
                rs, convo, params, tracker, retry_if=_retry_only_throttling if probing else None
            )
        except LLMError as exc:
            if probing and _is_format_rejection(exc.__cause__):
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

        The prompt always lists all `tools`; the schema allows only the `offered` ones, and only the
        message branch (``mode="none"``) or only the calls branch (``mode="required"``) when asked.
        """
        every = {t["function"]["name"]: t["function"] for t in tools if t.get("function", {}).get("name")}
        names = {t.get("function", {}).get("name") for t in (tools if offered is None else offered)}
        functions = {n: fn for n, fn in every.items() if n in names}
        # narrowed to some tools (allowed_tools / a named function): one call per tool, as asked for;
        # otherwise parallel calls of one tool stay possible
        max_calls = len(functions) if offered is not None and len(functions) < len(every) else None
        schema = emulation_schema(list(functions.values()), mode=mode, max_calls=max_calls, pinned=pinned)
        convo = normalize_messages(messages, flatten_tools=True)
        hint = emulation_prompt(list(every.values()))

        def to_reply(data: Any) -> ChatReply:
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            if data.get("tool_calls") and mode == "none":
                raise ValueError('do not call tools now: answer the user with {"message": "..."}')
            if mode == "required" and not data.get("tool_calls"):
                raise ValueError(f"call a tool now; available: {sorted(functions)}")
            if data.get("tool_calls"):
                calls = []
                for i, call in enumerate(data["tool_calls"]):
                    if not isinstance(call, dict) or call.get("name") not in functions:
                        got = call.get("name") if isinstance(call, dict) else call
                        raise ValueError(
                            f"tool_calls[{i}] names unknown tool {got!r}; available: {sorted(functions)}"
                        )
                    args = call.get("arguments", {})
                    if isinstance(args, str):
                        args = json.loads(args or "{}", strict=False)
                    if not isinstance(args, dict):
                        raise ValueError(f"tool_calls[{i}].arguments must be a JSON object")
                    text = json.dumps(args, ensure_ascii=False)
                    calls.append(
                        {
                            "id": call_id(convo, i, call["name"], text),
                            "type": "function",
                            "function": {"name": call["name"], "arguments": text},
                        }
                    )
                return ChatReply(content=None, tool_calls=calls, finish_reason="tool_calls")
            if isinstance(data.get("message"), str):
                if not data["message"].strip():
                    raise ValueError('"message" is empty: write your answer to the user')
                return ChatReply(content=data["message"], finish_reason="stop")
            raise ValueError(
                'expected {"message": "..."} or {"tool_calls": [{"name": ..., "arguments": {...}}]}'
            )

        # The hint already shows the reply format and every tool's parameters: repeating them as a
        # schema would double the prompt (JSON mode still gets the schema as a grammar).
        return await self._structured(
            rs, convo, schema, "reply_or_tool_calls", to_reply, tracker, hint=hint, describe=False
        )

    # -- one request ---------------------------------------------------------------------------------

    def _resolve(self, role: Role | str) -> ResolvedRole:
        rs = self.settings.for_role(role)
        if rs.model is None:
            raise LLMError(
                f"no model for role {role!r}: set TOOLFLOW_MODEL / TOOLFLOW_BASE_URL (or per role), "
                "or start the embedded model with toolflow.engine.llm.local_server.ensure_endpoint()"
            )
        return rs

    def _base_params(self, rs: ResolvedRole) -> dict[str, Any]:
        return {"temperature": rs.temperature, "max_tokens": rs.max_tokens}

    def _client(self, rs: ResolvedRole) -> openai.AsyncOpenAI:
        key = rs.api_key.get_secret_value() if rs.api_key else ""
        client = self._clients.get((rs.endpoint, key))
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=rs.endpoint,
                api_key=key or "EMPTY",  # local servers take any key; the client insists on one
                max_retries=0,  # ours is the only retry loop
                timeout=rs.timeout,
            )
            self._clients[(rs.endpoint, key)] = client
        return client

    def _record(self, rs: ResolvedRole, usage: Usage, tracker: UsageTracker | None) -> None:
        self.usage.record(rs.role, usage)
        if tracker is not None and tracker is not self.usage:
            tracker.record(rs.role, usage)

    async def _call(
        self,
        rs: ResolvedRole,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        tracker: UsageTracker | None,
        *,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> Completion:
        """One logical request: cache lookup, then HTTP with retries under the semaphore.

        A cache hit counts as ``cached`` (no tokens: it cost nothing); a network response records
        its token usage. Failures surface as :class:`LLMError` with the `openai` error as cause.
        """
        key = None
        if self.cache is not None:
            key = request_key(rs.endpoint, rs.model, messages, params)
            hit = self.cache.get(key)
            if hit is not None:
                self.stats["cache_hits"] += 1
                self._record(rs, Usage(cached=1), tracker)
                return Completion.from_json(hit, cached=True)

        client = self._client(rs)

        async def attempt() -> Any:
            async with self._semaphore:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
                try:
                    self.stats["requests"] += 1
                    try:
                        resp = await client.chat.completions.create(
                            model=rs.model, messages=messages, timeout=rs.timeout, **params
                        )
                    except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:
                        raise MalformedResponseError(f"the reply body is not valid JSON: {exc}") from exc
                    if not getattr(resp, "choices", None):
                        raise MalformedResponseError(f"the reply has no choices: {str(resp)[:200]}")
                    return resp
                finally:
                    self._in_flight -= 1

        def on_retry(n: int, exc: BaseException, delay: float) -> None:
            self.stats["retries"] += 1
            log.info(
                "%s %s: retry %d in %.2fs after %s", rs.role, rs.endpoint, n + 1, delay, type(exc).__name__
            )

        transient = retry_if or is_transient

        def retry_malformed(exc: BaseException) -> bool:  # a bad 200 body is retried like a 5xx
            return isinstance(exc, MalformedResponseError) or transient(exc)

        key_value = rs.api_key.get_secret_value() if rs.api_key is not None else None
        register_secret(key_value)  # so a traceback printed later masks it too
        try:
            resp = await with_retries(attempt, self.retry_policy, on_retry=on_retry, retry_if=retry_malformed)
        except MalformedResponseError as exc:
            raise MalformedResponseError(
                redact(f"{rs.role} request to {rs.endpoint} (model {rs.model}): {exc}", [key_value])
            ) from exc.__cause__
        except openai.OpenAIError as exc:  # server error texts may echo the key: mask it before anyone prints it
            what = redact(f"{rs.role} request to {rs.endpoint} (model {rs.model}) failed: {exc}", [key_value])
            if is_context_overflow(exc):
                raise ContextOverflowError(what) from exc
            kind = LLMTransportError if is_transient(exc) else LLMError
            raise kind(what) from exc
        comp = Completion.from_response(resp)
        self._record(
            rs,
            Usage(prompt_tokens=comp.prompt_tokens, completion_tokens=comp.completion_tokens, requests=1,
                  prefix_cached_tokens=comp.prefix_cached_tokens),
            tracker,
        )
        if key is not None and self.cache is not None:
            self.cache.put(key, comp.to_json())
        return comp


# -- tool-call emulation schema ----------------------------------------------------------------------


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


def emulation_prompt(functions: list[dict[str, Any]]) -> str:
    lines = [
        "You can call these tools:",
        *(tool_line(fn) for fn in functions),
        'Reply with JSON only: {"tool_calls": [{"name": "<tool>", "arguments": {...}}]} to call tools, '
        'or {"message": "<text>"} to answer the user.',
    ]
    return "\n".join(lines)
