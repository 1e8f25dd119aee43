"""Building the tool graph end to end: load → build → (verify) → write, narrated on a console.

`build_graph` is `toolflow.build_graph` and what `toolflow graph build` runs; `observe_and_build` is
`toolflow graph observe`. bench/graph_build.py times the same stages one by one (it calls the graph layer's
`build_graph` and the store's `write_graph` itself, to time each with and without a warm cache).
"""

from __future__ import annotations

import asyncio
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

from toolflow.engine.api.config import GraphBuildConfig, ObserveConfig, VerifyConfig
from toolflow.engine.api.console import quiet_console
from toolflow.engine.errors import ConfigError, InputError
from toolflow.engine.graph.build import BuildReport
from toolflow.engine.graph.build import build_graph as build_graph_data
from toolflow.engine.graph.edges import GraphData
from toolflow.engine.graph.embedding import (
    DEFAULT_MODEL,
    EmbeddingCache,
    HashingEmbedder,
    SentenceTransformerEmbedder,
)
from toolflow.engine.models import Tool
from toolflow.engine.paths import cache_root, embedding_cache_path
from toolflow.engine.progress import progress_bar
from toolflow.engine.secrets import redact

if TYPE_CHECKING:
    from toolflow.loaders import LoadResult


def embedder_choice(name: str) -> tuple[Any, str]:
    """(factory, model name) for an embedder name (`minilm`, `hashing`); the factory runs only on a cache miss."""
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
        raise InputError(f"no tools loaded from {', '.join(map(str, paths))}")
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
            raise InputError("no live server among the inputs (mcp+stdio:…, mcp+http://…, py:…)",
                             option="--save-listing")
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


