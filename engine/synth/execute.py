"""Executing tools during synthesis (`toolflow synth --execute`): real results instead of simulated ones.

Per planned call the loop asks :func:`live_result`; it answers with the real result, or None when the
tool is to be simulated as before. What runs is decided per tool, safe by default:

- a tool runs only if a live server serves it and it is annotated read-only, unless writes are allowed
  (`--allow-writes`) or the tool is named in `--allow`; every other tool is simulated, and the
  dialogue's ``meta.tool_results`` says which calls were ``executed`` and which ``simulated`` (and why);
- a call has a timeout and its text a size cap; a tool error, a timeout and a server's JSON-RPC error
  are the tool's real answer: the assistant sees the error text and the dialogue goes on (error turn);
- a server that dies is restarted and the call retried once; if that fails the dialogue is rejected
  with the reason (`ServerUnavailable` → ``tool_unavailable``);
- results are cached on disk by (server, tool, arguments), so a resumed run never calls a tool twice.

The executor of a run is set in a context variable by the CLI, so the loop needs no new parameters.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from toolflow.engine.jsonl import append_jsonl, json_lines
from toolflow.engine.models import Tool
from toolflow.engine.synth.agents.tool_sim import ToolSimError
from toolflow.engine.synth.live_session import LiveSession, ServerUnavailable
from toolflow.loaders.mcp_live import ServerSpec

#: MCP JSON-RPC codes the SDK raises for a dead transport and for a request that timed out.
CONNECTION_CLOSED = -32000
REQUEST_TIMEOUT = -32001
#: Why a tool no live server lists is simulated.
NOT_SERVED = "no live server serves it"


class ExecPolicy(BaseModel):
    """What may run, for how long, and how much of its answer is kept."""

    allow_writes: bool = Field(default=False, description="Run tools not annotated read-only too.")
    allow: list[str] = Field(default_factory=list, description="Tool names that run whatever their annotations.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds per call.")
    max_chars: int = Field(default=8000, ge=100, description="Characters of a result's text kept.")

    def refusal(self, name: str, annotations: dict[str, Any] | None) -> str | None:
        """Why `name` must not run (None: it may)."""
        if self.allow_writes or name in self.allow:
            return None
        if (annotations or {}).get("readOnlyHint") is True:
            return None
        return "not annotated read-only (allow with --allow-writes or --allow NAME)"


class Outcome(BaseModel):
    """A real tool result: the tool message's text and the JSON value later calls take values from."""

    content: str
    value: Any = None
    is_error: bool = False
    cached: bool = False


class ToolUnavailable(ToolSimError):
    """A tool's server died and could not be restarted: the dialogue is rejected with this reason."""


def result_text(result: Any, max_chars: int) -> Outcome:
    """The SDK's `CallToolResult` as a tool message: structuredContent as JSON when present (what the
    outputSchema declares), else the text blocks; cut to `max_chars` with a note of what was cut."""
    value: Any
    if result.structured_content is not None and not result.is_error:
        value = result.structured_content
        text = json.dumps(value, ensure_ascii=False)
    else:
        parts = [getattr(b, "text", None) or f"[{getattr(b, 'type', 'content')}]" for b in result.content]
        text = "\n".join(parts)
        try:
            value = json.loads(text)
        except ValueError:
            value = text
    if len(text) > max_chars:
        text = f"{text[:max_chars]}… [{len(text) - max_chars} more characters cut]"
        value = text
    return Outcome(content=text, value=value, is_error=bool(result.is_error))


