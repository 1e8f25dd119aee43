"""LLM endpoint faults (issue 20): a total deadline per request, and LLM error text always masked.

- a slowloris endpoint (headers, then one body byte every fraction of the timeout) used to hold a request
  forever, the client's timeout being per read: the request now ends after the configured timeout;
- an API key echoed in a 500 error body reached the structured-output fallback warning unmasked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import pytest
from fake_openai_server import FakeOpenAIServer, Reply

from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.errors import LLMTransportError
from toolflow.engine.llm.settings import LLMSettings

API_KEY = "sk-live-0123456789abcdef"
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
HI = [{"role": "user", "content": "hi"}]


class Slowloris:
    """An HTTP server on 127.0.0.1 that answers 200 with a long Content-Length, then dribbles one byte every
    `every` seconds: no single read ever waits long enough to time out."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.requests = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while True:  # one request per connection is enough: read its head and body
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                await writer.drain()
                while True:
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(self.every)

    async def __aenter__(self) -> Slowloris:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await self._serve(reader, writer)
            finally:
                self._tasks.discard(task)
                writer.close()

        self._server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        assert self._server is not None
        self._server.close()


def _llm(base_url: str, **kw: Any) -> OpenAIClientLLM:
    settings = LLMSettings(base_url=base_url, model="m", api_key=API_KEY, cache_dir=None, native_tools="on",
                           retry_base_delay=0.001, retry_max_delay=0.01, **kw)
    return OpenAIClientLLM(settings)


async def test_slowloris_endpoint_ends_at_the_total_deadline():
    async with Slowloris(every=0.2) as srv, _llm(srv.base_url, timeout=1.0, max_retries=1,
                                                  structured_mode="json_object") as llm:
        t0 = time.monotonic()
        with pytest.raises(LLMTransportError) as info:
            # the outer bound only keeps the old code (per-read timeout) from hanging the suite
            await asyncio.wait_for(llm.structured_json("user", HI, SCHEMA, name="t"), 20)
        elapsed = time.monotonic() - t0
    assert srv.requests == 2, srv.requests  # the deadline is transient: retried once, like a read timeout
    assert elapsed >= 2.0, elapsed  # two attempts, each cut at its 1 s deadline (not by the outer 20 s bound)
    assert "timed out" in str(info.value).lower()


async def test_structured_fallback_warning_masks_a_key_echoed_in_a_500(caplog):
    echo = {"error": {"message": f"response_format unsupported; key {API_KEY}", "type": "server_error"}}
    async with FakeOpenAIServer() as srv:
        srv.push(Reply(status=500, body=echo))  # the json_schema probe's answer: a format rejection
        async with _llm(srv.base_url, max_retries=0, structured_mode="auto") as llm:
            with caplog.at_level(logging.DEBUG, logger="toolflow.llm"):
                value = await llm.structured_json("user", HI, SCHEMA, name="t")
    assert value == {"a": "x"} and llm.stats["fallbacks"] == 1
    warnings = [r.getMessage() for r in caplog.records if "json_object" in r.getMessage()]
    assert warnings, caplog.text
    assert API_KEY not in caplog.text and "key ***" in warnings[0], warnings