def build_with_progress(tools: list[Tool], config: GraphBuildConfig | ObserveConfig,
                        console: Console) -> tuple[GraphData, BuildReport]:
    """The graph of `tools` under `config`, with an embedding progress bar (texts/s and the ETA)."""
    threshold, fanout = GraphBuildConfig().threshold, GraphBuildConfig().fanout
    match, returns, edge_scorer = "evidence", "infer", "record"
    if isinstance(config, GraphBuildConfig):
        threshold, fanout, match = config.threshold, config.fanout, config.match
        returns, edge_scorer = config.returns, config.edge_scorer
    factory, model_name = embedder_choice(config.embedder)
    cache = EmbeddingCache(embedding_cache_path(config.cache_dir or cache_root()))
    session: Any = contextlib.nullcontext()
    if isinstance(config, GraphBuildConfig) and config.executor == "ray":
        from toolflow.engine.graph.ray_embed import RayDataEmbedder
        from toolflow.engine.raycluster import RayOptions, ray_session

        factory = functools.partial(RayDataEmbedder, factory, model_name, workers=config.workers)
        session = ray_session(RayOptions(address=config.ray_address, workers=config.workers))
    try:
        with session, progress_bar(console, rate="texts") as bar:  # texts/s and the ETA: embedding is a cold build's cost
            task = bar.add_task("embedding", total=None)

            def tick(stage: str, advance: int, total: int | None) -> None:
                if total is not None:
                    bar.update(task, total=total)
                if advance:
                    bar.advance(task, advance)

            return build_graph_data(tools, factory, model_name, cache=cache, threshold=threshold, fanout=fanout,
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


def build_graph(sources: list[str | Path] | tuple[str | Path, ...] | str | Path, store: str | None = None,
                config: GraphBuildConfig | None = None, *, console: Console | None = None,
                save_listing: Path | None = None) -> dict[str, Any]:
    """Load `sources`, build their tool graph and write it to `store`; the build report as a dict.

    `sources` are tool files or folders in any format ToolFlow loads, or live servers (``mcp+stdio:"CMD"``,
    ``mcp+http://HOST:PORT/mcp``, ``py:MODULE``). `store` is a Bolt URI or a folder for the embedded store
    (default: ``$TOOLFLOW_STORE`` or the user data dir). A build replaces the graph in the store; running it
    twice gives the same graph. `console` receives progress bars and summaries (default: silent).
    `save_listing` also writes the live servers' tools/list there after a successful build.
    """
    config = config or GraphBuildConfig()
    console = console or quiet_console()
    items = [str(s) for s in ([sources] if isinstance(sources, (str, Path)) else sources)]
    with live_inputs(items, save_listing, timeout=config.server_timeout) as paths:
        return _build_and_write(paths, store, config, console)


def _build_and_write(paths: list[Path], store_spec: str | None, config: GraphBuildConfig,
                     console: Console) -> dict[str, Any]:
    from toolflow.engine.stores import open_store, resolve_store_spec

    t0 = time.perf_counter()
    loaded = load_result(paths, config.format, config.skip_invalid, console, strict=config.strict)
    tools = loaded.tools
    load_s = time.perf_counter() - t0
    console.print(f"loaded {len(tools)} tools from {len(paths)} path(s) in {load_s:.1f}s")
    data, rep = build_with_progress(tools, config, console)
    rep.seconds = {"load": load_s, **rep.seconds}
    verified = verify_feeds(data, config.verify, console) if config.verify else None
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


def verify_feeds(data: GraphData, verify: VerifyConfig, console: Console) -> dict[str, Any]:
    """`--verify-edges`: ask the model about the edges in the uncertain band before the graph is written."""
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.settings import LLMSettings
    from toolflow.engine.synth.verify_edges import verify_edges

    if not any("probability" in e for e in data.feeds):
        raise ConfigError("needs the edge scorer's probabilities (--match evidence, --edge-scorer record or "
                          "filter)", option="--verify-edges")
    settings = LLMSettings.from_env(base_url=verify.base_url, model=verify.model)

    async def run() -> Any:
        async with OpenAIClientLLM(settings) as llm:
            return await verify_edges(data.feeds, data.tools, llm, *verify.band, verify.budget)

    t0 = time.perf_counter()
    rep = asyncio.run(run())
    console.print(f"verified {rep.asked} of {rep.in_band} edges in the band ({rep.confirmed} confirmed, "
                  f"{rep.rejected} rejected, {rep.over_budget} over budget; {rep.tokens} tokens, {rep.cached} "
                  f"cached) in {time.perf_counter() - t0:.1f}s")
    return rep.model_dump()


def _feeds(store: Any) -> list[dict[str, Any]]:
    """FEEDS edges of the graph already in the store ([] for an empty store)."""
    try:
        return store.run("feeds_all")
    except Exception:  # noqa: BLE001 - no graph yet: observation goes by field names only
        return []


async def _observe(specs: list[str], config: ObserveConfig, tools: list[Tool], feeds: list[dict[str, Any]],
                   prior: dict[str, list[Any]]) -> Any:
    from toolflow.engine.synth.execute import ExecPolicy, LiveTools
    from toolflow.engine.synth.observe import observe
    from toolflow.loaders.mcp_live import parse_spec, quiet_sdk_logs

    quiet_sdk_logs()
    policy = ExecPolicy(allow=list(config.allow), timeout=config.call_timeout)
    async with LiveTools([parse_spec(s) for s in specs], policy) as live:
        return await observe(live, tools, feeds, config.calls, prior)


def observe_and_build(sources: list[str], servers: list[str], store: str | None = None,
                      config: ObserveConfig | None = None, *, from_calls: list[Path] | None = None,
                      console: Console | None = None) -> tuple[BuildReport, list[Any]]:
    """Build the graph from `sources` after observing return schemas: each tool without one that may run is
    called up to `config.calls` times (on `servers`, the live ones among `sources` included) and its JSON
    results generalized. The build report and the per-tool observation rows."""
    from toolflow.engine.stores import open_store, resolve_store_spec
    from toolflow.engine.synth.observe import prior_results
    from toolflow.loaders.mcp_live import is_server_spec

    config = config or ObserveConfig()
    console = console or quiet_console()
    specs = [*servers, *(t for t in sources if is_server_spec(t))]
    if not specs and not from_calls:
        raise ConfigError("nothing to observe: give a live server among TOOLS, --server, --functions or --from-calls")
    with live_inputs(sources) as paths:
        loaded = load_result(paths, None, False, console).tools
    with open_store(resolve_store_spec(store)) as graph:
        prior = prior_results([json.loads(ln) for f in from_calls or []
                               for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()])
        observed, report = asyncio.run(_observe(specs, config, loaded, _feeds(graph), prior))
        data, rep = build_with_progress(observed, config, console)
        write_with_progress(graph, data, console)
    return rep, report
