"""One chat completion as the client uses it (and caches it), and how request errors are classified."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import openai

from toolflow.engine.llm.errors import MalformedResponseError
from toolflow.engine.llm.retry import RETRY_STATUS

# Statuses that say "this request shape is not supported" rather than "try later" or "bad credentials".
NOT_A_FORMAT_PROBLEM = frozenset({401, 402, 403, 404}) | RETRY_STATUS


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
    def from_body(cls, body: Any) -> Completion:
        """From the JSON body of a chat completion (the client asks the `openai` transport for the raw body:
        building its pydantic objects cost a third of the client's CPU per request, see ``client._call``).
        A body without choices is a MalformedResponseError, which the client retries like a 5xx."""
        choices = body.get("choices") if isinstance(body, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError(f"the reply has no choices: {str(body)[:200]}")
        choice = choices[0]
        msg = choice.get("message") or {}
        calls = []
        for tc in msg.get("tool_calls") or []:
            fn = tc.get("function") or {}
            calls.append({"id": tc.get("id"), "type": "function",
                          "function": {"name": fn.get("name"), "arguments": fn.get("arguments")}})
        usage = body.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return cls(
            content=msg.get("content"),
            tool_calls=calls,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            prefix_cached_tokens=int(details.get("cached_tokens") or 0),
        )


@functools.lru_cache(maxsize=1024)
def schema_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"


def is_format_rejection(exc: BaseException) -> bool:
    return isinstance(exc, openai.APIStatusError) and exc.status_code not in NOT_A_FORMAT_PROBLEM


def retry_only_throttling(exc: BaseException) -> bool:
    """While probing a feature, a 4xx/5xx is an answer about the feature, not something to retry."""
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code in RETRY_STATUS
