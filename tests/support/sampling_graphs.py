"""Small graphs for the sampling tests, plus the real ToolBench graph for the one real-data test.

Synthetic graphs are ``GraphData`` built by hand (no embedder): the sampler only reads tools, categories,
embeddings and the tool-level edges, so a handful of tools with chosen edges is enough to pin its behaviour.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from toolflow.engine.graph.build import GraphData
from toolflow.engine.models import Tool, to_function_name

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TOOLBENCH_GZ = SHARED_DATA / "toolbench_rapidapi_tools.jsonl.gz"
RAW_CATEGORIES = ("Email", "Food", "Mapping", "Payments", "Translation", "Transportation", "Weather")


def make_tool(i: int | str, category: str | None = "A", desc: str = "") -> Tool:
    tid = f"t{i:03d}" if isinstance(i, int) else i
    return Tool(id=tid, name=to_function_name(tid), description=desc or f"tool {tid}", category=category)


def make_graph(
    tools: list[Tool],
    feeds: Iterable[tuple[str, str, float]] = (),
    shares: Iterable[tuple[str, str, float]] = (),
    similar: Iterable[tuple[str, str, float]] = (),
    dim: int = 8,
) -> GraphData:
    """A GraphData with deterministic unit embeddings; shares/similar are stored once with src < dst."""
    tools = sorted(tools, key=lambda t: t.id)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(tools), dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    data = GraphData(tools=tools, tool_embeddings=emb, fields=[])
    data.feeds = [{"src": a, "dst": b, "score": s, "from_field": f"out_{a}", "to_param": f"in_{b}"} for a, b, s in feeds]
    data.shares = [
        {"src": min(a, b), "dst": max(a, b), "score": s, "param_a": "p", "param_b": "p"} for a, b, s in shares
    ]
    data.similar = [{"src": min(a, b), "dst": max(a, b), "score": s} for a, b, s in similar]
    return data


def chain_graph(n: int = 6) -> GraphData:
    """t000 → t001 → … a FEEDS chain, plus one SHARES_INPUT edge between the ends."""
    tools = [make_tool(i) for i in range(n)]
    feeds = [(tools[i].id, tools[i + 1].id, 0.9) for i in range(n - 1)]
    return make_graph(tools, feeds=feeds, shares=[(tools[0].id, tools[-1].id, 0.85)])


def isolated_graph(n: int = 5) -> GraphData:
    """Tools with no edges at all: every walk is stuck from its first step."""
    return make_graph([make_tool(i) for i in range(n)])


def hub_graph(spokes: int = 60, hubs: int = 3) -> GraphData:
    """A few hubs each joined to every spoke: plain walks keep returning to the hubs."""
    hub_tools = [make_tool(f"h{i}", "H") for i in range(hubs)]
    spoke_tools = [make_tool(i, "S") for i in range(spokes)]
    feeds = [(s.id, h.id, 0.9) for h in hub_tools for s in spoke_tools]
    shares = [(hub_tools[i].id, hub_tools[i + 1].id, 0.95) for i in range(hubs - 1)]
    return make_graph(hub_tools + spoke_tools, feeds=feeds, shares=shares)


def mixed_graph() -> GraphData:
    """Three categories of six tools, dense FEEDS inside a category, a few across, some isolated tools."""
    tools: list[Tool] = []
    feeds: list[tuple[str, str, float]] = []
    shares: list[tuple[str, str, float]] = []
    for c, cat in enumerate(("Maps", "Mail", "Pay")):
        ids = [f"{cat.lower()}{i}" for i in range(6)]
        tools += [make_tool(t, cat) for t in ids]
        feeds += [(ids[i], ids[j], 0.82 + 0.01 * ((i * 7 + j * 3 + c) % 10)) for i in range(6) for j in range(6) if i < j and (i + j) % 2]
        shares += [(ids[i], ids[i + 2], 0.9) for i in range(4)]
    feeds += [("maps0", "mail5", 0.83), ("pay3", "maps2", 0.88)]
    tools += [make_tool(f"lonely{i}", "Misc") for i in range(3)]
    return make_graph(tools, feeds=feeds, shares=shares, similar=[("mail0", "pay0", 0.8)])


def read_toolbench_tools(categories: Iterable[str] | None = None, path: Path = TOOLBENCH_GZ) -> list[Tool]:
    """Normalized ToolBench tools through the real loader (it dedupes ids and infers returns from examples).

    Only the wanted categories' lines go to the loader, so a subset loads in seconds, not the 20 s of all 47k.
    """
    from toolflow.loaders import load_tools

    if categories is None:
        return load_tools([path], skip_invalid=True, strict=True).tools  # duplicates left out, as measured
    wanted = set(categories)
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "toolbench_subset.jsonl"
        with gzip.open(path, "rt", encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
            for line in src:
                if json.loads(line).get("category") in wanted:
                    dst.write(line)
        return load_tools([subset], skip_invalid=True, strict=True).tools


def persistent_cache_path() -> Path:
    """The user's embedding cache (or $TOOLFLOW_CACHE_DIR): real graphs embed once per machine."""
    from toolflow.engine.paths import embedding_cache_path

    return embedding_cache_path()


@cache
def real_graph(categories: tuple[str, ...] = RAW_CATEGORIES) -> GraphData:
    """The graph of real ToolBench categories, embedded with all-MiniLM-L6-v2 through the persistent cache."""
    from toolflow.engine.graph.build import build_graph
    from toolflow.engine.graph.embedding import DEFAULT_MODEL, EmbeddingCache, SentenceTransformerEmbedder

    cache_db = EmbeddingCache(persistent_cache_path())
    try:
        data, _ = build_graph(read_toolbench_tools(categories), SentenceTransformerEmbedder, DEFAULT_MODEL, cache=cache_db)
    finally:
        cache_db.close()
    return data
