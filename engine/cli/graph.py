"""`toolflow graph …`: build the tool graph from tool files and inspect it (stats, neighbours, Cypher)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from toolflow.engine.api.config import GraphBuildConfig, QueryConfig, VerifyConfig
from toolflow.engine.cli.graph_eval import graph_eval
from toolflow.engine.cli.graph_observe import graph_observe
from toolflow.engine.cli.options import (
    Fail,
    config_option,
    console,
    open_store_or_fail,
    out,
    store_option,
    usage_errors,
)
from toolflow.engine.jsontext import loads_or_text
from toolflow.engine.stores.base import TOOL_EDGE_TYPES
from toolflow.engine.stores.readonly import MAX_NESTING, MAX_QUERY_CHARS


@click.group()
def graph() -> None:
    """Build and inspect the tool graph.

    \b
    Nodes: Tool, Field (parameter or return value), Category.
    Edges: FEEDS (a return value of A can fill a parameter of B), SHARES_INPUT (A and B take the
    same kind of input), SIMILAR (descriptions alike), MATCHES (the field pair behind an edge).
    """


def build_options(f: Callable) -> Callable:
    """The options of `GraphBuildConfig` (and its `VerifyConfig`), each declared by its field."""
    options = [
        store_option,
        config_option(GraphBuildConfig, "format", "--format", "fmt"),
        config_option(GraphBuildConfig, "threshold", "--threshold"),
        config_option(GraphBuildConfig, "fanout", "--fanout"),
        config_option(GraphBuildConfig, "skip_invalid", "--skip-invalid"),
        config_option(GraphBuildConfig, "strict", "--strict"),
        config_option(GraphBuildConfig, "embedder", "--embedder"),
        config_option(GraphBuildConfig, "cache_dir", "--cache-dir", type=click.Path(path_type=Path)),
        config_option(GraphBuildConfig, "match", "--match", "match"),
        config_option(GraphBuildConfig, "returns", "--returns", "returns"),
        config_option(GraphBuildConfig, "edge_scorer", "--edge-scorer", "edge_scorer"),
        click.option("--verify-edges", is_flag=True,
                     help="Ask a model (--base-url, --model) about each FEEDS edge whose probability is in "
                          "--verify-band; the answer is stored on the edge as verified true/false (cached, counted)."),
        config_option(VerifyConfig, "base_url", "--base-url"),
        config_option(VerifyConfig, "model", "--model"),
        config_option(VerifyConfig, "band", "--verify-band", nargs=2, type=click.FloatRange(0.0, 1.0),
                      metavar="LOW HIGH", show_default=True),
        config_option(VerifyConfig, "budget", "--verify-budget"),
        click.option("--save-listing", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Also write the tools/list of the live MCP servers among TOOLS to this JSON file (written "
                          "after a successful build), so the same build can be repeated offline from it."),
        config_option(GraphBuildConfig, "server_timeout", "--server-timeout"),
        click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON."),
        config_option(GraphBuildConfig, "executor", "--executor"),
        config_option(GraphBuildConfig, "ray_address", "--ray-address", metavar="auto|HOST:PORT"),
        config_option(GraphBuildConfig, "workers", "--workers"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def build_config(opts: dict[str, Any]) -> GraphBuildConfig:
    """The build's config from the parsed options."""
    verify = None
    if opts["verify_edges"]:
        if not opts["base_url"] or not opts["model"]:
            raise Fail("--verify-edges needs --base-url and --model")
        verify = VerifyConfig(base_url=opts["base_url"], model=opts["model"], band=opts["verify_band"],
                              budget=opts["verify_budget"])
    fields = {k: opts[k] for k in ("threshold", "fanout", "skip_invalid", "strict", "embedder", "cache_dir", "match",
                                   "returns", "edge_scorer", "server_timeout", "executor", "ray_address", "workers")}
    return GraphBuildConfig(format=opts["fmt"], verify=verify, **fields)


