"""Small graphs for tests: the example tool set, hand-made tools, and real ToolBench subsets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolflow.engine.graph.build import GraphData, build_graph
from toolflow.engine.graph.embedding import (
    DEFAULT_MODEL,
    EmbeddingCache,
    HashingEmbedder,
    SentenceTransformerEmbedder,
)
from toolflow.engine.models import Tool
from toolflow.loaders import load_tools

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
EXAMPLE_TOOLS = REPO / "examples" / "travel_tools.jsonl"


def persistent_cache() -> EmbeddingCache:
    """The user's embedding cache: real-data tests embed each text once per machine, not once per run."""
    from toolflow.engine.paths import embedding_cache_path

    return EmbeddingCache(embedding_cache_path())


def example_tools() -> list[Tool]:
    return load_tools([EXAMPLE_TOOLS]).tools


def real_graph(tools: list[Tool], threshold: float = 0.82, **build_options: Any) -> GraphData:
    """The graph of `tools` with the real embedder (persistent cache); `build_options` go to `build_graph`."""
    cache = persistent_cache()
    try:
        data, _ = build_graph(tools, SentenceTransformerEmbedder, DEFAULT_MODEL, cache=cache, threshold=threshold,
                              **build_options)
    finally:
        cache.close()
    return data


def hashing_graph(tools: list[Tool], threshold: float = 0.82, fanout: int = 10) -> GraphData:
    data, _ = build_graph(tools, HashingEmbedder, HashingEmbedder().name, threshold=threshold, fanout=fanout)
    return data


def toolbench_raw_categories(*categories: str) -> list[Tool]:
    """Tools from the raw ToolBench per-tool JSON files of the given categories."""
    paths = [SHARED_DATA / "raw" / "toolbench" / c for c in categories]
    # strict + skip_invalid: the different definitions under one id are left out, as the counts here expect
    return load_tools(paths, skip_invalid=True, strict=True).tools
