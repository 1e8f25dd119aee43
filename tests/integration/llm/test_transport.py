"""The client's HTTP transport, the `openai` SDK's ``chat.completions`` call: the request arrives as the
client built it, replies come back as their JSON body and failures as the SDK's own exceptions, which
retries, format probes and context-overflow detection read."""

from __future__ import annotations

import socket

import openai
import pytest

from toolflow.engine.llm.errors import MalformedResponseError, is_context_overflow
from toolflow.engine.llm.jsonbytes import dumps, loads
from toolflow.engine.llm.retry import is_transient, retry_after_seconds
from toolflow.engine.llm.transport import ChatTransport

try:
    from fake_openai_server import FakeOpenAIServer, Reply
except ImportError:  # pragma: no cover
    from fake_openai_server import FakeOpenAIServer, Reply

BODY = {"model": "fake", "messages": [{"role": "user", "content": "Grüße, 東京"}], "max_tokens": 8}


async def test_a_reply_is_its_json_body_and_the_request_arrives_whole() -> None:
    async with FakeOpenAIServer() as srv:
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            reply = await transport.post(BODY, 5.0)
        finally:
            await transport.close()
    assert reply["choices"][0]["message"]["content"] == "ok"
    assert srv.requests == [BODY]  # non-ASCII text and every field survive the encoding


async def test_every_parameter_arrives_as_the_client_built_it() -> None:
    body = {**BODY, "temperature": 0.7, "tool_choice": "auto",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "response_format": {"type": "json_object", "schema": {"type": "object"}}}
    async with FakeOpenAIServer() as srv:
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            await transport.post(body, 5.0)
        finally:
            await transport.close()
    assert srv.requests == [body]  # nothing dropped, added or renamed on the way through the SDK


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, openai.BadRequestError), (401, openai.AuthenticationError), (404, openai.NotFoundError),
     (429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError),
     (418, openai.APIStatusError)],
)
async def test_status_errors_are_the_sdks(status: int, kind: type[openai.APIStatusError]) -> None:
    async with FakeOpenAIServer() as srv:
        srv.push(Reply(status=status, headers={"retry-after": "3"},
                       body={"error": {"message": f"status {status}", "code": "some_code"}}))
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            with pytest.raises(kind) as info:
                await transport.post(BODY, 5.0)
        finally:
            await transport.close()
    exc = info.value
    assert type(exc) is kind and exc.status_code == status and exc.code == "some_code"
    assert str(exc) == f"Error code: {status} - status {status}"
    assert retry_after_seconds(exc) == 3.0  # the reply's headers reach the retry policy
    assert is_transient(exc) == (status in (429, 500, 503))


async def test_context_overflow_is_recognised_from_a_plain_text_400() -> None:
    async with FakeOpenAIServer() as srv:
        srv.push(Reply(status=400, raw=b"the request exceeds the available context window"))
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            with pytest.raises(openai.BadRequestError) as info:
                await transport.post(BODY, 5.0)
        finally:
            await transport.close()
    assert is_context_overflow(info.value)  # a body without error.message is read from the error's body


async def test_a_200_that_is_not_json_is_malformed() -> None:
    async with FakeOpenAIServer() as srv:
        srv.push(Reply(raw=b"<html>gateway</html>"))
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            with pytest.raises(MalformedResponseError):
                await transport.post(BODY, 5.0)
        finally:
            await transport.close()


async def test_unreachable_and_slow_endpoints_are_connection_and_timeout_errors() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = ChatTransport(f"http://127.0.0.1:{port}/v1", "sk-test", concurrency=4)
    try:
        with pytest.raises(openai.APIConnectionError) as info:  # the SDK's aiohttp client may call it a timeout
            await transport.post(BODY, 5.0)
        assert is_transient(info.value)
    finally:
        await transport.close()
    async with FakeOpenAIServer(delay=2.0) as srv:
        transport = ChatTransport(srv.base_url, "sk-test", concurrency=4)
        try:
            with pytest.raises(openai.APITimeoutError):
                await transport.post(BODY, 0.2)
        finally:
            await transport.close()


def test_json_falls_back_to_the_standard_library_for_what_orjson_refuses() -> None:
    huge = {"n": 2**70, "x": float("nan")}
    assert loads(dumps({"a": [1, "é"], 3: True})) == {"a": [1, "é"], "3": True}
    decoded = loads(dumps(huge))
    assert decoded["n"] == 2**70 and decoded["x"] != decoded["x"]
