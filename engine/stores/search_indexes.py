"""In-process first-stage indexes for the embedded store: BM25 with `bm25s`, dense search with FAISS.

Neo4j answers the same two questions with its own full-text (Lucene BM25) and vector indexes; these two
classes give the embedded store the same answers. Both are built from what the store holds (the analyzed
``Tool.search_text`` and ``Tool.embedding``), once per opened store.

BM25 parameters are Lucene's (k1 = 1.2, b = 0.75, Lucene's idf), so that scores agree with Neo4j's index.
Known difference: Lucene keeps a document's length in one byte (exact up to 40 tokens, then 4 significant
bits) and bm25s keeps it exactly, so near-ties between long documents can rank differently (how often:
docs/retrieval.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BM25_K1 = 1.2
BM25_B = 0.75


def _top(ids: Sequence[str], scores: np.ndarray, limit: int) -> list[tuple[str, float]]:
    """The `limit` best (id, score) with score > 0 (BM25) or any score (dense), best first, ties by id."""
    if limit <= 0 or len(ids) == 0:
        return []
    n = min(limit, len(ids))
    part = np.argpartition(-scores, n - 1)[:n] if n < len(ids) else np.arange(len(ids))
    # Widen to every item tied with the last one, so ties break by id, not by array position.
    cut = scores[part].min()
    part = np.flatnonzero(scores >= cut)
    order = sorted(part.tolist(), key=lambda i: (-float(scores[i]), ids[i]))[:n]
    return [(ids[i], float(scores[i])) for i in order]


class Bm25Index:
    """Lucene-flavoured BM25 over pre-analyzed documents (space-separated tokens)."""

    def __init__(self, ids: Sequence[str], documents: Sequence[str]) -> None:
        import bm25s

        self.ids = list(ids)
        self._bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        corpus = [doc.split() for doc in documents]
        self._bm25.index(corpus, show_progress=False)

    def search(self, terms: Sequence[str], limit: int) -> list[tuple[str, float]]:
        terms = [t for t in dict.fromkeys(terms) if t in self._bm25.vocab_dict]
        if not terms or not self.ids:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float64)
        hits = _top(self.ids, scores, limit)
        return [(i, s) for i, s in hits if s > 0]


class FaissIndex:
    """Exact inner-product search over L2-normalized tool vectors (cosine).

    Exact (``IndexFlatIP``): one query against 16k 384-d vectors is a 6M-multiply scan, well under a
    millisecond, and exact search keeps the embedded store's top-k identical to the brute-force answer.
    """

    def __init__(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        import faiss

        self.ids = list(ids)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index = faiss.IndexFlatIP(self.vectors.shape[1] if self.vectors.ndim == 2 else 384)
        if len(self.ids):
            self._index.add(self.vectors)

    def positions(self) -> dict[str, int]:
        if not hasattr(self, "_pos"):
            self._pos = {tid: j for j, tid in enumerate(self.ids)}
        return self._pos

    def search(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        if not self.ids or limit <= 0:
            return []
        n = min(len(self.ids), limit + 16)  # a few extra, so ties at the cut break by id
        scores, idx = self._index.search(np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1), n)
        rows = [(self.ids[j], float(s)) for j, s in zip(idx[0].tolist(), scores[0].tolist(), strict=True) if j >= 0]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:limit]
