"""Tool retrieval over the tool graph: BM25 + dense first stage, rank fusion, graph expansion.

    from toolflow.engine.retrieval import Retriever
    from toolflow.engine.stores import open_store
    from toolflow.engine.graph.embedding import SentenceTransformerEmbedder

    with open_store("bolt://localhost:7687") as store:
        result = Retriever(store, SentenceTransformerEmbedder()).search("book a hotel in Paris", k=10)

Stages (scores and the formulas are in ``rank.py``):
1. lexical: BM25 over each tool's name, description and parameter names and descriptions (Neo4j's
   full-text index on Neo4j, `bm25s` on the embedded store; one analyzer for both, ``graph/search_text.py``);
2. dense: the query embedded with the graph's embedder against ``Tool.embedding`` (Neo4j's vector index,
   FAISS on the embedded store);
3. hybrid: reciprocal rank fusion of the two lists (``depth`` candidates each);
4. graph: FEEDS / SHARES_INPUT neighbours of the top ``seeds`` hybrid hits, each getting its seed's fused score
   times the seed's random-walk share for it (edge weight over the seed's total) and its query similarity,
   added to the fused scores; then, in a request of several parts, alternatives (SIMILAR edges) of
   higher-ranked hits step back (``rank.alternatives_yield``).

Why both first stages: on Seal-Tools-style requests (several tasks spelled out in one message) BM25 beats
MiniLM dense, while dense wins on ToolBench-style paraphrases. Why the graph: a multi-step request needs the
tools that feed the one it sounds like, and the FEEDS edges know them. `retrieve-eval` prints what the graph
stage brought into the top k and pushed out, with how many of each were relevant; the measurements of every
stage are in docs/retrieval.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from toolflow.engine.errors import StoreError
from toolflow.engine.graph.embedding import Embedder, EmbeddingCache, embed_texts
from toolflow.engine.graph.search_text import query_parts, query_terms
from toolflow.engine.retrieval.models import METHODS, Hit, Method, Reason, RetrievalResult
from toolflow.engine.retrieval.rank import (
    ALTERNATIVE_YIELD,
    RRF_K,
    Evidence,
    Link,
    alternatives_yield,
    graph_evidence,
    ordered,
    rrf,
)
from toolflow.engine.retrieval.rank import expand as add_evidence
from toolflow.engine.stores.base import GraphStore

EXPAND_TYPES = ("FEEDS", "SHARES_INPUT")


def embed_queries(embedder: Embedder, queries: Sequence[str], cache: EmbeddingCache | None = None) -> list[np.ndarray]:
    """Per query, the vectors of its parts (``text.query_parts``), one batch for all; cached when a cache is given."""
    parts = [query_parts(q) for q in queries]
    flat = [p for ps in parts for p in ps]
    if not flat:
        mat = np.zeros((0, embedder.dim), np.float32)
    elif cache is not None:
        mat, _ = embed_texts(flat, lambda: embedder, cache, embedder.name)
    else:
        mat = embedder.embed(flat)
    out, start = [], 0
    for ps in parts:
        out.append(mat[start : start + len(ps)])
        start += len(ps)
    return out


class LazyEmbedder(Embedder):
    """An embedder built on first use: with a warm query cache, `retrieve-eval` never loads torch."""

    def __init__(self, factory: Callable[[], Embedder], name: str, dim: int) -> None:
        self._factory = factory
        self._inner: Embedder | None = None
        self.name = name
        self.dim = dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._inner is None:
            self._inner = self._factory()
        return self._inner._encode(texts)


class RetrievalError(ValueError, StoreError):
    """The graph cannot serve retrieval (e.g. built before retrieval support, or another embedding size)."""


@dataclass(frozen=True)
class RetrievalConfig:
    """Knobs, with the reason for each default.

    depth  candidates per first stage: RRF needs each list deep enough that a tool ranked 30th by BM25 and
           5th by dense is still seen by both; 100 is the usual first-stage depth in hybrid search.
    rrf_k  the RRF constant of Cormack et al. (60).
    seeds  how many top hybrid hits are expanded: a request rarely needs more than five tools, and deeper
           seeds are mostly wrong tools whose neighbours are noise.
    alternative_yield, alternatives_depth  the share of its score an alternative of a higher-ranked hit gives
           up in a multi-part request, among the top ``alternatives_depth`` (0 turns the step off; see rank.py).
    """

    depth: int = 100
    rrf_k: int = RRF_K
    seeds: int = 5
    edge_types: tuple[str, ...] = EXPAND_TYPES
    alternative_yield: float = ALTERNATIVE_YIELD
    alternatives_depth: int = 30


@dataclass
class Stages:
    """Everything one query's four rankings are made from (so eval computes the first stage once)."""

    query: str
    lexical: list[tuple[str, float]]
    dense: list[tuple[str, float]]
    fused: dict[str, float]
    seeds: list[str]
    evidence: dict[str, Evidence]
    final: dict[str, float]
    query_sim: dict[str, float] = field(default_factory=dict)
    yielded: dict[str, str] = field(default_factory=dict)  # tool → the higher-ranked alternative it stepped behind

    def ranking(self, method: Method) -> list[tuple[str, float]]:
        if method == "bm25":
            return list(self.lexical)
        if method == "dense":
            return list(self.dense)
        if method == "hybrid":
            return ordered(self.fused)
        return ordered(self.final)


