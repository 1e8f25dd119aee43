"""Threshold similarity search with FAISS.

Vectors are L2-normalized, so inner product is cosine. Exact search (``IndexFlatIP``) is used up to
``EXACT_LIMIT`` base vectors; above that HNSW, with parameters chosen for recall of the pairs above the
threshold at a short build (k large enough for hub texts with many neighbours above the threshold). The
measurements behind them are in docs/graph.md (kNN search).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT_LIMIT = 20_000


@dataclass(frozen=True)
class Pairs:
    """Index pairs (query i, base j) with cosine >= threshold."""

    qi: np.ndarray
    bj: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.qi.shape[0])


def build_index(base: np.ndarray, exact: bool | None = None):
    import faiss

    dim = base.shape[1]
    if exact is None:
        exact = base.shape[0] <= EXACT_LIMIT
    if exact:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        index.hnsw.efSearch = 64
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    return index


def threshold_pairs(
    query: np.ndarray,
    base: np.ndarray,
    threshold: float,
    k: int = 64,
    exclude_self: bool = False,
    exact: bool | None = None,
    index=None,
) -> Pairs:
    """All (i, j) with cos(query_i, base_j) >= threshold among each query's k nearest base vectors.

    With ``exclude_self`` the query and base are the same matrix and i == j is dropped.
    """
    if len(query) == 0 or len(base) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty, np.zeros(0, dtype=np.float32))
    if index is None:
        index = build_index(base, exact)
    k = min(k + (1 if exclude_self else 0), len(base))
    scores, ids = index.search(np.ascontiguousarray(query, dtype=np.float32), k)
    qi = np.repeat(np.arange(len(query)), k)
    bj = ids.reshape(-1)
    sc = scores.reshape(-1)
    keep = (bj >= 0) & (sc >= threshold)
    if exclude_self:
        keep &= bj != qi
    return Pairs(qi[keep].astype(np.int64), bj[keep].astype(np.int64), sc[keep].astype(np.float32))
