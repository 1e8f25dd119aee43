"""FEEDS quality on the dev labels, before (``--match paper``) and after (``--match evidence``).

For every set of ``../shared/data/flows_dev.json``: load its file, build one graph per rule into an embedded
store in a temp dir (the same build and write code as ``toolflow graph build``), read the FEEDS edges back
and score them with ``toolflow graph eval``'s code. Prints one table per rule and the overall pair-level
precision/recall/F1, plus the matching stage's time.

    python bench/graph_eval_dev.py [--labels PATH] [--no-store] [--show N] [--embedder minilm|hashing] [--cv]
        [--returns infer|declared]

``--cv`` adds the honest number: the edge calibrator (`toolflow.engine.graph.crossval`) fitted on all sets
(in-sample) and, per set, fitted on the other sets and scored on the left-out one (leave-one-set-out).

``--no-store`` scores the in-memory edges (faster while tuning; same numbers).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from toolflow.engine.api.graph import embedder_choice
from toolflow.engine.api.graph_eval import print_report, read_feeds
from toolflow.engine.graph.build import build_graph
from toolflow.engine.graph.crossval import LabelledGraph, in_sample, leave_one_set_out, pooled
from toolflow.engine.graph.embedding import EmbeddingCache
from toolflow.engine.graph.evaluate import EdgeRow, EvalReport, load_labels, score_set
from toolflow.engine.paths import embedding_cache_path
from toolflow.loaders import load_tools

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def run(labels_path: Path, match: str, use_store: bool, embedder: str, console: Console,
        returns: str = "infer", edge_scorer: str = "record") -> tuple[EvalReport, float, dict[str, LabelledGraph]]:
    labels = load_labels(labels_path)
    factory, model = embedder_choice(embedder)
    cache = EmbeddingCache(embedding_cache_path())
    scores = []
    graphs: dict[str, LabelledGraph] = {}
    match_s = 0.0
    try:
        for key, label_set in labels.sets.items():
            tools = load_tools([labels_path.parent / key]).tools
            data, rep = build_graph(tools, factory, model, cache=cache, match=match, returns=returns,
                                    edge_scorer=edge_scorer)
            match_s += rep.seconds.get("match", rep.seconds.get("edges", 0.0))
            if use_store:
                from toolflow.engine.stores.ladybug_store import LadybugStore

                with tempfile.TemporaryDirectory(prefix="toolflow-eval-") as tmp, LadybugStore(Path(tmp)) as store:
                    store.write_graph(data)
                    store_tools, edges = read_feeds(store)
            else:
                store_tools = [(t.id, t.name) for t in data.tools]
                edges = [EdgeRow(e["src"], e["dst"], e.get("from_field"), e.get("to_param"), e.get("evidence"),
                                 e.get("score")) for e in data.feeds]
            scores.append(score_set(key, label_set, store_tools, edges))
            graphs[key] = LabelledGraph(key, label_set, store_tools, edges)
    finally:
        cache.close()
    return EvalReport(scores), match_s, graphs


def print_cv(graphs: dict[str, LabelledGraph], console: Console) -> None:
    """Rule alone, calibrated in-sample (fitted on all sets) and leave-one-set-out (fitted on the others)."""
    rule = [score_set(k, g.labels, g.tools, g.edges) for k, g in graphs.items()]
    ins, loso = in_sample(graphs), leave_one_set_out(graphs)
    t = Table(title="FEEDS per set: rule alone | calibrated in-sample | leave-one-set-out (P / R)")
    for col in ("set", "flows", "rule P", "rule R", "in-sample P", "in-sample R", "LOSO P", "LOSO R"):
        t.add_column(col, justify="left" if col == "set" else "right")
    for a, b, c in [*zip(rule, ins, loso, strict=True), (pooled(rule), pooled(ins), pooled(loso))]:
        t.add_row(a.name[-48:], str(a.flows), f"{a.precision:.3f}", f"{a.recall:.3f}", f"{b.precision:.3f}",
                  f"{b.recall:.3f}", f"{c.precision:.3f}", f"{c.recall:.3f}")
    console.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=DATA / "flows_dev.json")
    ap.add_argument("--no-store", action="store_true", help="score in-memory edges instead of a written store")
    ap.add_argument("--show", type=int, default=0, help="missed flows / false edges to list per set")
    ap.add_argument("--only", choices=["paper", "evidence"], default=None)
    ap.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    ap.add_argument("--cv", action="store_true",
                    help="also fit the edge calibrator in-sample and leave-one-set-out, and print both")
    ap.add_argument("--edge-scorer", choices=["record", "filter", "off"], default="record",
                    help="what the build does with the shipped scorer's probability (as graph build)")
    ap.add_argument("--returns", choices=["infer", "declared"], default="infer",
                    help="infer returns for tools that declare none (default) or use declared ones only")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    console = Console(width=140)
    results = {}
    for match in ("paper", "evidence"):
        if args.only and match != args.only:
            continue
        t0 = time.perf_counter()
        report, match_s, graphs = run(args.labels, match, not args.no_store, args.embedder, console, args.returns,
                                        args.edge_scorer)
        console.rule(f"--match {match}  ({time.perf_counter() - t0:.1f}s, matching stage {match_s:.2f}s)")
        print_report(report, console, show=args.show)
        if args.cv and match == "evidence":
            print_cv(graphs, console)
        results[match] = report.overall
    if len(results) == 2:
        b, a = results["paper"], results["evidence"]
        console.print(
            f"overall  paper: P {b.precision:.3f} R {b.recall:.3f} F1 {b.f1:.3f}  ->  "
            f"evidence: P {a.precision:.3f} R {a.recall:.3f} F1 {a.f1:.3f}  "
            f"(recall x{a.recall / b.recall if b.recall else float('inf'):.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