class Retriever:
    def __init__(self, store: GraphStore, embedder: Embedder, config: RetrievalConfig | None = None,
                 cache: EmbeddingCache | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.cache = cache  # query vectors on disk: rerunning an eval embeds nothing
        self._names: dict[str, str] | None = None

    # --- public API ---------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, expand: bool = True) -> RetrievalResult:
        """The top `k` tools for `query` (hybrid + graph expansion, or hybrid alone with expand=False)."""
        stages = self.stages(query, self.embed([query])[0], expand=expand)
        return self.result(stages, "graph" if expand else "hybrid", k)

    def embed(self, queries: Sequence[str]) -> list[np.ndarray]:
        """Per query, the vectors of its parts (``text.query_parts``: the request, then its sentences)."""
        return embed_queries(self.embedder, queries, self.cache)

    def dense_search(self, vectors: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Max-sim over the query parts: each tool keeps its best cosine to any part."""
        best: dict[str, float] = {}
        for vec in np.atleast_2d(vectors):
            for tool_id, score in self.store.vector_search(vec, limit):
                if score > best.get(tool_id, -2.0):
                    best[tool_id] = score
        return ordered(best)[:limit]

    def stages(self, query: str, vectors: np.ndarray, expand: bool = True) -> Stages:
        """All rankings for one query; `vectors` are its parts' embeddings (`embed`), the whole request first."""
        cfg = self.config
        vectors = np.atleast_2d(vectors)
        lexical = self.store.lexical_search(query_terms(query), cfg.depth)
        dense = self.dense_search(vectors, cfg.depth)
        fused = rrf([[i for i, _ in lexical], [i for i, _ in dense]], cfg.rrf_k)
        seeds = [i for i, _ in ordered(fused)[: cfg.seeds]]
        evidence: dict[str, Evidence] = {}
        query_sim = {i: s for i, s in dense}
        if expand and seeds:
            links = [
                Link(r["seed"], r["id"], r["type"], r["direction"], float(r["score"] or 0.0),
                     r.get("seed_field"), r.get("other_field"))
                for r in self.store.tool_links(seeds, list(cfg.edge_types))
            ]
            need = sorted(({lk.neighbor for lk in links} | set(seeds)) - query_sim.keys())
            if need:
                vecs = self.store.tool_vectors(need)
                for i, v in vecs.items():
                    query_sim[i] = float(np.max(vectors @ v))
            evidence = graph_evidence(fused, seeds, links, query_sim)
        final = add_evidence(fused, evidence) if expand else dict(fused)
        yielded: dict[str, str] = {}
        if expand and cfg.alternative_yield > 0 and len(query_parts(query)) > 1:
            top = [i for i, _ in ordered(final)[: cfg.alternatives_depth]]
            similar: dict[str, set[str]] = {}
            for r in self.store.tool_links(top, ["SIMILAR"]):
                similar.setdefault(r["seed"], set()).add(r["id"])
            final, yielded = alternatives_yield(final, similar, cfg.alternatives_depth, cfg.alternative_yield)
        return Stages(query, lexical, dense, fused, seeds, evidence, final, query_sim, yielded)

    def result(self, stages: Stages, method: Method, k: int) -> RetrievalResult:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
        lex_rank = {i: (r, s) for r, (i, s) in enumerate(stages.lexical, start=1)}
        dense_rank = {i: (r, s) for r, (i, s) in enumerate(stages.dense, start=1)}
        names = self.names()
        hits = []
        for rank, (tool_id, score) in enumerate(stages.ranking(method)[:k], start=1):
            reasons: list[Reason] = []
            if tool_id in lex_rank and method in ("bm25", "hybrid", "graph"):
                r, s = lex_rank[tool_id]
                reasons.append(Reason(kind="lexical", rank=r, score=round(s, 6)))
            if tool_id in dense_rank and method in ("dense", "hybrid", "graph"):
                r, s = dense_rank[tool_id]
                reasons.append(Reason(kind="dense", rank=r, score=round(s, 6)))
            ev = stages.evidence.get(tool_id) if method == "graph" else None
            if ev is not None:
                lk = ev.link
                reasons.append(Reason(kind="graph", score=round(lk.score, 6), via=lk.seed, via_name=names.get(lk.seed),
                                      edge=lk.type,
                                      direction=lk.direction, via_field=lk.seed_field, field=lk.other_field,
                                      contribution=round(ev.contribution, 6)))
            if method == "graph" and tool_id in stages.yielded:
                reasons.append(Reason(kind="alternative", score=round(self.config.alternative_yield, 6),
                                      via=stages.yielded[tool_id], via_name=names.get(stages.yielded[tool_id])))
            hits.append(Hit(rank=rank, id=tool_id, name=names.get(tool_id, tool_id), score=round(score, 6),
                            reasons=reasons))
        return RetrievalResult(query=stages.query, method=method, k=k, hits=hits)

    def names(self) -> dict[str, str]:
        if self._names is None:
            self._names = {r["id"]: r["name"] for r in self.store.tool_catalog()}
        return self._names

    def check(self) -> None:
        """One-line errors for graphs that cannot serve retrieval, instead of silently empty results."""
        try:
            row = self.store.run("retrieval_readiness")[0]
        except Exception as exc:  # Ladybug: a graph built before search_text has no such column
            raise RetrievalError(f"the graph cannot serve retrieval ({exc}); rebuild it with `toolflow graph build`") from exc
        if not row["tools"]:
            raise RetrievalError("the graph has no tools: run `toolflow graph build TOOLS` first")
        if int(row["without_text"] or 0):
            raise RetrievalError(f"{row['without_text']} tools have no search_text (graph built before retrieval "
                                 "support): rebuild it with `toolflow graph build`")
        if row["dim"] is not None and int(row["dim"]) != self.embedder.dim:
            raise RetrievalError(f"the graph's tool embeddings have {row['dim']} dimensions but the embedder "
                                 f"{self.embedder.name} gives {self.embedder.dim}: use the embedder the graph was built with")
