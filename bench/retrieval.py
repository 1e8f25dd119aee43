"""Benchmark: tool retrieval (hybrid, and hybrid + graph expansion) over the ToolBench graph on both stores.

Per store: queries/s and p50/p95 latency of `Retriever.stages` for N requests, with the query vectors
computed beforehand (the embedder's cost is the same on both stores and printed once, apart), once without
and once with graph expansion; the ratio of the two is the expansion's cost. On the embedded store the
first query also builds the bm25s and FAISS indexes: that one-off time is printed separately. Requests
are the ToolBench example queries and the Seal-Tools dev queries (real request texts; relevance is not
measured here, `toolflow retrieve-eval` does that). Numbers only; nothing here asserts a time.

The graph is built with the real embedder through the persistent embedding cache. If the cache does not yet
hold the texts of the tools asked for, the run stops and says how many are missing (embedding all 44k
ToolBench tools takes hours on 2 cores): pass --categories for a subset, or --allow-embed to pay for it.

Usage:
  python bench/retrieval.py                                  # full ToolBench, both stores
  python bench/retrieval.py --categories Email,Food,Weather  # a subset (printed)
  NEO4J_URI=bolt://127.0.0.1:7687 python bench/retrieval.py --stores neo4j
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sampling import DEFAULT_DATA, cache_path, load, missing_texts, neo4j_uri, stop_neo4j  # noqa: E402

from toolflow.engine.graph.build import build_graph  # noqa: E402
from toolflow.engine.graph.embedding import (  # noqa: E402
    DEFAULT_MODEL,
    DIM,
    EmbeddingCache,
    SentenceTransformerEmbedder,
)
from toolflow.engine.jsonl import json_lines  # noqa: E402
from toolflow.engine.retrieval.retriever import LazyEmbedder, Retriever, embed_queries  # noqa: E402
from toolflow.engine.stores import open_store  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
console = Console(stderr=True)


def requests(n: int) -> list[str]:
    texts = []
    for name in ("toolbench_example_queries.jsonl", "seal_tools_dev_examples.jsonl"):
        path = SHARED / name
        if path.exists():
            with open(path, encoding="utf-8") as f:
                texts += [line.value["query"] for line in json_lines(f) if line.error is None]
    if not texts:
        sys.exit(f"no request texts under {SHARED}")
    return (texts * (n // len(texts) + 1))[:n]


def timed_queries(retriever, queries: list[str], vectors, expand: bool) -> dict:
    lat = []
    t_all = time.perf_counter()
    for q, v in zip(queries, vectors, strict=True):
        t0 = time.perf_counter()
        retriever.stages(q, v, expand=expand)
        lat.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_all
    lat.sort()
    return {
        "queries": len(queries),
        "qps": round(len(queries) / total, 1),
        "p50_ms": round(1000 * statistics.median(lat), 2),
        "p95_ms": round(1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2),
    }


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--categories", help="comma-separated ToolBench categories (default: all)")
    ap.add_argument("--cache-dir", help="embedding cache dir (default $TOOLFLOW_CACHE_DIR or the user cache dir)")
    ap.add_argument("--allow-embed", action="store_true", help="embed texts missing from the cache (slow)")
    ap.add_argument("--stores", default="neo4j,ladybug")
    ap.add_argument("-n", type=int, default=300, help="requests per run")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    return ap.parse_args()


def build(args: argparse.Namespace, cache: EmbeddingCache) -> tuple[list, object, object, list[str] | None]:
    """The tools asked for and their graph (tools, graph data, build report, categories); stops when the
    cache lacks texts and embedding was not allowed."""
    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    tools = load(args.data, categories)
    console.print(f"graph: {len(tools)} tools from {'categories ' + ', '.join(categories) if categories else 'all of ToolBench'}")
    need, missing = missing_texts(tools, cache)
    console.print(f"embedding cache {cache.path}: {need - missing}/{need} texts cached")
    if missing and not args.allow_embed:
        cache.close()
        sys.exit(f"{missing} texts are not embedded yet: bench a subset with --categories, or pass --allow-embed")
    data, rep = build_graph(tools, SentenceTransformerEmbedder, DEFAULT_MODEL, cache=cache)
    console.print(f"built: {rep.edges}")
    return tools, data, rep, categories


def bench_store(name: str, data, queries: list[str], vectors, embedder, cache: EmbeddingCache) -> dict:
    """One store: the first query (index build on the embedded store), then hybrid and graph-expanded runs."""
    started = False
    with tempfile.TemporaryDirectory(prefix="toolflow-bench-lb-") as tmp:
        spec = str(Path(tmp) / "graph")
        if name == "neo4j":
            spec, started = neo4j_uri()
        try:
            with open_store(spec) as store:
                store.write_graph(data)
                r = Retriever(store, embedder, cache=cache)
                t0 = time.perf_counter()
                r.stages(queries[0], vectors[0], expand=True)  # first query: the embedded store builds its indexes
                first = time.perf_counter() - t0
                timed_queries(r, queries[:20], vectors[:20], True)  # warm-up (plans, page cache)
                hybrid = timed_queries(r, queries, vectors, expand=False)
                graph = timed_queries(r, queries, vectors, expand=True)
                return {"first_query_s": round(first, 2), "hybrid": hybrid, "graph": graph,
                        "expansion_cost": round(graph["p50_ms"] / hybrid["p50_ms"], 2)}
        finally:
            if started:
                stop_neo4j()


def print_table(results: dict, n: int, embed_ms: float) -> None:
    t = Table(title=f"Retrieval, {results['tools']} tools, {n} requests (query embedding {embed_ms:.1f} ms/query, apart)")
    for col in ("store", "method", "queries/s", "p50 ms", "p95 ms", "first query s"):
        t.add_column(col, justify="left" if col in ("store", "method") else "right")
    for name in ("neo4j", "ladybug"):
        if name in results:
            for m in ("hybrid", "graph"):
                r = results[name][m]
                t.add_row(name, m, f"{r['qps']:.1f}", f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}",
                          f"{results[name]['first_query_s']:.2f}" if m == "hybrid" else "")
            console.print(f"{name}: graph expansion costs {results[name]['expansion_cost']}x the hybrid p50")
    Console().print(t)
    if "neo4j_vs_ladybug_p50_graph" in results:
        Console().print(f"neo4j / ladybug p50 (graph): {results['neo4j_vs_ladybug_p50_graph']}")


def main() -> None:
    args = parse_args()
    cache = EmbeddingCache(cache_path(args.cache_dir))
    tools, data, rep, categories = build(args, cache)
    queries = requests(args.n)
    embedder = LazyEmbedder(SentenceTransformerEmbedder, DEFAULT_MODEL, DIM)
    t0 = time.perf_counter()
    vectors = embed_queries(embedder, queries, cache)
    embed_ms = 1000 * (time.perf_counter() - t0) / len(queries)
    results: dict = {"tools": len(tools), "categories": categories or "all", "edges": rep.edges,
                     "query_embedding_ms_per_query": round(embed_ms, 2)}
    for name in [s.strip() for s in args.stores.split(",") if s.strip()]:
        results[name] = bench_store(name, data, queries, vectors, embedder, cache)
    cache.close()
    if "neo4j" in results and "ladybug" in results:
        results["neo4j_vs_ladybug_p50_graph"] = round(results["neo4j"]["graph"]["p50_ms"] / results["ladybug"]["graph"]["p50_ms"], 2)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print_table(results, args.n, embed_ms)


if __name__ == "__main__":
    main()
