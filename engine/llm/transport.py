"""The HTTP request under the client: one `openai.AsyncOpenAI` per endpoint and key, every request its
``chat.completions`` call, the reply body read as JSON (orjson) instead of the SDK's response models.

The SDK sends the request and raises its own exceptions for every failure: non-2xx replies its status
errors (``openai.RateLimitError``, ``openai.BadRequestError``, …, with ``status_code``, ``code``,
``body`` and the response's headers for Retry-After), connection failures ``openai.APIConnectionError``,
timeouts ``openai.APITimeoutError``, so retries (:mod:`.retry`), format probes and context-overflow
detection read them directly. What the client does not need from the SDK is left out of the hot path:

- the parameters: the request body goes whole in ``extra_body`` (see :meth:`ChatTransport.post`), so the
  SDK's per-request walk of the messages over its parameter types is skipped; the JSON sent is the same;
- ``with_raw_response``: the reply comes back as the HTTP response, parsed here with orjson into a plain
  dict; building the SDK's typed ``ChatCompletion`` (pydantic) for every reply is skipped;
- the SDK's own retries are off (``max_retries=0``): :mod:`.retry` is the only retry loop;
- the HTTP client is the SDK's aiohttp client (`openai.DefaultAioHttpClient`) with a keep-alive pool of
  one connection per request in flight; httpx's own pool keeps only 100 alive and scans every
  connection for every request (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import openai

from toolflow.engine.llm.errors import MalformedResponseError
from toolflow.engine.llm.jsonbytes import loads

T_ = TypeVar("T_")


async def within(awaitable: Awaitable[T_], seconds: float) -> T_:
    """`awaitable`, or asyncio.TimeoutError after `seconds`. ``asyncio.timeout`` where there is one (3.11+):
    ``wait_for`` on 3.11 runs the awaitable in a task of its own, one more task per request."""
    if hasattr(asyncio, "timeout"):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


def http_client(concurrency: int) -> httpx.AsyncClient:
    """The SDK's aiohttp-backed HTTP client with a pool that keeps one connection per request in flight
    (at least the SDK's default of 100)."""
    size = max(concurrency, 100)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return openai.DefaultAioHttpClient(limits=limits)


class ChatTransport:
    """``chat.completions`` of one `openai.AsyncOpenAI` for `endpoint` and `api_key`. Bound to the event
    loop of its first request; :meth:`close` releases the connections."""

    def __init__(self, endpoint: str, api_key: str, *, concurrency: int) -> None:
        self.url = f"{endpoint}/chat/completions"
        self.client = openai.AsyncOpenAI(base_url=endpoint, api_key=api_key, max_retries=0,
                                         http_client=http_client(concurrency))
        self._create = self.client.chat.completions.with_raw_response.create

    async def post(self, body: dict[str, Any], timeout: float) -> Any:
        """The reply's JSON body for the request `body` (``model``, ``messages`` and the create() parameters).

        `timeout` bounds each read in the SDK and the whole request here: a per-read bound alone would
        let an endpoint that sends a byte every few seconds hold the request forever. The SDK's errors
        propagate; a request past `timeout` raises `openai.APITimeoutError`, a 2xx body that is not JSON
        :class:`MalformedResponseError`.
        """
        try:
            # the body whole as `extra_body`, which the SDK merges over its typed parameters as it is:
            # the same JSON as create(**body), without the SDK's walk of every message, tool and schema
            # over its parameter types (most of its CPU per request)
            call = self._create(model=body["model"], messages=(), extra_body=body, timeout=timeout)
            raw = await within(call, timeout)
        except asyncio.TimeoutError as exc:  # retried like the SDK's own (per-read) timeouts
            raise openai.APITimeoutError(request=httpx.Request("POST", self.url)) from exc
        data = raw.http_response.content
        try:
            return loads(data)
        except ValueError as exc:
            raise MalformedResponseError(f"the reply body is not valid JSON: {exc}") from exc

    async def close(self) -> None:
        await self.client.close()