class ResultCache:
    """(server, tool, arguments) → Outcome, one JSON line per call, appended and fsync'ed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.items: dict[str, Outcome] = {}
        if path is not None and path.exists():
            with open(path, encoding="utf-8") as f:
                for line in json_lines(f):
                    try:
                        self.items[line.value["key"]] = Outcome(**line.value["outcome"])
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut by a crash (its value None) or not ours: that call simply runs again

    @staticmethod
    def key(server: str, tool: str, arguments: Any) -> str:
        text = json.dumps([server, tool, arguments], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Outcome | None:
        hit = self.items.get(key)
        return hit.model_copy(update={"cached": True}) if hit is not None else None

    def put(self, key: str, outcome: Outcome, **about: Any) -> None:
        """Keep `outcome`; `about` (server, tool, arguments) is written beside it for `graph observe`."""
        self.items[key] = outcome
        if self.path is None:
            return
        append_jsonl(self.path, {"key": key, **about, "outcome": outcome.model_dump()})


Mode = Literal["executed", "simulated"]


class LiveTools:
    """The live servers of a run and the policy over them; `async with` starts and stops the sessions."""

    def __init__(self, specs: list[ServerSpec], policy: ExecPolicy, *, cache_path: Path | None = None,
                 sandbox: Path | None = None) -> None:
        self.policy = policy
        self.sandbox = sandbox
        self.sessions = [LiveSession(s, cwd=sandbox) for s in specs]
        self.cache = ResultCache(cache_path)
        #: tool name → (session, listed tool): the first server listing a name
        self.served: dict[str, tuple[LiveSession, dict[str, Any]]] = {}
        #: (server name, tool name) → the same, for tools whose server is known (`mcp:<server>/<name>` ids)
        self.by_server: dict[tuple[str, str], tuple[LiveSession, dict[str, Any]]] = {}
        self.counts: dict[str, int] = {"executed": 0, "simulated": 0, "errors": 0, "cached": 0}

    async def __aenter__(self) -> LiveTools:
        try:
            for session in self.sessions:
                await session.start()
                for tool in session.listing.get("tools", []):
                    self.served.setdefault(tool["name"], (session, tool))
                    self.by_server.setdefault((session.name, tool["name"]), (session, tool))
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for session in self.sessions:
            await session.close()

    def decide(self, tool: Tool) -> tuple[LiveSession, str] | str:
        """(session, served name) when `tool` runs, else why it is simulated."""
        name = tool.original_name or tool.name
        # two servers may list one name (the graph then renamed one, e.g. `search_2`): the tool's category
        # is its server, so that pair decides first
        found = (self.by_server.get((tool.category or "", name)) or self.served.get(name)
                 or self.served.get(tool.name))
        if found is None:
            return NOT_SERVED
        session, listed = found
        refusal = self.policy.refusal(listed["name"], listed.get("annotations"))
        return refusal if refusal is not None else (session, listed["name"])

    async def call(self, tool: Tool, arguments: Any) -> Outcome | str:
        """The real result of calling `tool`, or why it is simulated instead."""
        decision = self.decide(tool)
        if isinstance(decision, str):
            self.counts["simulated"] += 1
            return decision
        session, name = decision
        key = ResultCache.key(session.name, name, arguments)
        outcome = self.cache.get(key)
        if outcome is None:
            outcome = await self._call(session, name, arguments if isinstance(arguments, dict) else {})
            self.cache.put(key, outcome, server=session.name, tool=name, arguments=arguments)
        else:
            self.counts["cached"] += 1
        self.counts["executed"] += 1
        self.counts["errors"] += outcome.is_error
        return outcome

    async def _call(self, session: LiveSession, name: str, arguments: dict[str, Any]) -> Outcome:
        from mcp import MCPError

        for attempt in (0, 1):
            try:
                client, generation = await session.client()
                result = await client.call_tool(name, arguments, read_timeout_seconds=self.policy.timeout)
                return result_text(result, self.policy.max_chars)
            except ServerUnavailable as exc:
                raise ToolUnavailable(str(exc)) from exc
            except MCPError as exc:
                if exc.code == REQUEST_TIMEOUT:
                    return Outcome(content=f"Error: {name} did not answer within {self.policy.timeout:g}s",
                                   is_error=True)
                if exc.code != CONNECTION_CLOSED:  # the server's own JSON-RPC error: its real answer
                    return Outcome(content=f"Error: {exc.message}", is_error=True)
                dead = f"{session.spec.label}: connection closed during {name}"
            except Exception as exc:  # noqa: BLE001 - a broken transport
                dead = f"{session.spec.label}: {type(exc).__name__}: {exc}"
            if attempt == 0:
                try:
                    await session.restart(generation)
                except ServerUnavailable as exc:
                    raise ToolUnavailable(f"{dead}; restart failed: {exc}") from exc
        raise ToolUnavailable(f"{dead} (after a restart)")


#: The executor of the running job (None: every result is simulated, as without --execute).
CURRENT: contextvars.ContextVar[LiveTools | None] = contextvars.ContextVar("toolflow_live_tools", default=None)


async def live_result(tool: Tool, arguments: Any) -> Outcome | str | None:
    """The real result for this call, why it is simulated (str), or None when nothing executes."""
    live = CURRENT.get()
    return None if live is None else await live.call(tool, arguments)


def record_mode(notes: dict[str, Any], call_id: str, tool: str, live: Outcome | str | None) -> None:
    """Note in the dialogue's meta whether this call's result is executed or simulated (runs with
    --execute only; other runs' records stay as they were)."""
    if live is None:
        return
    entry: dict[str, Any] = {"call_id": call_id, "tool": tool}
    if isinstance(live, Outcome):
        entry.update(mode="executed", error=live.is_error, cached=live.cached)
    else:
        entry.update(mode="simulated", reason=live)
    notes.setdefault("tool_results", []).append(entry)
