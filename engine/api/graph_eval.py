"""Scoring the stored FEEDS edges against hand-labelled data flows (`toolflow graph eval`).

The scoring is `toolflow.engine.graph.evaluate` (pure); this module reads the store and prints the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from toolflow.engine.graph.evaluate import EdgeRow, EvalReport, evaluate, load_labels


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
    """The labelled flows in `labels_path` scored against the FEEDS edges of the graph in `store_spec`."""
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