@graph.command("build")
@click.argument("tools", nargs=-1, required=True)
@build_options
def graph_build(tools: tuple[str, ...], store_spec: str | None, as_json: bool, save_listing: Path | None,
                **opts: Any) -> None:
    """Load TOOLS (files or directories), embed their fields, link them, and write the graph.

    A build replaces the graph in the store with the one computed from TOOLS; running it twice gives
    the same graph. Embeddings are cached on disk, so a rebuild only embeds texts it has not seen.

    Ids and function names come out unique. An identical repeat of a tool merges. A different
    definition under an id already loaded is kept as a copy with suffixes (id `~2`, name `_2`), and a
    tool whose function name is taken (same name elsewhere, or `get.weather` next to `get_weather`)
    gets a name suffix; the build lists what it renamed, and the source spelling stays in
    original_name. --strict refuses such a different definition instead. --skip-invalid decides
    whether a problem stops the build or is skipped and reported; it does not change renaming.

    TOOLS may also name running MCP servers: mcp+stdio:"CMD ARGS" (started, listed, stopped) or
    mcp+http://HOST:PORT/mcp (streamable HTTP), and typed Python functions: py:MODULE[:ATTR]. Their
    whole tools/list is read; outputSchema becomes the return schema, annotations the tool's
    read_only/destructive/idempotent properties, and serverInfo name@version its source.

    \b
    Examples:
      toolflow graph build examples/travel_tools.jsonl
      toolflow graph build ../shared/data/toolbench_rapidapi_tools.jsonl.gz --store bolt://localhost:7687
      toolflow graph build specs/petstore.yaml mcp/tools.json --threshold 0.8 --store ./graph
      toolflow graph build mcp+stdio:"uvx mcp-server-time" --save-listing time.json
    """
    from toolflow.engine.api.graph import build_graph

    config = usage_errors(lambda: build_config(opts))
    try:
        report = build_graph(tools, store_spec, config, console=console, save_listing=save_listing)
    except Exception as exc:  # loaders raise errors naming file/line/field: show them plainly
        raise Fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(report))


@graph.command("stats")
@store_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--top", default=10, show_default=True, help="How many hubs to list.")
def graph_stats(store_spec: str | None, as_json: bool, top: int) -> None:
    """Counts of tools, fields and edges by type; degree distribution, top hubs, categories."""
    from toolflow.engine.stores.stats import collect_stats

    with open_store_or_fail(store_spec) as store:
        stats = collect_stats(store, top=top)
    if as_json:
        out.print_json(json.dumps(stats))
        return
    for b in stats["unfinished_builds"]:  # the counts below are the previous, complete graph
        console.print(f"[yellow]an unfinished build is present ({b['id']}, started {b.get('started')}): a build "
                      "in progress, or one that was killed; the graph shown is the last complete one, and the "
                      "next build removes the unfinished one")
    t = Table(title="Tool graph", show_header=False)
    t.add_row("tools", str(stats["tools"]))
    t.add_row("fields", str(stats["fields"]))
    for k, v in stats["edges"].items():
        t.add_row(f"edges {k}", str(v))
    d = stats["degree"]
    t.add_row("degree (FEEDS+SHARES_INPUT)", f"mean {d['mean']:.2f}  median {d['median']}  max {d['max']}  "
              f"isolated {d['isolated']}")
    out.print(t)
    h = Table(title=f"Top {top} hubs")
    for col in ("tool", "category", "degree"):
        h.add_column(col)
    for row in stats["top_hubs"]:
        h.add_row(row["name"], str(row["category"]), str(row["degree"]))
    out.print(h)
    c = Table(title="Categories")
    c.add_column("category")
    c.add_column("tools", justify="right")
    for row in stats["categories"][:top]:
        c.add_row(str(row["category"]), str(row["tools"]))
    if len(stats["categories"]) > top:
        c.add_row(f"… {len(stats['categories']) - top} more", "")
    out.print(c)


@graph.command("neighbors")
@click.argument("tool")
@store_option
@click.option("--type", "types", multiple=True, type=click.Choice(TOOL_EDGE_TYPES),
              help="Edge types to follow (repeatable; default all tool-level types).")
