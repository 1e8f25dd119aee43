"""Transport retries: exponential backoff with full jitter, honouring Retry-After.

The `openai` client is built with ``max_retries=0`` so this is the only retry loop: one place that
knows the budget, and the concurrency semaphore is released while we sleep.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a server asking for longer than this is not waited for blindly

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)] (spreads synchronized clients)."""
        return random.uniform(0.0, min(self.max_delay, self.base_delay * (2**attempt)))


def is_transient(exc: BaseException) -> bool:
    """Timeouts, connection errors, 429 and 5xx are worth retrying; other 4xx are our bug."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUS or exc.status_code >= 500
    return False


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``retry-after`` as seconds or a date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    retry_if: Callable[[BaseException], bool] | None = None,
) -> T:
    """Run `call`, retrying transient failures up to `policy.max_retries` times, then re-raise.

    `retry_if` narrows what counts as transient (default :func:`is_transient`).
    """
    should_retry = retry_if or is_transient
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not should_retry(exc) or attempt >= policy.max_retries:
                raise
            delay = retry_after_seconds(exc)
            if delay is None or delay > policy.max_retry_after:
                delay = policy.backoff(attempt)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            attempt += 1
            await asyncio.sleep(delay)
