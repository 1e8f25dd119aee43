"""`toolflow graph eval LABELS.json`: precision, recall and F1 of the stored FEEDS edges against labelled flows.

The scoring is `toolflow.engine.graph.evaluate` (pure); reading and printing are engine/api/graph_eval.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from toolflow.engine.api.graph_eval import eval_store, print_report
from toolflow.engine.cli.options import Fail, store_option
from toolflow.engine.graph.evaluate import LabelError


@click.command("eval")
@click.argument("labels", type=click.Path(path_type=Path))
@store_option
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
        raise Fail(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if not any(s.scored for s in report.sets):
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in report.sets[:3])
        raise Fail(f"no labelled set has all its tools in the store ({reasons})")
    print_report(report, Console(), show=show)
