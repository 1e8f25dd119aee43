"""Structured outputs for the client: json_schema where the endpoint takes it, else JSON mode with the schema
in the prompt (probed once per endpoint), under the one repair policy (:mod:`toolflow.engine.llm.repair`).
A mixin of :class:`toolflow.engine.llm.client.OpenAIClientLLM`: it uses the client's `_call`, `settings`, `stats`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from toolflow.engine.llm.base import T, Usage, UsageTracker
from toolflow.engine.llm.completion import (
    Completion,
    is_format_rejection,
    retry_only_throttling,
    schema_name,
)
from toolflow.engine.llm.errors import (
    LLMError,
)
from toolflow.engine.llm.messages import add_system_text, normalize_messages
from toolflow.engine.llm.repair import structured_with_repairs
from toolflow.engine.llm.schema import compact_schema
from toolflow.engine.llm.settings import ResolvedRole
from toolflow.engine.secrets import redact_logger

log = redact_logger("toolflow.llm")  # LLM error text may echo an API key


class StructuredOutputs:
    """Structured outputs (see the module docstring)."""

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
        complete_truncated: bool = False,
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
                                                  max_tokens=rs.max_tokens, complete_truncated=complete_truncated)
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
                    retry_if=retry_only_throttling,
                )  # fmt: skip
            except LLMError as exc:
                if not is_format_rejection(exc.__cause__):
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
                "json_schema": {"name": schema_name(name), "schema": json_schema, "strict": False},
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
