"""Running MCP servers as a tool source: `mcp+stdio:"CMD ARGS…"` and `mcp+http://HOST:PORT/mcp`.

A server's `tools/list` (read page by page to the end) and its `serverInfo` become one listing in the
shape the saved-listing loader (`loaders/mcp.py`) reads: ``{"serverInfo": {name, version}, "tools": [...]}``.
A build from live servers goes through that same loader, so `--save-listing` writes exactly what was
loaded and a later build from the saved file gives the same graph. Everything talks through the
official `mcp` SDK's `Client` (the optional extra `toolflow[mcp]`); nothing of the protocol is
hand-written here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel

from toolflow.loaders.errors import LoadError

PREFIXES = ("mcp+stdio:", "mcp+http://", "mcp+https://", "py:")
#: Seconds a server gets to start and list its tools.
LIST_TIMEOUT = 30.0
#: A cursor loop (a server handing back a cursor it already gave) stops here instead of spinning.
MAX_PAGES = 10_000


class ServerSpec(BaseModel):
    """One MCP server to connect to: a command to start (stdio) or a streamable-HTTP URL."""

    text: str
    transport: Literal["stdio", "http", "python"]
    command: list[str] = []
    url: str | None = None
    target: str | None = None

    @property
    def label(self) -> str:
        """How errors name the server: the spec as the user wrote it."""
        return self.text


def is_server_spec(text: str) -> bool:
    return text.startswith(PREFIXES)


def parse_spec(text: str) -> ServerSpec:
    """`mcp+stdio:CMD ARGS…` (split like a shell would) or `mcp+http(s)://…`; LoadError otherwise."""
    if text.startswith("mcp+stdio:"):
        try:
            command = shlex.split(text[len("mcp+stdio:"):])
        except ValueError as exc:
            raise LoadError(f"cannot split the command: {exc}", file=text) from exc
        if not command:
            raise LoadError("no command after mcp+stdio:", file=text)
        return ServerSpec(text=text, transport="stdio", command=command)
    if text.startswith(("mcp+http://", "mcp+https://")):
        return ServerSpec(text=text, transport="http", url=text[len("mcp+"):])
    if text.startswith("py:") and text[3:].strip():
        return ServerSpec(text=text, transport="python", target=text[3:].strip())
    raise LoadError("not a tool server: use mcp+stdio:\"CMD ARGS\", mcp+http://HOST:PORT/PATH or "
                    "py:MODULE[:ATTR]", file=text)


def quiet_sdk_logs() -> None:
    """The SDK logs a server's bad output with a traceback; our own errors already say it in one line."""
    logging.getLogger("mcp").setLevel(logging.CRITICAL)
    # the SDK's client session logs under the bare name "client" (e.g. that it cannot validate the
    # structuredContent of a tool it saw on a later tools/list page): noise for a user of ToolFlow
    logging.getLogger("client").setLevel(logging.ERROR)


def _sdk() -> Any:
    try:
        import mcp
    except ImportError as exc:  # the optional extra is not installed
        raise LoadError("live MCP servers need the mcp SDK: pip install 'toolflow[mcp]'") from exc
    return mcp


@asynccontextmanager
async def connect(spec: ServerSpec, *, cwd: Path | None = None, errlog: Any = None) -> AsyncIterator[Any]:
    """An initialized SDK `Client` session with the server.

    A stdio server starts in `cwd` and writes its stderr to `errlog` (a real file: the SDK hands it to
    the subprocess; default: discarded).
    """
    mcp = _sdk()
    if spec.transport == "stdio":
        from mcp.client.stdio import stdio_client

        params = mcp.StdioServerParameters(command=spec.command[0], args=spec.command[1:],
                                           cwd=str(cwd) if cwd is not None else None)
        with contextlib.ExitStack() as stack:
            log = errlog if errlog is not None else stack.enter_context(open(os.devnull, "w"))  # noqa: SIM115
            async with mcp.Client(stdio_client(params, errlog=log)) as client:
                yield client
        return
    target = function_server(spec.target) if spec.transport == "python" else spec.url
    async with mcp.Client(target) as client:
        yield client


