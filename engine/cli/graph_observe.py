"""`toolflow graph observe`: a build whose tools without a return schema get one from real calls.

Parsing and printing only: the observation and the build are `toolflow.engine.api.graph.observe_and_build`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from toolflow.engine.api.config import ObserveConfig
from toolflow.engine.cli.options import Fail, config_option, console, out, store_option


def _print_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
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


@click.command("observe")
@click.argument("tools", nargs=-1, required=True)
@store_option
@click.option("--server", "servers", multiple=True, metavar="SPEC",
              help="A live server to call (repeatable); the live servers among TOOLS are called anyway.")
@click.option("--functions", "functions", multiple=True, metavar="MODULE[:ATTR]",
              help="Typed Python functions to call (repeatable; name them with --allow, they carry no annotation).")
@config_option(ObserveConfig, "calls", "--calls")
@click.option("--from-calls", "from_calls", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Results recorded by `synth --execute` (its <out>.calls.jsonl; repeatable), generalized too.")
@config_option(ObserveConfig, "allow", "--allow", "allow", multiple=True, metavar="TOOL", to_config=list)
@config_option(ObserveConfig, "call_timeout", "--call-timeout", help=None)
@config_option(ObserveConfig, "embedder", "--embedder", help=None)
@config_option(ObserveConfig, "cache_dir", "--cache-dir", type=click.Path(path_type=Path), help=None)
@click.option("--json", "as_json", is_flag=True, help="Print the per-tool report as JSON.")
def graph_observe(tools: tuple[str, ...], store_spec: str | None, servers: tuple[str, ...],
                  functions: tuple[str, ...], from_calls: tuple[Path, ...], as_json: bool, **opts: Any) -> None:
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
    from toolflow.engine.api.graph import observe_and_build, print_report
    from toolflow.engine.errors import ConfigError

    config = ObserveConfig(calls=opts["calls"], call_timeout=opts["call_timeout"], allow=list(opts["allow"]),
                           embedder=opts["embedder"], cache_dir=opts["cache_dir"])
    try:
        rep, report = observe_and_build(list(tools), [*servers, *(f"py:{f}" for f in functions)], store_spec,
                                        config, from_calls=list(from_calls), console=console)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except Exception as exc:  # one line naming the server, file or store
        raise Fail(str(exc)) from exc
    print_report(rep, console)
    _print_rows([r.model_dump() for r in report], as_json)
