"""`toolflow synth --execute`: its options and their checks (the run with real tools is engine/api/synth.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolflow.engine.api.config import ExecuteConfig
from toolflow.engine.cli.options import config_option
from toolflow.engine.synth.execute import ExecPolicy


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
        config_option(ExecPolicy, "allow_writes", "--allow-writes",
                      help="With --execute, also run tools not annotated read-only (writes, deletes)."),
        click.option("--allow", "allow", multiple=True, metavar="TOOL",
                     help="With --execute, run this tool whatever its annotations (repeatable)."),
        config_option(ExecPolicy, "timeout", "--call-timeout", type=click.FloatRange(min=0.1),
                      help="Seconds per executed call; a call that takes longer answers with a timeout error."),
        config_option(ExecPolicy, "max_chars", "--result-max-chars",
                      help="Characters of an executed result kept in the dialogue (the rest is cut, and said so)."),
        config_option(ExecuteConfig, "sandbox", "--sandbox", type=click.Path(file_okay=False, path_type=Path)),
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


def execute_config(opts: dict[str, Any]) -> ExecuteConfig | None:
    """The --execute options as the API's `ExecuteConfig` (None without --execute)."""
    specs = live_specs(opts)
    if not specs:
        return None
    policy = ExecPolicy(allow_writes=opts["allow_writes"], allow=list(opts["allow"]), timeout=opts["call_timeout"],
                        max_chars=opts["result_max_chars"])
    return ExecuteConfig(servers=specs, policy=policy, sandbox=opts.get("sandbox"))
