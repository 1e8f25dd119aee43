"""The walk's graph as one CSR adjacency over the start pool, built with numpy from ``walk_graph``'s arrays.

Per tool: neighbours sorted by id, the summed (type-weighted) scores of the edges joining each, their running
sums and the recorded edge — the very values ``neighbours.neighbourhood`` computes for one tool, in the same
float operations, so the vectorized walk (batch_walk.py) draws the same neighbours as the scalar one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from toolflow.engine.sampling.neighbours import Neighbourhood
from toolflow.engine.sampling.walk_graph import WalkGraph


@dataclass
class Adjacency:
    """Neighbourhoods of the pool's tools as CSR arrays; tool i's neighbours are ``nbr[start[i]:start[i+1]]``."""

    start: np.ndarray  # int64, len(pool) + 1
    nbr: np.ndarray  # int64 pool indices, ascending within a tool (= sorted by id: the pool is sorted)
    weight: np.ndarray  # float64: summed (type-weighted) scores of the edges joining the pair
    cum: np.ndarray  # float64: running sum of weight within each tool
    best_score: np.ndarray  # float64: raw score of the recorded edge (highest score, then largest detail)
    best_entry: np.ndarray  # int64: that edge as an entry of ``detail_of`` (stored edges, then their reverses)
    detail_of: Callable[[int], str]  # an entry's 'TYPE|1|src_field|cand_field' string

    def best_detail(self, g: int) -> str:
        """The recorded edge's detail string of neighbour entry g, built when asked: a run reads a few
        thousand of them, and formatting all 640k of the full ToolBench graph up front took a second."""
        return self.detail_of(int(self.best_entry[g]))

    def neighbourhood(self, i: int, names: Sequence[str]) -> Neighbourhood:
        """Tool i's neighbourhood in ``walk.neighbourhood``'s shape, for the scalar steps."""
        s, e = int(self.start[i]), int(self.start[i + 1])
        return (
            [names[j] for j in self.nbr[s:e].tolist()],
            self.weight[s:e].tolist(),
            list(zip(self.best_score[s:e].tolist(), [self.best_detail(g) for g in range(s, e)], strict=True)),
            self.cum[s:e].tolist(),
        )


def detail_strings(graph: WalkGraph) -> Callable[[int], str]:
    """Entry i's detail string: the stored direction for the first len(edges) entries, the reverse after."""
    kind, fa, fb, n_edges = graph.kind, graph.field_a, graph.field_b, len(graph.src)

    def detail(i: int) -> str:
        if i < n_edges:
            return f"{kind[i]}|1|{fa[i]}|{fb[i]}"
        j = i - n_edges
        return f"{kind[j]}|0|{fb[j]}|{fa[j]}"

    return detail


def entry_order(owner: np.ndarray, cand: np.ndarray, sc: np.ndarray, detail: Callable[[int], str]) -> np.ndarray:
    """Entries sorted by (owner, neighbour, score, detail), the order ``neighbourhood`` sorts in.

    The numbers sort in numpy; the detail string only breaks ties of all three, which are rare, so it is
    built for those runs alone (formatting and sorting 640k strings was half of the build on ToolBench).
    """
    order = np.lexsort((sc, cand, owner))  # stable: full ties keep the rows' order, as before
    o, c, v = owner[order], cand[order], sc[order]
    tie = (o[1:] == o[:-1]) & (c[1:] == c[:-1]) & (v[1:] == v[:-1])
    if tie.any():  # runs of equal (owner, neighbour, score): order them by detail
        bounds = np.flatnonzero(np.diff(np.concatenate([[0], tie.astype(np.int8), [0]])))
        for lo, hi in zip(bounds[0::2].tolist(), (bounds[1::2] + 1).tolist(), strict=True):
            order[lo:hi] = sorted(order[lo:hi].tolist(), key=detail)  # stable, as lexsort was
    return order


def group_sums(owner: np.ndarray, cand: np.ndarray, contrib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first entry, summed weight) per (owner, neighbour) group of sorted entries, each sum added in entry
    order (as ``neighbourhood`` adds them), one pass per group depth."""
    first = np.ones(len(owner), dtype=bool)
    if len(owner):
        first[1:] = (owner[1:] != owner[:-1]) | (cand[1:] != cand[:-1])
    heads = np.flatnonzero(first)
    ends = np.append(heads[1:], len(owner)) if len(heads) else heads
    weight = contrib[heads].copy()
    sizes = ends - heads
    for j in range(1, int(sizes.max()) if len(sizes) else 0):
        m = sizes > j
        weight[m] = weight[m] + contrib[heads[m] + j]
    return heads, weight


def running_sums(start: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sequential sums within each tool, as itertools.accumulate; each round only over the tools with that many
    neighbours (a pass over every tool per round cost O(tools × largest degree): most of the build)."""
    cum = weight.copy()
    seg_len = np.diff(start)
    act, j = np.flatnonzero(seg_len > 1), 1
    while len(act):
        idx = start[act] + j
        cum[idx] = cum[idx - 1] + weight[idx]
        j += 1
        act = act[seg_len[act] > j]
    return cum


def build_adjacency(graph: WalkGraph, type_weights: Mapping[str, float] | None = None) -> Adjacency:
    """CSR adjacency from the walk's graph: each stored edge joins both its ends, as walk_neighbors does.

    Per tool the entries are sorted by (neighbour, score, detail), the order ``walk.neighbourhood`` sorts
    in, and the weights of one neighbour's edges are added in that order, so every float is the same.
    """
    n, n_edges = len(graph.pool), len(graph.src)
    owner = np.concatenate([graph.src, graph.dst])
    cand = np.concatenate([graph.dst, graph.src])
    sc = np.concatenate([graph.score, graph.score])
    detail = detail_strings(graph)
    order = entry_order(owner, cand, sc, detail)
    owner, cand, sc = owner[order], cand[order], sc[order]
    if type_weights is None:
        contrib = sc
    else:
        by_kind = {k: type_weights.get(k, 1.0) for k in set(graph.kind)}
        tw1 = np.fromiter((by_kind[k] for k in graph.kind), dtype=np.float64, count=n_edges)
        contrib = sc * np.concatenate([tw1, tw1])[order]
    heads, weight = group_sums(owner, cand, contrib)
    last = np.append(heads[1:], len(owner)) - 1 if len(heads) else heads  # a group's recorded edge: its last
    start = np.searchsorted(owner[heads], np.arange(n + 1), side="left").astype(np.int64)
    return Adjacency(
        start=start,
        nbr=cand[heads],
        weight=weight,
        cum=running_sums(start, weight),
        best_score=sc[last],
        best_entry=order[last],
        detail_of=detail,
    )
