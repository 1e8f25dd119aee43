"""Benchmark: walk sampling over the ToolBench graph on Neo4j and on the embedded store.

For each store: samples/s and store round trips per sample for N batched walks (default 10,000 samples of
2–5 tools in one batch; best of three runs, each with an empty neighbourhood cache), a smaller unbatched
run (one query per walker per step, no reuse: default 500 on Neo4j, 100 on the embedded store), and the
speed-up of batching. Also the two baselines' rates. Numbers only; nothing here asserts a time.

The graph is built once with the real embedder through the persistent embedding cache. If the cache does
not yet hold the texts of the tools asked for, the run stops and says how many are missing (embedding all
of ToolBench takes hours on 2 cores): pass --categories to bench a subset, or --allow-embed to pay for it.

Usage:
  python bench/sampling.py                                  # full ToolBench, both stores
  python bench/sampling.py --categories Email,Food,Weather  # a subset (printed)
  NEO4J_URI=bolt://127.0.0.1:7687 python bench/sampling.py --stores neo4j
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "toolbench_rapidapi_tools.jsonl.gz"
console = Console(stderr=True)
RUN_LABELS = {
    "walk_batched": "walk, batched",
    "walk_unbatched": "walk, 1 query/walker/step",
    "random": "random",
    "category": "category",
}


def load(path: Path, categories: list[str] | None):
    """ToolBench tools through the real loader; with categories, only their lines reach it."""
    from toolflow.loaders import load_tools

    if not categories:
        return load_tools([path], skip_invalid=True).tools
    wanted = set(categories)
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        with gzip.open(path, "rt", encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
            for line in src:
                if json.loads(line).get("category") in wanted:
                    dst.write(line)
        return load_tools([subset], skip_invalid=True).tools


def cache_path(cache_dir: str | None) -> Path:
    from platformdirs import user_cache_dir

    return Path(cache_dir or os.environ.get("TOOLFLOW_CACHE_DIR") or user_cache_dir("toolflow")) / "embeddings.sqlite"


def missing_texts(tools, cache) -> tuple[int, int]:
    """(texts the build needs, texts not yet in the cache), counted the way build_graph collects them."""
    from toolflow.engine.graph.build import is_matchable
    from toolflow.engine.graph.embedding import DEFAULT_MODEL, text_key
    from toolflow.engine.graph.fields import tool_fields, tool_text

    texts = {f.text for t in tools for f in tool_fields(t) if is_matchable(f)} | {tool_text(t) for t in tools}
    keys = [text_key(t) for t in texts]
    return len(keys), len(keys) - len(cache.get_many(DEFAULT_MODEL, keys))


def neo4j_uri() -> tuple[str, bool]:
    """NEO4J_URI, or the dev server started for this run (returns whether we started it)."""
    if os.environ.get("NEO4J_URI"):
        return os.environ["NEO4J_URI"], False
    run_dir = Path(tempfile.mkdtemp(prefix="toolflow-bench-neo4j-"))
    env = {**os.environ, "NEO4J_DEV_PORT": "0", "NEO4J_DEV_DATA": str(run_dir / "data"), "NEO4J_DEV_RUN": str(run_dir)}
    os.environ.update({k: env[k] for k in ("NEO4J_DEV_DATA", "NEO4J_DEV_RUN")})  # so stop() finds it
    proc = subprocess.run([str(REPO / "devserver" / "neo4j" / "neo4j-dev"), "start"], capture_output=True,
                          text=True, env=env, check=True)
    return proc.stdout.strip().splitlines()[-1], True


def stop_neo4j() -> None:
    """Stop the server this run started and delete its temporary home."""
    subprocess.run([str(REPO / "devserver" / "neo4j" / "neo4j-dev"), "stop"], capture_output=True, text=True)
    shutil.rmtree(os.environ["NEO4J_DEV_RUN"], ignore_errors=True)


def timed(sampler, n: int, seed: int) -> dict:
    t0 = time.perf_counter()
    samples = sampler.sample(n, seed)
    secs = time.perf_counter() - t0
    return {
        "samples": n,
        "seconds": round(secs, 3),
        "samples_per_s": round(n / secs, 1),
        "round_trips": sampler.round_trips,
        "round_trips_per_sample": round(sampler.round_trips / n, 5),
        "mean_tools": round(sum(len(s.tool_ids) for s in samples) / n, 2),
        "jumps": sum(e.type == "JUMP" for s in samples for e in s.edges),
    }


def bench_store(store, n: int, unbatched_n: int, batch: int, seed: int) -> dict:
    from toolflow.engine.sampling import CategorySampler, RandomSampler, WalkSampler

    # Warm-up at full size with another seed: query plans, JIT, the server's page cache (its own sampler,
    # so the timed runs still start with an empty neighbourhood cache).
    WalkSampler(store, batch_size=batch).sample(n, seed + 1)
    # Best of three: the machine is shared, and one slow run says more about the neighbours than the code.
    runs = [timed(WalkSampler(store, batch_size=batch), n, seed) for _ in range(3)]
    out = {
        "walk_batched": min(runs, key=lambda r: r["seconds"]),
        "walk_unbatched": timed(WalkSampler(store, batch_size=1, reuse_neighbors=False), unbatched_n, seed),
        "random": timed(RandomSampler(store), n, seed),
        "category": timed(CategorySampler(store), n, seed),
    }
    out["batching_speedup"] = round(out["walk_batched"]["samples_per_s"] / out["walk_unbatched"]["samples_per_s"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--categories", help="comma-separated ToolBench categories (default: all)")
    ap.add_argument("--cache-dir", help="embedding cache dir (default $TOOLFLOW_CACHE_DIR or the user cache dir)")
    ap.add_argument("--allow-embed", action="store_true", help="embed texts missing from the cache (slow)")
    ap.add_argument("--stores", default="neo4j,ladybug")
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--unbatched-n", type=int, default=500, help="unbatched samples on Neo4j")
    ap.add_argument("--unbatched-n-ladybug", type=int, default=100,
                    help="unbatched samples on the embedded store (each of its UNWIND lookups costs ~0.25 s on 47k tools)")
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = ap.parse_args()

    from toolflow.engine.graph.build import build_graph
    from toolflow.engine.graph.embedding import DEFAULT_MODEL, EmbeddingCache, SentenceTransformerEmbedder
    from toolflow.engine.stores import open_store

    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    t0 = time.perf_counter()
    tools = load(args.data, categories)
    console.print(f"graph: {len(tools)} tools from {'categories ' + ', '.join(categories) if categories else 'all of ToolBench'}"
                  f" (loaded in {time.perf_counter() - t0:.1f} s)")
    cache = EmbeddingCache(cache_path(args.cache_dir))
    need, missing = missing_texts(tools, cache)
    console.print(f"embedding cache {cache.path}: {need - missing}/{need} texts cached")
    if missing and not args.allow_embed:
        cache.close()
        sys.exit(f"{missing} texts are not embedded yet: wait for the cache, bench a subset with --categories, "
                 "or pass --allow-embed")
    t0 = time.perf_counter()
    data, rep = build_graph(tools, SentenceTransformerEmbedder, DEFAULT_MODEL, cache=cache)
    cache.close()
    console.print(f"built in {time.perf_counter() - t0:.1f} s: {rep.edges}")

    results: dict = {"tools": len(tools), "categories": categories or "all", "edges": rep.edges}
    for name in [s.strip() for s in args.stores.split(",") if s.strip()]:
        started = False
        with tempfile.TemporaryDirectory(prefix="toolflow-bench-lb-") as tmp:
            if name == "neo4j":
                uri, started = neo4j_uri()
                spec = uri
            else:
                spec = str(Path(tmp) / "graph")
            try:
                with open_store(spec) as store:
                    t0 = time.perf_counter()
                    store.write_graph(data)
                    if name == "neo4j":  # the vector index fills in the background: let it finish first
                        store.query("CALL db.awaitIndexes(600)")
                    console.print(f"{name}: wrote the graph in {time.perf_counter() - t0:.1f} s; sampling…")
                    unbatched = args.unbatched_n if name == "neo4j" else args.unbatched_n_ladybug
                    results[name] = bench_store(store, args.n, unbatched, args.batch_size, args.seed)
            finally:
                if started:
                    stop_neo4j()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"Sampling, {results['tools']} tools, seed {args.seed}")
    for col in ("store", "run", "samples", "samples/s", "round trips", "trips/sample", "jumps"):
        table.add_column(col, justify="left" if col in ("store", "run") else "right", no_wrap=True)
    for name in ("neo4j", "ladybug"):
        if name not in results:
            continue
        for run, label in RUN_LABELS.items():
            r = results[name][run]
            table.add_row(name, label, str(r["samples"]), f"{r['samples_per_s']:,.0f}", str(r["round_trips"]),
                          f"{r['round_trips_per_sample']:.4f}", str(r["jumps"]))
        table.add_row(name, "batching speed-up", "", f"{results[name]['batching_speedup']}×", "", "", "")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
