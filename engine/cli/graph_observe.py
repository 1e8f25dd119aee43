"""`toolflow graph observe`: a build whose tools without a return schema get one from real calls."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from toolflow.engine.cli.options import Fail, console, out, store_option
from toolflow.engine.paths import cache_root


@click.command("observe")
@click.argument("tools", nargs=-1, required=True)
@store_option
@click.option("--server", "servers", multiple=True, metavar="SPEC",
              help="A live server to call (repeatable); the live servers among TOOLS are called anyway.")
@click.option("--functions", "functions", multiple=True, metavar="MODULE[:ATTR]",
              help="Typed Python functions to call (repeatable; name them with --allow, they carry no annotation).")
@click.option("--calls", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Calls per tool (argument sets drawn from schema defaults, enums, examples and earlier results); "
                   "0 with --from-calls: generalize recorded results only.")
@click.option("--from-calls", "from_calls", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Results recorded by `synth --execute` (its <out>.calls.jsonl; repeatable), generalized too.")
@click.option("--allow", "allow", multiple=True, metavar="TOOL",
              help="Call this tool although it is not annotated read-only (repeatable).")
@click.option("--call-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@click.option("--embedder", type=click.Choice(["minilm", "hashing"]), default="minilm", show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the per-tool report as JSON.")
def graph_observe(tools: tuple[str, ...], store_spec: str | None, servers: tuple[str, ...],
                  functions: tuple[str, ...], calls: int, from_calls: tuple[Path, ...], allow: tuple[str, ...],
                  call_timeout: float,
                  embedder: str, cache_dir: Path | None, as_json: bool) -> None:
    """Build the graph from TOOLS (as `graph build`), after observing return schemas.

    Each tool that declares no return schema and may run (annotated read-only, or --allow) is called up
    to --calls times; its JSON results are generalized into a return schema marked returns_observed, so
    its outputs can feed other tools. Values for required parameters come from the schema (default,
    enum, examples) and from results of tools observed before (same field name, or along FEEDS edges of
    the graph already in the store). Tools whose results are plain text keep no return schema.

    \b
    Example:
      toolflow graph observe mcp+stdio:"uvx mcp-server-git --repository ." --calls 2
    """
    from toolflow.engine.cli.graph_build import (
        build_with_progress,
        live_inputs,
        load_result,
        print_report,
        write_with_progress,
    )
    from toolflow.engine.stores import open_store, resolve_store_spec
    from toolflow.engine.synth.observe import prior_results
    from toolflow.loaders.mcp_live import is_server_spec

    specs = [*servers, *(t for t in tools if is_server_spec(t)), *(f"py:{f}" for f in functions)]
    if not specs and not from_calls:
        raise click.UsageError("nothing to observe: give a live server among TOOLS, --server, --functions or "
                               "--from-calls")
    try:
        with live_inputs(tools) as paths:
            loaded = load_result(paths, None, False, console).tools
        spec = resolve_store_spec(store_spec)
        with open_store(spec) as store:
            prior = prior_results([json.loads(ln) for f in from_calls
                                   for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()])
            observed, report = asyncio.run(_observe(specs, list(allow), call_timeout, loaded,
                                                    _feeds(store), calls, prior))
            data, rep = build_with_progress(observed, embedder, cache_dir or cache_root(), 0.82, 10, console)
            write_with_progress(store, data, console)
    except Exception as exc:  # one line naming the server, file or store
        raise Fail(str(exc)) from exc
    print_report(rep, console)
    rows = [r.model_dump() for r in report]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="Observed return schemas")
    for col in ("tool", "calls", "errors", "recorded", "observed", "skipped"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["tool"], str(r["calls"]), str(r["errors"]), str(r["from_runs"]),
                      "yes" if r["observed"] else "no", r["skipped"] or "")
    out.print(table)


def _feeds(store: Any) -> list[dict[str, Any]]:
    """FEEDS edges of the graph already in the store ([] for an empty store)."""
    try:
        return store.run("feeds_all")
    except Exception:  # noqa: BLE001 - no graph yet: observation goes by field names only
        return []


async def _observe(specs: list[str], allow: list[str], timeout: float, tools: list, feeds: list, calls: int,
                   prior: dict[str, list[Any]]):
    from toolflow.engine.synth.execute import ExecPolicy, LiveTools
    from toolflow.engine.synth.observe import observe
    from toolflow.loaders.mcp_live import parse_spec, quiet_sdk_logs

    quiet_sdk_logs()
    policy = ExecPolicy(allow=allow, timeout=timeout)
    async with LiveTools([parse_spec(s) for s in specs], policy) as live:
        return await observe(live, tools, feeds, calls, prior)
