"""Benchmark: walk sampling on Neo4j and on the embedded store, each number against a baseline of the same run.

For each store, with the same seed and batch size:

* walk, vectorized, graph cached (the default once a graph was read): N samples, best of three runs, each a
  new sampler on a graph version whose prepared adjacency is in the process's cache (walk_cache.py), so no
  run reads the walk edges; samples/s, store round trips, and samples per client CPU second (the machine is
  shared: CPU time says what the code costs when wall time says what the neighbours do).
* walk, vectorized, graph read (the baseline: every sampler before the cache, and the first one on a graph
  version now): the same, with the cache emptied before each run, so each pays the one scan of the graph's
  walk edges and the adjacency build; the cache speed-up is the ratio of the two, measured in the same run.
* walk, per-step scalar: the same N with ``fetch="steps"`` — one lookup per step for the tools not seen
  yet and one draw per walker in Python, i.e. the sampler before vectorization — whether both gave the
  same samples, and the vectorization speed-up.
* batching and neighbour reuse, each as its own factor on the per-step sampler and one common sample
  count M (default 500 on Neo4j, 100 embedded): batched with reuse vs one walker at a time with reuse
  (batching), then one walker at a time with vs without reuse (reuse).
* the random and category baselines' rates.

Graphs: the full ToolBench set (needs its ~165k texts in the embedding cache: the run stops and says how many
are missing; --allow-embed pays for them), some of its categories (--categories), a folder of raw ToolBench
files (--raw), the first N ToolBench tools (--first N), or a seeded ToolBench-shaped synthetic graph without
embeddings (--synthetic N). --vectorized-only skips the per-step, batching, reuse and baseline rows. Numbers
only; nothing here asserts a time.

Usage:
  python bench/sampling.py                                   # full ToolBench, both stores
  python bench/sampling.py --synthetic 47000                 # a ToolBench-sized synthetic graph
  python bench/sampling.py --synthetic 47000 --synthetic-degree 25   # ... with ToolBench's ~300k walk edges
  python bench/sampling.py --raw ../shared/data/raw/toolbench
  python bench/sampling.py --first 8000 --vectorized-only    # the first 8,000 ToolBench tools, cache rows only
  NEO4J_URI=bolt://127.0.0.1:7687 python bench/sampling.py --stores neo4j
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from sampling_graphs import read_toolbench_tools  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "toolbench_rapidapi_tools.jsonl.gz"
console = Console(stderr=True)
RUN_LABELS = {
    "walk_cached": "walk, vectorized, graph cached",
    "walk_vectorized": "walk, vectorized, graph read (baseline)",
    "walk_per_step": "walk, per-step scalar (before)",
    "walk_batched_m": "per-step, batched, reuse",
    "walk_unbatched_m": "per-step, 1 walker, reuse",
    "walk_unbatched_noreuse_m": "per-step, 1 walker, no reuse",
    "random": "random",
    "category": "category",
}


def load(path: Path, categories: list[str] | None):
    """ToolBench tools through the real loader; with categories, only their lines reach it (the tests'
    helper, so the bench and the tests measure the same subsets)."""
    return read_toolbench_tools(categories, path)


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


def server_cpu_seconds(pid: int | None) -> float:
    """CPU seconds (user + system) a local server process has used so far; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(sampler, n: int, seed: int, server_pid: int | None = None) -> tuple[dict, list]:
    """One run's rates: wall, client CPU, and client + server CPU (what the run costs on an idle machine,
    where the client waits for the server's reply: on this shared machine wall time says more about the
    neighbours)."""
    s0, c0, t0 = server_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    samples = sampler.sample(n, seed)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    total = cpu + server_cpu_seconds(server_pid) - s0
    return {
        "samples": n,
        "seconds": round(secs, 3),
        "samples_per_s": round(n / secs, 1),
        "samples_per_cpu_s": round(n / cpu, 1) if cpu > 0 else None,
        "server_cpu_s": round(total - cpu, 3) if server_pid else None,
        "samples_per_total_cpu_s": round(n / total, 1) if server_pid and total > 0 else None,
        "round_trips": sampler.round_trips,
        "round_trips_per_sample": round(sampler.round_trips / n, 5),
        "mean_tools": round(sum(len(s.tool_ids) for s in samples) / n, 2),
        "jumps": sum(e.type == "JUMP" for s in samples for e in s.edges),
    }, samples


def best_of_three(run) -> tuple[dict, list]:
    """The fastest of three runs: the machine is shared, and one slow run says more about the neighbours."""
    return min((run() for _ in range(3)), key=lambda r: r[0]["seconds"])


