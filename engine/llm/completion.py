"""One chat completion as the client uses it (and caches it), and how request errors are classified."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import openai

from toolflow.engine.llm.errors import (
    LLMError,
)
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


def schema_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "output"


def is_format_rejection(exc: BaseException) -> bool:
    return isinstance(exc, openai.APIStatusError) and exc.status_code not in NOT_A_FORMAT_PROBLEM


def retry_only_throttling(exc: BaseException) -> bool:
    """While probing a feature, a 4xx/5xx is an answer about the feature, not something to retry."""
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code in RETRY_STATUS
