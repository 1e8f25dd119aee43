"""`toolflow synth --execute`: the options and the run wrapper that calls real tools (engine/synth/execute.py)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from toolflow.engine.cli.options import Fail
from toolflow.engine.synth.execute import CURRENT, ExecPolicy, LiveTools
from toolflow.engine.synth.live_session import ServerUnavailable


def execute_options(f: Callable) -> Callable:
    """--execute and what it runs against, what it may run, and its limits."""
    options = [
        click.option("--execute", is_flag=True,
                     help="Call the real tools (of --server / --functions) instead of simulating their results. "
                          "Safe by default: only tools annotated read-only run; the rest stay simulated."),
        click.option("--server", "servers", multiple=True, metavar="SPEC",
                     help="A live tool server for --execute (repeatable): mcp+stdio:\"CMD ARGS\", "
                          "mcp+http://HOST:PORT/mcp."),
        click.option("--functions", "functions", multiple=True, metavar="MODULE[:ATTR]",
                     help="Typed Python functions as tools for --execute (repeatable); they carry no "
                          "read-only annotation, so name them with --allow (or --allow-writes) to run them."),
        click.option("--allow-writes", is_flag=True,
                     help="With --execute, also run tools not annotated read-only (writes, deletes).",),
        click.option("--allow", "allow", multiple=True, metavar="TOOL",
                     help="With --execute, run this tool whatever its annotations (repeatable)."),
        click.option("--call-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
                     help="Seconds per executed call; a call that takes longer answers with a timeout error."),
        click.option("--result-max-chars", type=click.IntRange(min=100), default=8000, show_default=True,
                     help="Characters of an executed result kept in the dialogue (the rest is cut, and said so)."),
        click.option("--sandbox", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Working directory of stdio servers under --execute (default: a fresh temporary one)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def live_specs(opts: dict[str, Any]) -> list[str]:
    """The server specs of --server and --functions, checked; [] without --execute."""
    specs = [*opts.get("servers", ()), *(f"py:{f}" for f in opts.get("functions", ()))]
    if not opts.get("execute"):
        if specs or opts.get("allow_writes") or opts.get("allow"):
            raise click.UsageError("--server, --functions, --allow and --allow-writes need --execute")
        return []
    if not specs:
        raise click.UsageError("--execute needs the tools' server: --server mcp+stdio:\"CMD\" or --functions MODULE")
    if opts.get("workers", 1) > 1 or opts.get("executor", "local") != "local":
        raise click.UsageError("--execute runs in one process (one session per server): leave out --workers "
                               "and --executor ray")
    return specs


def calls_path(out: Path) -> Path:
    """The executed-call cache beside the output: `d.jsonl` → `d.calls.jsonl`."""
    return out.with_name(f"{out.stem}.calls.jsonl")


@contextlib.asynccontextmanager
async def live_tools(opts: dict[str, Any], out: Path, console: Console) -> AsyncIterator[LiveTools | None]:
    """The run's executor (set as the current one), or None without --execute."""
    from toolflow.loaders.errors import LoadError
    from toolflow.loaders.mcp_live import parse_spec, quiet_sdk_logs

    texts = live_specs(opts)
    if not texts:
        yield None
        return
    quiet_sdk_logs()
    policy = ExecPolicy(allow_writes=opts["allow_writes"], allow=list(opts["allow"]),
                        timeout=opts["call_timeout"], max_chars=opts["result_max_chars"])
    with contextlib.ExitStack() as stack:
        sandbox = opts.get("sandbox")
        if sandbox is None:
            sandbox = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="toolflow-sandbox-")))
        sandbox.mkdir(parents=True, exist_ok=True)
        try:
            specs = [parse_spec(t) for t in texts]
            live = LiveTools(specs, policy, cache_path=calls_path(out), sandbox=sandbox)
            await live.__aenter__()
        except (LoadError, ServerUnavailable) as exc:
            raise Fail(str(exc)) from exc
        token = CURRENT.set(live)
        try:
            yield live
        finally:
            CURRENT.reset(token)
            await live.aclose()
        runs = sorted(n for n, (_, t) in live.served.items() if policy.refusal(n, t.get("annotations")) is None)
        console.print(f"executed {live.counts['executed']} call(s) ({live.counts['cached']} from the cache, "
                      f"{live.counts['errors']} tool errors), simulated {live.counts['simulated']}; "
                      f"tools run: {', '.join(runs) or 'none'}", highlight=False)
