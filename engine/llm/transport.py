"""The HTTP request under the client: one aiohttp session per endpoint, the body in and out as JSON (orjson),
and every failure raised as the `openai` SDK's own exception type.

The client sends one request shape (``POST {base_url}/chat/completions`` with a JSON body) and reads one
reply shape (the JSON body), so it needs none of the SDK's request machinery: its per-request option
models, URL and header merging, and the httpx layer over aiohttp were most of the client's CPU per
request (docs/performance.md), which bounds one process's request rate at high concurrency. What the
rest of the layer relies on stays the SDK's: non-2xx replies raise its status errors
(``openai.RateLimitError``, ``openai.BadRequestError``, …, with ``status_code``, ``code``, ``body`` and
the response's headers for Retry-After), connection failures ``openai.APIConnectionError``, timeouts
``openai.APITimeoutError``, so retries (:mod:`.retry`), format probes and context-overflow detection
read them as before.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from typing import Any

import aiohttp
import httpx
import openai
import yarl

from toolflow.engine.llm.errors import MalformedResponseError
from toolflow.engine.llm.jsonbytes import dumps, loads

#: The request headers the SDK sends that servers act on (the SDK's telemetry headers are left out).
_BASE_HEADERS = {"Accept": "application/json", "Content-Type": "application/json",
                 "User-Agent": f"toolflow (openai-python/{openai.__version__})"}
#: The SDK's status error per HTTP status (`openai.AsyncOpenAI._make_status_error`'s table).
_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}
#: How much of an error body goes into the error's message when it has no ``error.message``.
_MAX_ERROR_TEXT = 500


def request_headers(api_key: str) -> dict[str, str]:
    """What the SDK would send: the bearer key, and the organization and project from the environment
    (``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``, read by `openai.AsyncOpenAI` the same way)."""
    headers = {**_BASE_HEADERS, "Authorization": f"Bearer {api_key}"}
    for name, var in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
        if os.environ.get(var):
            headers[name] = os.environ[var]
    return headers


def status_error(status: int, headers: Any, data: bytes, url: str) -> openai.APIStatusError:
    """The SDK's exception for a non-2xx reply, built as the SDK builds it: the message names the status
    and the body's ``error.message`` (else the start of the body), `body` is the ``error`` object."""
    text = data.decode("utf-8", errors="replace").strip()
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text or None
    error = body.get("error", body) if isinstance(body, dict) else body
    message = error.get("message") if isinstance(error, dict) else None
    detail = message if isinstance(message, str) and message else text[:_MAX_ERROR_TEXT]
    response = httpx.Response(status, headers=list(headers.items()), content=data,
                              request=httpx.Request("POST", url))
    kind = _STATUS_ERRORS.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(f"Error code: {status}" + (f" - {detail}" if detail else ""), response=response, body=error)


class ChatTransport:
    """``POST {endpoint}/chat/completions`` over a keep-alive aiohttp pool that holds one connection per
    request in flight (`concurrency`, at least 100). Bound to the event loop of its first request;
    :meth:`close` releases the connections."""

    def __init__(self, endpoint: str, api_key: str, *, concurrency: int) -> None:
        self.url = f"{endpoint}/chat/completions"
        self._url = yarl.URL(self.url)  # parsed once, not on every request
        self._headers = request_headers(api_key)
        self._size = max(concurrency, 100)
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        ssl_context: ssl.SSLContext | bool = True
        if self.url.startswith("https:"):
            import certifi  # httpx's CA bundle, which the SDK verifies against

            ssl_context = ssl.create_default_context(cafile=certifi.where())
        connector = aiohttp.TCPConnector(limit=self._size, limit_per_host=0, ssl=ssl_context)
        # no cookie jar: an API client keeps no cookies, and the jar's filtering costs time on every request
        return aiohttp.ClientSession(connector=connector, headers=self._headers, cookie_jar=aiohttp.DummyCookieJar())

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        """`seconds` for the whole request, reading the body included: a per-read bound alone would let
        an endpoint that sends a byte every few seconds hold the request forever."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return timeout

    async def post(self, body: dict[str, Any], timeout: float) -> Any:
        """The reply's JSON body; a non-2xx status raises the SDK's status error, an unreachable or
        dropped connection `openai.APIConnectionError`, a request past `timeout` seconds
        `openai.APITimeoutError`, and a 2xx body that is not JSON :class:`MalformedResponseError`."""
        if self._session is None:
            self._session = self._open()
        try:
            async with self._session.post(self._url, data=dumps(body), timeout=self._timeout(timeout)) as resp:
                data = await resp.read()
                status, headers = resp.status, resp.headers
        except asyncio.TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors
            raise openai.APITimeoutError(request=httpx.Request("POST", self.url)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise openai.APIConnectionError(message=f"Connection error: {exc}",
                                            request=httpx.Request("POST", self.url)) from exc
        if status >= 400:
            raise status_error(status, headers, data, self.url)
        try:
            return loads(data)
        except ValueError as exc:
            raise MalformedResponseError(f"the reply body is not valid JSON: {exc}") from exc

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
