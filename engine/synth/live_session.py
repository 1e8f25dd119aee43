"""One long-lived SDK session per MCP server, shared by every dialogue of a run, restarted if it dies.

The SDK's `Client` is an async context manager whose task group must be entered and left in the same
task, while a run calls tools from many dialogue tasks. So each session has an owner task that enters
the client and waits; dialogues call through the open client; a restart asks the owner to leave and
starts a new one. A session that cannot (re)start raises `ServerUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import Any

from toolflow.engine.errors import LLMError
from toolflow.loaders.mcp_live import ServerSpec, connect, failure_text, read_listing, stderr_tail

#: Seconds a server gets to start (and to stop when the run ends).
START_TIMEOUT = 30.0


class ServerUnavailable(LLMError):
    """The server does not start, or died and could not be restarted."""


class LiveSession:
    """An MCP server's session: `call` from any task; `restart` after a transport failure."""

    def __init__(self, spec: ServerSpec, *, cwd: Path | None = None, start_timeout: float = START_TIMEOUT) -> None:
        self.spec = spec
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.listing: dict[str, Any] = {}
        self.restarts = 0
        self.generation = 0
        self._client: Any = None
        self._stop: asyncio.Event | None = None
        self._owner: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._lock = asyncio.Lock()
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the session

    @property
    def name(self) -> str:
        return str(self.listing.get("serverInfo", {}).get("name") or self.spec.label)

    async def start(self) -> None:
        """Start the server and read its listing (the tools it serves and their annotations)."""
        async with self._lock:
            await self._start()

    async def _start(self) -> None:
        ready = asyncio.Event()
        self._stop = stop = asyncio.Event()
        self._error = None

        async def own() -> None:
            try:
                async with connect(self.spec, cwd=self.cwd, errlog=self._log) as client:
                    self.listing = await read_listing(client)
                    self._client = client
                    ready.set()
                    await stop.wait()
            except BaseException as exc:  # noqa: BLE001 - reported to whoever waits for the start
                self._error = exc
            finally:
                self._client = None
                ready.set()

        self._owner = asyncio.create_task(own(), name=f"mcp-session {self.spec.label}")
        try:
            await asyncio.wait_for(ready.wait(), self.start_timeout)
        except TimeoutError:
            await self._close()
            raise ServerUnavailable(f"{self.spec.label}: did not start within {self.start_timeout:g}s"
                                    f"{stderr_tail(self._log)}") from None
        if self._client is None:
            why = failure_text(self._error) if self._error is not None else "closed at start"
            raise ServerUnavailable(f"{self.spec.label}: {why}{stderr_tail(self._log)}")
        self.generation += 1

    async def client(self) -> tuple[Any, int]:
        """The open client and its generation (pass it to `restart`)."""
        async with self._lock:
            if self._client is None:
                await self._start()
            return self._client, self.generation

    async def restart(self, generation: int) -> None:
        """Replace the session of `generation` (a no-op when another task already replaced it)."""
        async with self._lock:
            if generation != self.generation and self._client is not None:
                return
            await self._close()
            self.restarts += 1
            await self._start()

    async def _close(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._owner is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._owner, self.start_timeout)
        self._owner = None
        self._client = None

    async def close(self) -> None:
        async with self._lock:
            await self._close()
        self._log.close()
