"""`toolflow retrieve` and `toolflow retrieve-eval`: find tools for a request with the tool graph.

Registered in the root group (engine/cli/root.py). Heavy imports (torch for the query embedder, the stores)
happen inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolflow.engine.api.config import RetrieveConfig
from toolflow.engine.api.stores import StoreOpenError
from toolflow.engine.cli.options import Fail, config_option, store_option
from toolflow.engine.retrieval.evaluate import EvalFileError
from toolflow.engine.retrieval.retriever import RetrievalError

#: What retrieval reports as one line: a store that cannot be opened or serve retrieval, a bad query file.
RETRIEVE_FAILURES = (StoreOpenError, RetrievalError, EvalFileError)

console = Console(stderr=True)
out = Console()

EMBEDDER_HELP = RetrieveConfig.model_fields["embedder"].description


def _reason_text(r: Any) -> str:
    if r.kind == "lexical":
        return f"bm25 #{r.rank} ({r.score:.2f})"
    if r.kind == "dense":
        return f"dense #{r.rank} (cos {r.score:.2f})"
    via = r.via_name or r.via
    if r.kind == "alternative":
        return f"alternative of {via}: stepped back (−{r.score:.0%})"
    arrow = f"{via} → this" if r.direction == "out" else f"this → {via}"
    fields = f" [{r.via_field} / {r.field}]" if r.via_field or r.field else ""
    return f"{r.edge} {arrow}{fields} ({r.score:.2f})"


def _parse_ks(raw: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in raw.split(",") if x.strip()})
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers such as 1,5,10, got {raw!r}") from exc
    if not ks or ks[0] < 1:
        raise click.BadParameter(f"every k must be ≥ 1, got {raw!r}")
    return ks


@click.command("retrieve")
@click.argument("query")
@config_option(RetrieveConfig, "k", "-k", "k")
@store_option
@config_option(RetrieveConfig, "expand", "--expand/--no-expand", show_default=True)
@config_option(RetrieveConfig, "embedder", "--embedder")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def retrieve(query: str, k: int, store_spec: str | None, expand: bool, embedder: str, as_json: bool) -> None:
    """Find the tools for QUERY: BM25 + dense search, fused, then expanded along the graph.

    Every result says why it is there: a lexical (BM25) hit, a dense hit, or an edge from a top hit.

    \b
    Examples:
      toolflow retrieve "what will the weather be in Lyon tomorrow" -k 5
      toolflow retrieve "book the cheapest flight to Oslo" --no-expand --json --store bolt://localhost:7687
    """
    from toolflow.engine.api.retrieve import retrieve as find

    try:
        result = find(query, store_spec, RetrieveConfig(k=k, expand=expand, embedder=embedder))
    except RETRIEVE_FAILURES as exc:
        raise Fail(str(exc)) from exc
    if as_json:
        out.print_json(result.model_dump_json())
        return
    t = Table(title=escape(f"{result.method}: {query}"))
    for col in ("#", "tool", "score", "why"):
        t.add_column(col)
    for h in result.hits:
        t.add_row(str(h.rank), escape(h.name), f"{h.score:.4f}", escape("; ".join(_reason_text(r) for r in h.reasons)))
    out.print(t)


@click.command("retrieve-eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option(RetrieveConfig, "cutoffs", "-k", "ks", text=lambda ks: ",".join(map(str, ks)),
               to_config=lambda raw: _parse_ks(raw), help="Cut-offs, comma-separated.")
@store_option
@config_option(RetrieveConfig, "embedder", "--embedder")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def retrieve_eval(file: Path, ks: str, store_spec: str | None, embedder: str, as_json: bool) -> None:
    """Recall@k, NDCG@k and complete@k of bm25, dense, hybrid and graph (the full method) on FILE.

    FILE is JSONL: {"query": "...", "relevant_tools": ["name or id", ...]} per line. A relevant tool matches
    by id, name, original name or source id; the ones that match nothing are counted and reported.

    \b
    Example:
      toolflow retrieve-eval seal_dev.jsonl -k 1,5,10 --store ./graph
    """
    from toolflow.engine.api.retrieve import evaluate_retrieval

    cutoffs = _parse_ks(ks)
    try:
        report = evaluate_retrieval(file, store_spec, cutoffs, embedder)
    except RETRIEVE_FAILURES as exc:
        raise Fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps(report))
        return
    _print_report(report, cutoffs)


def _print_report(report: dict[str, Any], ks: list[int]) -> None:
    from toolflow.engine.retrieval.models import METHODS

    short = {"recall": "R", "ndcg": "N", "complete": "C"}  # short headers: the table fits 80 columns

    def table(title: str, part: dict[str, Any]) -> Table:
        t = Table(title=title, caption="R = recall, N = nDCG, C = complete (all relevant tools in the top k)",
                  box=box.SIMPLE_HEAD, pad_edge=False)
        t.add_column("method")
        cols = [(f"{m}@{k}", f"{short[m]}@{k}") for k in ks for m in ("recall", "ndcg", "complete")]
        for _, header in cols:
            t.add_column(header, justify="right")
        for m in METHODS:
            t.add_row(m, *(f"{part[m][c]:.3f}" for c, _ in cols))
        return t

    out.print(table(f"All queries ({report['queries']})", report))
    multi = report["multi_tool"]
    if multi["queries"]:
        out.print(table(f"Multi-tool queries ({multi['queries']})", multi))
    ex = report["expansion"]
    out.print(f"graph stage (expansion, alternatives), top {ex['k']}: brought in {ex['entered']} tool(s), {ex['entered_relevant']} of them "
              f"relevant; pushed out {ex['displaced']} first-stage hit(s), {ex['displaced_relevant']} of them relevant")
    um = report["unmatched"]
    if um["labels"]:
        console.print(f"[yellow]{um['labels']} relevant tool label(s) ({um['distinct']} distinct) match no tool in the "
                      f"graph; {um['queries_skipped']} quer(ies) had none left and were skipped. "
                      f"e.g. {', '.join(um['examples'][:5])}")
