"""A scriptable OpenAI-compatible chat server on loopback, for tests and the overhead benchmark.

Plain asyncio HTTP/1.1 with keep-alive (no framework), so it serves hundreds of concurrent requests
from one thread and the real `openai` client talks to it over real sockets. By default it answers
a JSON instance valid for the requested schema (``response_format``) or a call of the first tool,
with token usage, after `delay` seconds. Tests queue :class:`Reply` objects (or callables) to script
failures; the server records every request body, the count and the peak number in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """One scripted answer. `content=None` on a 200 means "generate a valid one"."""

    status: int = 200
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # raw JSON body, overrides everything else
    raw: bytes | None = None  # bytes sent as the body as is (e.g. not JSON at all), overrides `body`
    delay: float | None = None


Script = Reply | Callable[[dict[str, Any]], Reply]


def instance_for(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small value valid for `schema` (first branch of unions, required properties only)."""
    root = root if root is not None else schema
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return instance_for(node, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return instance_for(schema[key][0], root)
    if "allOf" in schema:
        out: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = instance_for(part, root)
            if isinstance(value, dict):
                out.update(value)
        return out
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: instance_for(props[k], root) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [instance_for(schema.get("items", {}), root) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return None


class FakeOpenAIServer:
    def __init__(
        self,
        delay: float = 0.0,
        *,
        reject_json_schema: bool = False,
        reject_tools: bool = False,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.delay = delay
        self.responder = responder  # answers whenever the script is empty (e.g. a schema-aware dialogue fake)
        self.reject_json_schema = reject_json_schema  # like llama-cpp-python 0.3.36: HTTP 500
        self.reject_tools = reject_tools
        self.script: deque[Script] = deque()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0  # TCP connections accepted: a client that reuses its connections opens few
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- control -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def push(self, *replies: Script) -> None:
        self.script.extend(replies)

    def reset_counters(self) -> None:
        self.requests.clear()
        self.max_in_flight = 0

    async def start(self, port: int = 0) -> FakeOpenAIServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):  # idle keep-alive connections would keep handlers waiting
                w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None

    async def __aenter__(self) -> FakeOpenAIServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- HTTP ----------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                status, extra, payload = await self._route(method, path, body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                out = [
                    f"HTTP/1.1 {status} X",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                ]
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            return  # client went away (e.g. timed out) or the server is stopping
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if path == "/_stats":  # control routes for a server in another process
            return 200, {}, {"requests": self.request_count, "max_in_flight": self.max_in_flight}
        if path.startswith("/_reset"):
            self.reset_counters()
            if "delay=" in path:
                self.delay = float(path.split("delay=", 1)[1])
            return 200, {}, {"ok": True}
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return (
                200,
                {},
                {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "test"}]},
            )
        if not path.rstrip("/").endswith("/chat/completions"):
            return 404, {}, {"error": {"message": f"no route {path}"}}
        request = json.loads(body or b"{}")
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = self._next_reply(request)
            delay = self.delay if reply.delay is None else reply.delay
            if delay:
                await asyncio.sleep(delay)
            return reply.status, reply.headers, self._payload(request, reply)
        finally:
            self.in_flight -= 1

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        fmt = (request.get("response_format") or {}).get("type")
        if self.reject_json_schema and fmt == "json_schema":
            return Reply(
                status=500,
                body={"error": {"message": "response_format: Input should be 'text' or 'json_object'"}},
            )
        if self.reject_tools and request.get("tools"):
            return Reply(status=400, body={"error": {"message": "tools are not supported"}})
        if not self.script:
            return self.responder(request) if self.responder else Reply()
        item = self.script.popleft()
        return item(request) if callable(item) else item

    def _payload(self, request: dict[str, Any], reply: Reply) -> Any:
        if reply.raw is not None:
            return reply.raw
        if reply.body is not None:
            return reply.body
        if reply.status != 200:
            return {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}
        content, calls = reply.content, reply.tool_calls
        if content is None and calls is None:
            content, calls = self._generate(request)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = reply.finish_reason
        if calls:
            message["tool_calls"] = calls
            finish = "tool_calls" if finish == "stop" else finish
        prompt_chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": max(1, prompt_chars // 4),
                "completion_tokens": max(1, len(content or "") // 4),
                "total_tokens": max(1, prompt_chars // 4) + max(1, len(content or "") // 4),
            },
        }

    def _generate(self, request: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]] | None]:
        fmt = request.get("response_format") or {}
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema")
        if schema is not None:
            return json.dumps(instance_for(schema)), None
        tools = request.get("tools")
        if tools:
            fn = tools[0]["function"]
            args = instance_for(fn.get("parameters") or {"type": "object"})
            return None, [
                {
                    "id": "call_fake0",
                    "type": "function",
                    "function": {"name": fn["name"], "arguments": json.dumps(args)},
                }
            ]
        return "ok", None


class FakeServerProcess:
    """The fake server in a child process, so its CPU does not compete with the client being measured."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeServerProcess:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--delay", str(self.delay)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None

    def _get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
            return json.loads(resp.read())

    def reset(self, delay: float | None = None) -> None:
        self._get("/_reset" + (f"?delay={delay}" if delay is not None else ""))

    def stats(self) -> dict[str, Any]:
        return self._get("/_stats")


def _main() -> None:
    parser = argparse.ArgumentParser(description="fake OpenAI-compatible server (prints 'PORT <n>')")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def serve() -> None:
        server = await FakeOpenAIServer(args.delay).start(args.port)
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    _main()