def bench_store(store, n: int, m: int, batch: int, seed: int, vectorized_only: bool = False,
                server_pid: int | None = None) -> dict:
    from toolflow.engine.sampling import WalkSampler
    from toolflow.engine.sampling.walk_cache import WALK_CACHE

    # Warm-up at full size with another seed: query plans, JIT, the server's page cache.
    WalkSampler(store, batch_size=batch).sample(n, seed + 1)

    def read_run() -> tuple[dict, list]:
        WALK_CACHE.clear()
        return timed(WalkSampler(store, batch_size=batch), n, seed, server_pid)

    read, read_samples = best_of_three(read_run)
    cached, cached_samples = best_of_three(lambda: timed(WalkSampler(store, batch_size=batch), n, seed, server_pid))
    out = {"walk_cached": cached, "walk_vectorized": read,
           "cache_same_samples": dumps(cached_samples) == dumps(read_samples)}
    if not vectorized_only:
        out.update(compare_paths(store, n, m, batch, seed, read_samples))
    for a, b, name in (("walk_cached", "walk_vectorized", "cache_speedup"),
                       ("walk_vectorized", "walk_per_step", "vectorization_speedup"),
                       ("walk_batched_m", "walk_unbatched_m", "batching_factor"),
                       ("walk_unbatched_m", "walk_unbatched_noreuse_m", "reuse_factor")):
        if a in out and b in out:
            out[name] = round(out[a]["samples_per_s"] / out[b]["samples_per_s"], 2)
    return out


def dumps(samples: list) -> list[dict]:
    return [s.model_dump() for s in samples]


def compare_paths(store, n: int, m: int, batch: int, seed: int, vec_samples: list) -> dict:
    """The per-step sampler (same n: same samples?), batching and reuse factors (n = m), the baselines."""
    from toolflow.engine.sampling import CategorySampler, RandomSampler, WalkSampler

    per_step, step_samples = timed(WalkSampler(store, batch_size=batch, fetch="steps"), n, seed)
    return {
        "walk_per_step": per_step,
        "same_samples": dumps(vec_samples) == dumps(step_samples),
        "walk_batched_m": timed(WalkSampler(store, batch_size=batch, fetch="steps"), m, seed)[0],
        "walk_unbatched_m": timed(WalkSampler(store, batch_size=1, fetch="steps"), m, seed)[0],
        "walk_unbatched_noreuse_m": timed(WalkSampler(store, batch_size=1, reuse_neighbors=False), m, seed)[0],
        "random": timed(RandomSampler(store), n, seed)[0],
        "category": timed(CategorySampler(store), n, seed)[0],
    }


def graph_data(args, console):
    """(GraphData, description) for the graph the flags ask for."""
    if args.graph_pickle:  # a GraphData another builder made (e.g. another checkout's embedding backend)
        import pickle

        with args.graph_pickle.open("rb") as fh:
            return pickle.load(fh), f"the graph pickled in {args.graph_pickle.name}"
    if args.synthetic:
        from toolflow.engine.sampling.synthetic import synthetic_graph

        return (synthetic_graph(args.synthetic, seed=0, edges_per_tool=args.synthetic_degree),
                f"synthetic ToolBench-shaped graph of {args.synthetic} tools, degree {args.synthetic_degree}")
    from toolflow.engine.graph.build import build_graph
    from toolflow.engine.graph.embedding import DEFAULT_MODEL, EmbeddingCache, SentenceTransformerEmbedder
    from toolflow.loaders import load_tools

    categories = [c.strip() for c in args.categories.split(",")] if args.categories else None
    t0 = time.perf_counter()
    if args.raw:
        tools = load_tools([args.raw], skip_invalid=True).tools
        what = f"raw ToolBench files under {args.raw}"
    else:
        tools = load(args.data, categories)
        what = "categories " + ", ".join(categories) if categories else "all of ToolBench"
        if args.first:
            tools = tools[: args.first]
            what = f"the first {len(tools)} tools of {'those' if categories else 'ToolBench'}"
    console.print(f"graph: {len(tools)} tools from {what} (loaded in {time.perf_counter() - t0:.1f} s)")
    cache = EmbeddingCache(cache_path(args.cache_dir))
    need, missing = missing_texts(tools, cache)
    console.print(f"embedding cache {cache.path}: {need - missing}/{need} texts cached")
    if missing and not args.allow_embed:
        cache.close()
        sys.exit(f"{missing} texts are not embedded yet: wait for the cache, bench a subset with --categories or "
                 "--raw, a synthetic graph with --synthetic N, or pass --allow-embed")
    t0 = time.perf_counter()
    data, rep = build_graph(tools, SentenceTransformerEmbedder, DEFAULT_MODEL, cache=cache)
    cache.close()
    console.print(f"built in {time.perf_counter() - t0:.1f} s: {rep.edges}")
    return data, what


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--categories", help="comma-separated ToolBench categories (default: all)")
    ap.add_argument("--first", type=int, default=0, help="only the first N ToolBench tools (in file order)")
    ap.add_argument("--cache-dir", help="embedding cache dir (default $TOOLFLOW_CACHE_DIR or the user cache dir)")
    ap.add_argument("--allow-embed", action="store_true", help="embed texts missing from the cache (slow)")
    ap.add_argument("--stores", default="neo4j,ladybug")
    ap.add_argument("--raw", type=Path, help="a folder of raw ToolBench files (e.g. ../shared/data/raw/toolbench)")
    ap.add_argument("--graph-pickle", type=Path, help="a pickled GraphData to bench (a build made elsewhere; trusted files only)")
    ap.add_argument("--synthetic", type=int, default=0, help="a seeded synthetic graph of this many tools")
    ap.add_argument("--synthetic-degree", type=float, default=3.0,
                    help="mean walk-edge degree of its connected tools (25 gives the full ToolBench graph's ~300k edges)")
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("-m", "--compare-n", type=int, default=500,
                    help="samples of the batching / reuse comparison on Neo4j (all three runs use it)")
    ap.add_argument("--compare-n-ladybug", type=int, default=100,
                    help="the same on the embedded store (each of its UNWIND lookups costs ~0.25 s on 47k tools)")
    ap.add_argument("--vectorized-only", action="store_true",
                    help="only the vectorized rows (graph read vs cached): no per-step, batching, reuse or baseline runs")
    ap.add_argument("--server-pid", type=int,
                    help="pid of the local Neo4j behind NEO4J_URI, to count its CPU (a server this run starts is counted)")
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    return ap.parse_args()


