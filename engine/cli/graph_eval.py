"""`toolflow graph eval LABELS.json`: precision, recall and F1 of the stored FEEDS edges against labelled flows.

The scoring is `toolflow.engine.graph.evaluate` (pure); this module reads the store and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from toolflow.engine.graph.evaluate import EdgeRow, EvalReport, LabelError, evaluate, load_labels

STORE_HELP = (
    "Where the graph lives: a Bolt URI (credentials from NEO4J_USER / NEO4J_PASSWORD) or a directory for the "
    "embedded store. Default: $TOOLFLOW_STORE or a directory under your user data dir."
)


def read_feeds(store: Any) -> tuple[list[tuple[str, str]], list[EdgeRow]]:
    """The store's (tool id, name) rows and FEEDS edges, through the named queries."""
    tools = [(r["id"], r["name"]) for r in store.run("tool_names")]
    edges = [
        EdgeRow(
            src=r["src"], dst=r["dst"], from_field=r.get("from_field"), to_param=r.get("to_param"),
            evidence=r.get("evidence"), score=None if r.get("score") is None else float(r["score"]),
        )
        for r in store.run("feeds_all")
    ]
    return tools, edges


def eval_store(labels_path: Path, store_spec: str | None) -> EvalReport:
    from toolflow.engine.stores import open_store

    labels = load_labels(labels_path)
    with open_store(store_spec, read_only=True) as store:
        tools, edges = read_feeds(store)
    return evaluate(labels, tools, edges)


def print_report(report: EvalReport, console: Console, show: int = 10) -> None:
    t = Table(title="FEEDS vs labelled flows (pair level)")
    for col in ("set", "flows", "edges", "TP", "FP", "FN", "precision", "recall", "F1", "hard neg. hit"):
        t.add_column(col, justify="left" if col == "set" else "right")
    for s in report.sets:
        if not s.scored:
            continue
        t.add_row(s.name, str(s.flows), str(s.edges), str(s.tp), str(s.fp), str(s.fn), f"{s.precision:.3f}",
                  f"{s.recall:.3f}", f"{s.f1:.3f}", str(len(s.hard_negative_hits)))
    o = report.overall
    t.add_row("[bold]overall", str(o.flows), str(o.edges), str(o.tp), str(o.fp), str(o.fn), f"{o.precision:.3f}",
              f"{o.recall:.3f}", f"{o.f1:.3f}", "")
    console.print(t)
    skipped = [s for s in report.sets if not s.scored]
    if skipped:
        console.print(f"not scored: {len(skipped)} set(s) whose tools are not all in this store "
                      f"({', '.join(s.name for s in skipped[:3])}{', …' if len(skipped) > 3 else ''})")
    for s in report.sets:
        for w in s.warnings:
            console.print(f"[yellow]{s.name}: {w}")
        if not s.scored or show <= 0:
            continue
        for m in s.missed[:show]:
            r = m["routes"][0]
            console.print(f"  missed  {m['from']} -> {m['to']}  ({r['from_field']} -> {r['to_param']}, {r['kind']})")
        for e in s.false_edges[:show]:
            x = e["edges"][0]
            console.print(f"  false   {e['from']} -> {e['to']}  ({x['from_field']} -> {x['to_param']}, {x['evidence']})")


@click.command("eval")
@click.argument("labels", type=click.Path(path_type=Path))
@click.option("--store", "store_spec", default=None, help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the full report (missed flows, false edges) as JSON.")
@click.option("--show", default=10, show_default=True, type=click.IntRange(0),
              help="How many missed flows and false edges to list per set (table output).")
def graph_eval(labels: Path, store_spec: str | None, as_json: bool, show: int) -> None:
    """Score the graph's FEEDS edges against hand-labelled data flows in LABELS (JSON).

    \b
    Pair-level precision, recall and F1 per labelled set and overall (all pairs together). A set is scored
    when all its tools are in the store; sets sharing tool names need one graph each. Label format: the
    "description" key of ../shared/data/flows_dev.json.
    \b
    Example:
      toolflow graph build ../shared/data/raw/openapi/oai_examples/petstore-expanded.yaml --store ./g
      toolflow graph eval ../shared/data/flows_dev.json --store ./g
    """
    try:
        report = eval_store(labels, store_spec)
    except (LabelError, FileNotFoundError, ConnectionError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if not any(s.scored for s in report.sets):
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in report.sets[:3])
        raise click.ClickException(f"no labelled set has all its tools in the store ({reasons})")
    print_report(report, Console(), show=show)
