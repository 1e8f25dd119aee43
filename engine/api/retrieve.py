"""Retrieval as a use case: the tools for a request (`toolflow.retrieve`), and the retrieval benchmark."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolflow.engine.api.config import RetrieveConfig
from toolflow.engine.api.stores import open_graph_store
from toolflow.engine.retrieval.retriever import RetrievalConfig


def query_embedder(name: str) -> Any:
    """The graph's embedder, loaded only when a query vector is not in the cache."""
    from toolflow.engine.graph.embedding import (
        DIM,
        HashingEmbedder,
        SentenceTransformerEmbedder,
        embed_backend,
        model_key,
    )
    from toolflow.engine.retrieval.retriever import LazyEmbedder

    if name == "hashing":
        return HashingEmbedder()
    return LazyEmbedder(SentenceTransformerEmbedder, model_key(embed_backend()), DIM)  # the backend set now


@contextmanager
def open_retriever(store: str | None = None, embedder: str = RetrieveConfig().embedder,
                   config: RetrievalConfig | None = None) -> Iterator[Any]:
    """A checked `Retriever` over the graph in `store` (closed on exit); RetrievalError when the graph cannot
    serve retrieval (no graph, or built with another embedder)."""
    from toolflow.engine.graph.embedding import EmbeddingCache
    from toolflow.engine.paths import embedding_cache_path
    from toolflow.engine.retrieval.retriever import Retriever

    graph = open_graph_store(store)
    try:
        retriever = Retriever(graph, query_embedder(embedder), config,
                              cache=EmbeddingCache(embedding_cache_path()))
        retriever.check()
        yield retriever
    finally:
        graph.close()


def retrieve(query: str, store: str | None = None, config: RetrieveConfig | None = None) -> Any:
    """The `config.k` tools for `query`: BM25 + dense search, fused, then expanded along the graph; every hit
    says why it is there (a `RetrievalResult`)."""
    config = config or RetrieveConfig()
    with open_retriever(store, config.embedder, config.retrieval) as retriever:
        return retriever.search(query, k=config.k, expand=config.expand)


def evaluate_retrieval(file: str | Path, store: str | None = None, ks: Sequence[int] = (1, 5, 10),
                       embedder: str = RetrieveConfig().embedder) -> dict[str, Any]:
    """Recall@k, NDCG@k and complete@k of bm25, dense, hybrid and graph on a labelled query file (JSONL of
    {"query", "relevant_tools"})."""
    from toolflow.engine.retrieval.evaluate import read_eval_file, run_eval

    queries = read_eval_file(Path(file))
    with open_retriever(store, embedder) as retriever:
        return run_eval(retriever, queries, list(ks))
