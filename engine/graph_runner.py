"""`toolflow graph build` end to end: load → build → write, with progress bars and a summary.

Kept apart from the CLI so the benchmark and tests drive the very same code path.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from toolflow.engine.secrets import redact

from .embedding import DEFAULT_MODEL, EmbeddingCache, HashingEmbedder, SentenceTransformerEmbedder
from .graph_build import BuildReport, GraphData, build_graph
from .models import Tool


def embedder_choice(name: str):
    """(factory, model name) for the --embedder option; the factory runs only on a cache miss."""
    if name == "hashing":
        return HashingEmbedder, HashingEmbedder().name
    return SentenceTransformerEmbedder, DEFAULT_MODEL


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def load_inputs(paths: list[Path], fmt: str | None, skip_invalid: bool, console: Console) -> list[Tool]:
    from ..loaders import load_tools

    result = load_tools(paths, format=fmt, skip_invalid=skip_invalid, progress=True)
    if result.skipped:
        console.print(f"[yellow]skipped {len(result.skipped)} invalid item(s):")
        for msg in result.skipped[:20]:
            console.print(f"  [yellow]- {msg}")
        if len(result.skipped) > 20:
            console.print(f"  [yellow]… and {len(result.skipped) - 20} more")
    if not result.tools:
        raise ValueError(f"no tools loaded from {', '.join(map(str, paths))}")
    return result.tools


def build_with_progress(
    tools: list[Tool],
    embedder: str,
    cache_dir: Path,
    threshold: float,
    fanout: int,
    console: Console,
) -> tuple[GraphData, BuildReport]:
    factory, model_name = embedder_choice(embedder)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    try:
        with _progress(console) as bar:
            task = bar.add_task("embedding", total=None)

            def tick(stage: str, advance: int, total: int | None) -> None:
                if total is not None:
                    bar.update(task, total=total)
                if advance:
                    bar.advance(task, advance)

            return build_graph(tools, factory, model_name, cache=cache, threshold=threshold, fanout=fanout,
                               progress=tick)
    finally:
        cache.close()


def write_with_progress(store, data: GraphData, console: Console) -> float:
    t0 = time.perf_counter()
    with _progress(console) as bar:
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
) -> dict[str, Any]:
    from .stores import open_store, resolve_store_spec

    t0 = time.perf_counter()
    tools = load_inputs(paths, fmt, skip_invalid, console)
    load_s = time.perf_counter() - t0
    console.print(f"loaded {len(tools)} tools from {len(paths)} path(s) in {load_s:.1f}s")
    data, rep = build_with_progress(tools, embedder, cache_dir, threshold, fanout, console)
    rep.seconds = {"load": load_s, **rep.seconds}
    spec = resolve_store_spec(store_spec)
    with open_store(spec) as store:
        rep.seconds["write"] = write_with_progress(store, data, console)
        counts = store.counts()
    print_report(rep, console)
    edges = ", ".join(f"{k} {v}" for k, v in counts["edges"].items())
    console.print(f"[green]graph written to {redact(spec)}: {counts['tools']} tools, {counts['fields']} fields; edges {edges}")
    return {**asdict(rep), "store": redact(spec), "counts": counts}