def function_server(target: str | None) -> Any:
    """An in-process MCP server exposing the typed Python functions at `MODULE[:ATTR]`.

    ATTR names a function, or a list/tuple/dict of them; without it, every public function defined in
    the module. The SDK's server derives each tool's input schema from the signature, its outputSchema
    from the return annotation, and its description from the docstring, so functions become tools
    exactly as an MCP server built from them would list them.
    """
    import importlib
    import inspect
    import sys

    from mcp.server.mcpserver import MCPServer

    module_name, _, attr = (target or "").partition(":")
    if os.getcwd() not in sys.path:  # like `python -m`: modules beside the working directory import
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
        obj: Any = getattr(module, attr) if attr else None
    except (ImportError, AttributeError) as exc:
        raise LoadError(f"cannot import: {exc}", file=f"py:{target}") from exc
    if obj is None:
        functions = [f for n, f in vars(module).items() if inspect.isfunction(f) and not n.startswith("_")
                     and f.__module__ == module.__name__]
    elif callable(obj):
        functions = [obj]
    else:
        functions = list(obj.values() if isinstance(obj, dict) else obj)
    if not functions or not all(callable(f) for f in functions):
        raise LoadError("no functions to serve (ATTR must be a function or a list of them)", file=f"py:{target}")
    server = MCPServer(module_name, version=str(getattr(module, "__version__", "") or ""), log_level="ERROR")
    for fn in functions:
        server.add_tool(_real_errors(fn))
    return server


def _real_errors(fn: Any) -> Any:
    """`fn` raising its own error text as a tool error (the SDK reports an unexpected exception only as
    "Error executing tool"): the assistant sees what really went wrong, as from any server."""
    import functools
    import inspect

    from mcp.server.mcpserver.exceptions import ToolError

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except ToolError:
                raise
            except Exception as exc:  # noqa: BLE001 - the function's own failure, reported as its answer
                raise ToolError(f"{type(exc).__name__}: {exc}") from exc
        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as exc:  # noqa: BLE001 - the function's own failure, reported as its answer
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc
    return call


def stderr_tail(log: Any) -> str:
    """The last non-blank line a server wrote to its stderr log, as a hint after a failure."""
    try:
        log.seek(0)
        lines = [ln.strip() for ln in log.read().splitlines() if ln.strip()]
    except (OSError, ValueError):
        return ""
    return f" (server stderr: {lines[-1][:200]})" if lines else ""


def failure_text(exc: BaseException) -> str:
    """One line for what went wrong, from the innermost error of an exception group."""
    while getattr(exc, "exceptions", None):  # an exception group (anyio task groups raise them)
        exc = exc.exceptions[0]
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


async def read_listing(client: Any) -> dict[str, Any]:
    """`{"serverInfo": {name, version}, "tools": [...]}` from an open session, every page of `tools/list`."""
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools)
        cursor = page.next_cursor
        if not cursor or cursor in seen:
            break
        seen.add(cursor)
    info = client.server_info
    server = {"name": info.name, "version": info.version or ""} if info is not None else {}
    return {"serverInfo": server, "tools": tools}


async def fetch_listing(spec: ServerSpec, *, timeout: float = LIST_TIMEOUT, cwd: Path | None = None) -> dict[str, Any]:
    """The server's listing; a server that does not start, times out or breaks the protocol is a
    one-line `LoadError` naming it."""
    with tempfile.TemporaryFile("w+") as log:
        try:
            with anyio.fail_after(timeout):
                async with connect(spec, cwd=cwd, errlog=log) as client:
                    listing = await read_listing(client)
        except TimeoutError as exc:
            raise LoadError(f"no tools/list answer within {timeout:g}s{stderr_tail(log)}", file=spec.label) from exc
        except LoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - start failures, transport and protocol errors alike
            raise LoadError(f"server failed: {failure_text(exc)}{stderr_tail(log)}", file=spec.label) from exc
    if not listing["serverInfo"].get("name"):
        raise LoadError("server sent no serverInfo name", file=spec.label)
    return listing


def fetch_listings(texts: list[str], *, timeout: float = LIST_TIMEOUT) -> list[dict[str, Any]]:
    """Listings of every server in `texts`, in order (all read before anything is written anywhere)."""
    specs = [parse_spec(t) for t in texts]

    async def run() -> list[dict[str, Any]]:
        return [await fetch_listing(s, timeout=timeout) for s in specs]

    return anyio.run(run)