@click.option("--json", "as_json", is_flag=True)
def graph_neighbors(tool: str, store_spec: str | None, types: tuple[str, ...], as_json: bool) -> None:
    """Tools linked to TOOL (an id or a function name), strongest first.

    \b
    Example:
      toolflow graph neighbors geocode_for_dargan --type FEEDS
    """
    with open_store_or_fail(store_spec) as store:
        found = store.find_tools(tool)
        if not found:
            raise Fail(f"no tool with id or name {tool!r} in the graph")
        if len(found) > 1 and not any(f["id"] == tool for f in found):
            ids = ", ".join(f["id"] for f in found[:5])
            raise Fail(f"{len(found)} tools are named {tool!r}; pass an id instead: {ids}")
        tool_id = next((f["id"] for f in found if f["id"] == tool), found[0]["id"])
        rows = store.neighbors(tool_id, list(types or TOOL_EDGE_TYPES))
    if as_json:
        out.print_json(json.dumps(rows))
        return
    t = Table(title=f"Neighbours of {tool_id}")
    for col in ("type", "dir", "tool", "score", "this field", "their field", "evidence"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["type"], r["direction"], r["name"], f"{r['score']:.3f}", str(r["this_field"] or ""),
                  str(r["other_field"] or ""), str(r.get("evidence") or ""))
    out.print(t)


def _parse_param(raw: str) -> tuple[str, Any]:
    if "=" not in raw:
        raise click.BadParameter(f"expected k=v, got {raw!r}")
    key, value = raw.split("=", 1)
    return key, loads_or_text(value)


QUERY_HELP = f"""Run a read-only Cypher query (write clauses are refused).

The query must be read clauses only (MATCH, OPTIONAL MATCH, WHERE, WITH, UNWIND, RETURN, ORDER BY, SKIP,
LIMIT, UNION, CALL of a schema listing or a subquery, SHOW INDEXES); at most {MAX_QUERY_CHARS:,} characters
and {MAX_NESTING} levels of brackets.

\b
Examples:
  toolflow graph query 'MATCH (a:Tool)-[f:FEEDS]->(b:Tool) RETURN a.name AS a, b.name AS b, f.score AS s LIMIT 5'
  toolflow graph query 'MATCH (t:Tool {{name: $n}}) RETURN t.description AS d' --param n=geocode_for_dargan
"""


@graph.command("query", help=QUERY_HELP)
@click.argument("cypher")
@store_option
@click.option("--param", "params", multiple=True, help="Query parameter k=v (v parsed as JSON when it is JSON).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of row objects.")
@config_option(QueryConfig, "timeout", "--timeout")
def graph_query(cypher: str, store_spec: str | None, params: tuple[str, ...], as_json: bool, timeout: float) -> None:
    """`graph query` (help text: QUERY_HELP, built from the guard's limits)."""
    from toolflow.engine.stores import QueryTimeout, ReadOnlyViolation

    values = dict(_parse_param(p) for p in params)
    with open_store_or_fail(store_spec) as store:
        try:
            rows = store.query(cypher, values, timeout=timeout)
        except ReadOnlyViolation as exc:
            raise Fail(str(exc)) from exc
        except QueryTimeout as exc:
            raise Fail(f"{exc}; pass a larger --timeout (now {timeout:g} s) to allow more") from exc
        except Exception as exc:
            raise Fail(f"query failed: {' '.join(str(exc).split())}") from exc  # one line: Neo4j adds a caret line
    rows = [{k: _jsonable(v) for k, v in r.items()} for r in rows]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print("(no rows)")
        return
    t = Table()
    for col in rows[0]:
        t.add_column(col)
    for r in rows:
        t.add_row(*(json.dumps(v) if not isinstance(v, str) else v for v in r.values()))
    out.print(t)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if hasattr(v, "items"):  # driver nodes / relationships
        return {str(k): _jsonable(x) for k, x in dict(v.items()).items()}
    return str(v)


graph.add_command(graph_eval)
graph.add_command(graph_observe)
