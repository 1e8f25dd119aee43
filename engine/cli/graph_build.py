"""`toolflow graph build` end to end: load → build → write, with progress bars and a summary.

`run_build` is what the command runs; bench/graph_build.py times the same stages one by one (it calls
`build_graph` and the store's `write_graph` itself, to time each with and without a warm cache).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from toolflow.engine.graph.build import BuildReport, build_graph
from toolflow.engine.graph.edges import GraphData
from toolflow.engine.graph.embedding import (
    DEFAULT_MODEL,
    EmbeddingCache,
    HashingEmbedder,
    SentenceTransformerEmbedder,
)
from toolflow.engine.models import Tool
from toolflow.engine.paths import embedding_cache_path
from toolflow.engine.progress import progress_bar
from toolflow.engine.secrets import redact

if TYPE_CHECKING:
    from toolflow.loaders import LoadResult


def embedder_choice(name: str):
    """(factory, model name) for the --embedder option; the factory runs only on a cache miss."""
    if name == "hashing":
        return HashingEmbedder, HashingEmbedder().name
    return SentenceTransformerEmbedder, DEFAULT_MODEL


def load_result(
    paths: list[Path], fmt: str | None, skip_invalid: bool, console: Console, *, strict: bool = False
) -> LoadResult:
    """`load_tools` with what it skipped and renamed printed (the first 20 of each)."""
    from toolflow.loaders import load_tools

    result = load_tools(paths, format=fmt, skip_invalid=skip_invalid, progress=True, strict=strict)
    if result.renamed:
        console.print(f"[yellow]{result.rename_summary()}:")
        for rename in result.renamed[:20]:
            console.print(f"  - {rename}", style="yellow", markup=False, highlight=False)
        if len(result.renamed) > 20:
            console.print(f"  [yellow]… and {len(result.renamed) - 20} more (all in the --json report)")
    if result.skipped:
        console.print(f"[yellow]skipped {len(result.skipped)} invalid item(s):")
        for msg in result.skipped[:20]:
            console.print(f"  [yellow]- {msg}")
        if len(result.skipped) > 20:
            console.print(f"  [yellow]… and {len(result.skipped) - 20} more")
    if not result.tools:
        raise ValueError(f"no tools loaded from {', '.join(map(str, paths))}")
    return result


@contextmanager
def live_inputs(items: tuple[str, ...] | list[str], save_listing: Path | None = None, *,
                timeout: float = 30.0) -> Iterator[list[Path]]:
    """The input paths of a build, with the live MCP servers among `items` listed into one listing file.

    Every server is read before anything is built, so a server that fails stops the build with nothing
    written. The listing file is the saved-listing loader's input, which makes a live build and a build
    from `--save-listing`'s file the same load; the file is saved (atomically) only once the build
    succeeded.
    """
    from toolflow.loaders.mcp_live import fetch_listings, is_server_spec, quiet_sdk_logs

    servers = [i for i in items if is_server_spec(i)]
    paths = [Path(i) for i in items if not is_server_spec(i)]
    if not servers:
        if save_listing is not None:
            raise ValueError("--save-listing: no live server among the inputs (mcp+stdio:…, mcp+http://…, py:…)")
        yield paths
        return
    quiet_sdk_logs()
    text = json.dumps(fetch_listings(servers, timeout=timeout), indent=1, ensure_ascii=False) + "\n"
    with tempfile.TemporaryDirectory(prefix="toolflow-mcp-") as tmp:
        listing = Path(tmp) / "live-mcp-listing.json"
        listing.write_text(text, encoding="utf-8")
        yield [*paths, listing]
    if save_listing is not None:
        save_listing.parent.mkdir(parents=True, exist_ok=True)
        partial = save_listing.with_name(f".{save_listing.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, save_listing)


def build_with_progress(
    tools: list[Tool],
    embedder: str,
    cache_dir: Path,
    threshold: float,
    fanout: int,
    console: Console,
    match: str = "evidence",
    returns: str = "infer",
    ray_options: Any = None,
    edge_scorer: str = "record",
) -> tuple[GraphData, BuildReport]:
    """`ray_options` (a `RayOptions`): embed the missing texts with Ray Data on that cluster."""
    factory, model_name = embedder_choice(embedder)
    cache = EmbeddingCache(embedding_cache_path(cache_dir))
    session: Any = contextlib.nullcontext()
    if ray_options is not None:
        from toolflow.engine.graph.ray_embed import RayDataEmbedder
        from toolflow.engine.raycluster import ray_session

        factory = functools.partial(RayDataEmbedder, factory, model_name, workers=ray_options.workers)
        session = ray_session(ray_options)
    try:
        with session, progress_bar(console, rate="texts") as bar:  # texts/s and the ETA: embedding is a cold build's cost
            task = bar.add_task("embedding", total=None)

            def tick(stage: str, advance: int, total: int | None) -> None:
                if total is not None:
                    bar.update(task, total=total)
                if advance:
                    bar.advance(task, advance)

            return build_graph(tools, factory, model_name, cache=cache, threshold=threshold, fanout=fanout,
                               progress=tick, match=match, returns=returns, edge_scorer=edge_scorer)
    finally:
        cache.close()


def write_with_progress(store, data: GraphData, console: Console) -> float:
    t0 = time.perf_counter()
    with progress_bar(console) as bar:
        tasks: dict[str, Any] = {}

        def tick(what: str, advance: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(f"write {what}", total=total)
            bar.advance(tasks[what], advance)

        store.write_graph(data, progress=tick)
    return time.perf_counter() - t0


def print_report(rep: BuildReport, console: Console) -> None:
    t = Table(title="Graph build", show_header=False)
    t.add_row("tools", str(rep.tools))
    t.add_row("fields (matchable)", f"{rep.fields} ({rep.matchable_fields})")
    t.add_row("distinct texts (newly embedded)", f"{rep.distinct_texts} ({rep.embedded})")
    for rel in ("R-P", "P-P"):
        t.add_row(
            f"{rel} field pairs before → after damping",
            f"{rep.pairs_before.get(rel, 0)} → {rep.pairs_after.get(rel, 0)}  "
            f"(max field degree {rep.max_field_degree_before.get(rel, 0)} → {rep.max_field_degree_after.get(rel, 0)})",
        )
    for k, v in rep.edges.items():
        t.add_row(f"edges {k}", str(v))
    t.add_row("seconds", "  ".join(f"{k} {v:.1f}" for k, v in rep.seconds.items()))
    console.print(t)


def run_build(
    paths: list[Path],
    store_spec: str | None,
    fmt: str | None,
    threshold: float,
    fanout: int,
    skip_invalid: bool,
    embedder: str,
    cache_dir: Path,
    console: Console,
    strict: bool = False,
    match: str = "evidence",
    returns: str = "infer",
    ray_options: Any = None,
    edge_scorer: str = "record",
    verify: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from toolflow.engine.stores import open_store, resolve_store_spec

    t0 = time.perf_counter()
    loaded = load_result(paths, fmt, skip_invalid, console, strict=strict)
    tools = loaded.tools
    load_s = time.perf_counter() - t0
    console.print(f"loaded {len(tools)} tools from {len(paths)} path(s) in {load_s:.1f}s")
    data, rep = build_with_progress(tools, embedder, cache_dir, threshold, fanout, console, match=match,
                                    returns=returns, ray_options=ray_options,
                                    edge_scorer=edge_scorer)
    rep.seconds = {"load": load_s, **rep.seconds}
    verified = verify_feeds(data, verify, console) if verify else None
    spec = resolve_store_spec(store_spec)
    with open_store(spec) as store:
        rep.seconds["write"] = write_with_progress(store, data, console)
        counts = store.counts()
    print_report(rep, console)
    edges = ", ".join(f"{k} {v}" for k, v in counts["edges"].items())
    console.print(f"[green]graph written to {redact(spec)}: {counts['tools']} tools, {counts['fields']} fields; edges {edges}")
    renamed = [asdict(r) for r in loaded.renamed]
    return {**asdict(rep), "store": redact(spec), "counts": counts, "renamed": renamed, "skipped": loaded.skipped,
            **({"verify_edges": verified} if verified is not None else {})}


def verify_feeds(data: GraphData, verify: dict[str, Any], console: Console) -> dict[str, Any]:
    """`--verify-edges`: ask the model about the edges in the uncertain band before the graph is written."""
    import asyncio

    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.settings import LLMSettings
    from toolflow.engine.synth.verify_edges import verify_edges

    if not any("probability" in e for e in data.feeds):
        raise ValueError("--verify-edges needs the edge scorer's probabilities (--match evidence, --edge-scorer "
                         "record or filter)")
    settings = LLMSettings.from_env(base_url=verify["base_url"], model=verify["model"])

    async def run() -> Any:
        async with OpenAIClientLLM(settings) as llm:
            return await verify_edges(data.feeds, data.tools, llm, verify["low"], verify["high"], verify["budget"])

    t0 = time.perf_counter()
    rep = asyncio.run(run())
    console.print(f"verified {rep.asked} of {rep.in_band} edges in the band ({rep.confirmed} confirmed, "
                  f"{rep.rejected} rejected, {rep.over_budget} over budget; {rep.tokens} tokens, {rep.cached} "
                  f"cached) in {time.perf_counter() - t0:.1f}s")
    return rep.model_dump()