def run_store(name: str, data, args) -> dict:
    """Write the graph into a fresh store of this kind (Neo4j: NEO4J_URI or a dev server of its own), bench it."""
    from toolflow.engine.stores import open_store

    started, pid = False, None
    with tempfile.TemporaryDirectory(prefix="toolflow-bench-lb-") as tmp:
        if name == "neo4j":
            spec, started = neo4j_uri()
            pid = int((Path(os.environ["NEO4J_DEV_RUN"]) / "neo4j-dev.pid").read_text()) if started else args.server_pid
        else:
            spec = str(Path(tmp) / "graph")
        try:
            with open_store(spec) as store:
                t0 = time.perf_counter()
                store.write_graph(data)  # on Neo4j it returns once every index is online (reset_fulltext)
                console.print(f"{name}: wrote the graph in {time.perf_counter() - t0:.1f} s; sampling…")
                m = args.compare_n if name == "neo4j" else args.compare_n_ladybug
                return bench_store(store, args.n, m, args.batch_size, args.seed, args.vectorized_only, pid)
        finally:
            if started:
                stop_neo4j()


def factor_row(res: dict, key: str, label: str) -> list[str] | None:
    return [label, "", f"{res[key]}×", "", "", "", "", ""] if key in res else None


def print_table(results: dict, seed: int) -> None:
    table = Table(title=f"Sampling, {results['tools']} tools ({results['graph']}), seed {seed}")
    for col in ("store", "run", "samples", "samples/s", "per CPU s", "per CPU s +server", "round trips", "trips/sample",
                "jumps"):
        table.add_column(col, justify="left" if col in ("store", "run") else "right", no_wrap=True)
    for name in ("neo4j", "ladybug"):
        res = results.get(name)
        if res is None:
            continue
        for run, label in RUN_LABELS.items():
            if run not in res:
                continue
            r = res[run]
            cpu = f"{r['samples_per_cpu_s']:,.0f}" if r["samples_per_cpu_s"] else ""
            both = f"{r['samples_per_total_cpu_s']:,.0f}" if r.get("samples_per_total_cpu_s") else ""
            table.add_row(name, label, str(r["samples"]), f"{r['samples_per_s']:,.0f}", cpu, both, str(r["round_trips"]),
                          f"{r['round_trips_per_sample']:.4f}", str(r["jumps"]))
        same = {k: "yes" if res.get(k) else "NO" for k in ("cache_same_samples", "same_samples")}
        for row in (factor_row(res, "cache_speedup", f"cache speed-up vs baseline (same samples: {same['cache_same_samples']})"),
                    factor_row(res, "vectorization_speedup", f"vectorization speed-up (same samples: {same['same_samples']})"),
                    factor_row(res, "batching_factor", "batching factor (same n, reuse on)"),
                    factor_row(res, "reuse_factor", "neighbour reuse factor (same n, unbatched)")):
            if row:
                table.add_row(name, *row)
    if "neo4j" in results and "ladybug" in results:
        for run in ("walk_cached", "walk_vectorized"):
            ratio = results["ladybug"][run]["samples_per_s"] / results["neo4j"][run]["samples_per_s"]
            table.add_row("both", f"embedded / Neo4j, {RUN_LABELS[run]}", "", f"{ratio:.2f}×", "", "", "", "", "")
    Console(width=170).print(table)


def main() -> None:
    args = parse_args()
    data, what = graph_data(args, console)
    edges = {"FEEDS": len(data.feeds), "SHARES_INPUT": len(data.shares), "SIMILAR": len(data.similar)}
    results: dict = {"tools": len(data.tools), "graph": what, "edges": edges}
    console.print(f"walk edges: {edges}")
    for name in [s.strip() for s in args.stores.split(",") if s.strip()]:
        results[name] = run_store(name, data, args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results, args.seed)


if __name__ == "__main__":
    main()
