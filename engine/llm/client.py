"""`OpenAIClientLLM`: the production :class:`~toolflow.engine.llm.base.LLM`, for any OpenAI-compatible endpoint.

One code path for OpenAI, vLLM, Ollama and llama.cpp's server; endpoint quirks are absorbed here:

- structured outputs: ``response_format`` json_schema where the endpoint takes it, else JSON mode
  (``{"type": "json_object", "schema": S}``, which llama.cpp turns into a grammar) plus the schema in
  the system prompt. ``structured_mode="auto"`` probes json_schema once per endpoint and remembers
  the fallback if the endpoint rejects it;
- output is parsed with ``json.loads(strict=False)``; cut-off (``finish_reason == "length"``),
  unparsable or invalid output is re-asked with the error fed back, at most ``max_repairs`` times;
- requests go out through the `openai` SDK's ``chat.completions`` call, one `openai.AsyncOpenAI` per
  endpoint and key (:class:`~toolflow.engine.llm.transport.ChatTransport`); transport errors retry with
  backoff + jitter (:mod:`.retry`), the only retry loop (the SDK's own retries are off);
- tool calls are native (``tools=``) or emulated with a union JSON schema for servers that ignore
  ``tool_choice="auto"``, and come back in OpenAI shape either way;
- a semaphore bounds in-flight requests; every response is cached on disk (:mod:`.cache`);
- token usage is recorded per role in the caller's tracker and in the run-wide :attr:`usage`.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Callable
from typing import Any

import openai

from toolflow.engine.llm.base import ChatReply, Role, T, Usage, UsageTracker
from toolflow.engine.llm.cache import ResponseCache, request_key
from toolflow.engine.llm.completion import Completion
from toolflow.engine.llm.errors import (
    ContextOverflowError,
    LLMError,
    LLMTransportError,
    MalformedResponseError,
    is_context_overflow,
)
from toolflow.engine.llm.messages import normalize_messages
from toolflow.engine.llm.retry import RetryPolicy, is_transient, with_retries
from toolflow.engine.llm.schema import schema_of
from toolflow.engine.llm.settings import LLMSettings, ResolvedRole
from toolflow.engine.llm.structured import StructuredOutputs
from toolflow.engine.llm.tool_calls import ToolCalling, resolve_tool_choice, shown_tools
from toolflow.engine.llm.transport import ChatTransport
from toolflow.engine.secrets import redact, redact_logger, register_secret

log = redact_logger("toolflow.llm")  # LLM error text may echo an API key
class OpenAIClientLLM(StructuredOutputs, ToolCalling):
    """The :class:`~toolflow.engine.llm.base.LLM` protocol over `openai.AsyncOpenAI` (one client per endpoint and key).

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
        self._transports: dict[tuple[str, str], ChatTransport] = {}
        self._roles: dict[str, ResolvedRole] = {}
        self._structured_mode: dict[str, str] = {}  # endpoint -> learned "json_schema" | "json_object"
        self._native_tools: dict[str, bool] = {}  # endpoint -> learned support for `tools=`
        self._probe_locks: dict[str, asyncio.Lock] = {}
        self._in_flight = 0
        self.max_in_flight = 0

    # -- lifecycle -------------------------------------------------------------------------------

    async def aclose(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        for t in transports:
            await t.close()

    def model_for(self, role: Role) -> str:
        return str(self.settings.for_role(role).model or "unknown")

    def result_limits(self) -> dict[str, int]:
        rs = self.settings.for_role("tool")
        return {"result_items": rs.result_items, "result_chars": rs.result_chars, "result_tokens": rs.max_tokens}

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
        complete_truncated: bool = False,
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
            rs, messages, json_schema, name, check, tracker, hint="", describe=describe, max_repairs=max_repairs,
            complete_truncated=complete_truncated,
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
        `tools` plus the mode, which more servers understand; ``"none"`` as a request without tools);
        emulation narrows the reply schema and lists only the callable tools in its prompt
        (:func:`.tool_calls.shown_tools`).
        """
        rs = self._resolve(role)
        native = self._native_tools_for(rs)
        offered, mode = resolve_tool_choice(tools, tool_choice) if tools else ([], "none")
        if not tools or (not shown_tools(tools, offered, mode) and native is not False):
            # nothing the reply may call: a plain request. Emulation (native False) keeps its union grammar
            # for tool_choice "none", so a small model's answer stays a bounded, non-empty message.
            convo = normalize_messages(messages, flatten_tools=native is False)
            comp = await self._call(rs, convo, self._base_params(rs), tracker)
            return ChatReply(content=comp.content, finish_reason=comp.finish_reason)
        if native is not False:
            named = isinstance(tool_choice, dict) and tool_choice.get("type") == "function"
            reply = await self._native_chat(
                rs, messages, shown_tools(tools, offered, mode), tracker, probing=native is None,
                tool_choice=tool_choice if named else (None if mode == "auto" else mode),
            )  # fmt: skip
            if reply is not None:
                return reply
        return await self._emulated_chat(rs, messages, tools, tracker, offered=offered, mode=mode, pinned=arguments)

    # -- one request ---------------------------------------------------------------------------------

    def _resolve(self, role: Role | str) -> ResolvedRole:
        """The role's settings, resolved once per role (the settings do not change under a client)."""
        rs = self._roles.get(role)
        if rs is None:
            rs = self._roles[role] = self.settings.for_role(role)
        if rs.model is None:
            raise LLMError(
                f"no model for role {role!r}: set TOOLFLOW_MODEL / TOOLFLOW_BASE_URL (or per role), "
                "or start the embedded model with toolflow.engine.llm.local_server.ensure_endpoint()"
            )
        return rs

    def _base_params(self, rs: ResolvedRole) -> dict[str, Any]:
        return {"temperature": rs.temperature, "max_tokens": rs.max_tokens}

    def _transport(self, rs: ResolvedRole) -> ChatTransport:
        key = rs.api_key.get_secret_value() if rs.api_key else ""
        transport = self._transports.get((rs.endpoint, key))
        if transport is None:
            # local servers take any key; the SDK insists on one
            transport = ChatTransport(rs.endpoint, key or "EMPTY", concurrency=self.settings.concurrency)
            self._transports[(rs.endpoint, key)] = transport
        return transport

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
        transport = self._transport(rs)
        body = {"model": rs.model, "messages": messages, **params}
        transient = retry_if or is_transient

        def retry_malformed(exc: BaseException) -> bool:  # a bad 200 body is retried like a 5xx
            return isinstance(exc, MalformedResponseError) or transient(exc)

        key_value = rs.api_key.get_secret_value() if rs.api_key is not None else None
        register_secret(key_value)  # so a traceback printed later masks it too
        try:
            comp = await with_retries(lambda: self._attempt(rs, transport, body), self.retry_policy,
                                      on_retry=functools.partial(self._on_retry, rs), retry_if=retry_malformed)
        except MalformedResponseError as exc:
            raise MalformedResponseError(
                redact(f"{rs.role} request to {rs.endpoint} (model {rs.model}): {exc}", [key_value])
            ) from exc.__cause__
        except openai.OpenAIError as exc:
            raise self._failure(rs, exc, key_value) from exc
        self._record(rs, Usage(prompt_tokens=comp.prompt_tokens, completion_tokens=comp.completion_tokens,
                               requests=1, prefix_cached_tokens=comp.prefix_cached_tokens), tracker)
        if key is not None and self.cache is not None:
            self.cache.put(key, comp.to_json())
        return comp

    async def _attempt(self, rs: ResolvedRole, transport: ChatTransport, body: dict[str, Any]) -> Completion:
        """One HTTP attempt under the semaphore, bounded as a whole by `rs.timeout`. A body without choices
        raises inside the retry, so it is retried like a 5xx."""
        async with self._semaphore:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self.stats["requests"] += 1
            try:
                reply = await transport.post(body, rs.timeout)
            finally:
                self._in_flight -= 1
            return Completion.from_body(reply)

    def _on_retry(self, rs: ResolvedRole, n: int, exc: BaseException, delay: float) -> None:
        self.stats["retries"] += 1
        log.info("%s %s: retry %d in %.2fs after %s", rs.role, rs.endpoint, n + 1, delay, type(exc).__name__)

    @staticmethod
    def _failure(rs: ResolvedRole, exc: openai.OpenAIError, key_value: str | None) -> LLMError:
        """The LLMError for a request that failed for good; server error texts may echo the key, so it is
        masked before anyone prints it."""
        what = redact(f"{rs.role} request to {rs.endpoint} (model {rs.model}) failed: {exc}", [key_value])
        if is_context_overflow(exc):
            return ContextOverflowError(what)
        kind = LLMTransportError if is_transient(exc) else LLMError
        return kind(what)
