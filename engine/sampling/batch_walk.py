"""The walk's draws vectorized over a whole batch, giving exactly the samples of the scalar walk.

Why: on a 47k-tool graph the scalar walk spent most of its time in Python per walker and step (a numpy
Generator per sample, a bisection per step, a pydantic model per edge) and in per-step lookups of a few
thousand neighbourhoods. Here:

  * the graph's walk edges come in one scan (``walk_graph``, walk_graph.py) when a batch would stand on a large part
    of it, and become one CSR adjacency over the start pool (``Adjacency``): per tool, neighbours sorted by
    id, weights, running sums and the recorded edge — the very values ``walk.neighbourhood`` computes, in
    the same float operations, so draws land on the same neighbours;
  * every walker's random stream is computed for the batch at once (``streams.batch_streams``);
  * each round, the step of every walker that can step (an unvisited neighbour with weight) is one set
    of numpy operations over the batch: visited neighbours found by a segmented binary search, the draw
    ``u = random() · (total − visited weight)`` bisected into the running sums and pushed past visited
    neighbours exactly as ``walk.choose`` does;
  * the rare walker at a dead end (restart, jump, stop when strict) or with all-zero weights takes the
    scalar code of ``walk.py`` for that step, with its own stream, so it consumes the same draws.

tests/test_sampling_golden.py pins the samples to those of the scalar sampler before this module existed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolflow.engine.models import EdgeTaken, Sample
from toolflow.engine.sampling.neighbours import (
    DIRECTED_TYPES,
    JUMP,
    EdgeRow,
    Neighbourhood,
    ToolPicker,
    choose,
    edge_record,
    parse_detail,
)
from toolflow.engine.sampling.records import sample_id
from toolflow.engine.sampling.streams import Stream, batch_streams
from toolflow.engine.sampling.walk_graph import WalkGraph

BIG = np.iinfo(np.int64).max


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


def build_adjacency(graph: WalkGraph, type_weights: Mapping[str, float] | None = None) -> Adjacency:
    """CSR adjacency from the walk's graph: each stored edge joins both its ends, as walk_neighbors does.

    Per tool the entries are sorted by (neighbour, score, detail), the order ``walk.neighbourhood`` sorts
    in, and the weights of one neighbour's edges are added in that order, so every float is the same.
    """
    n, n_edges = len(graph.pool), len(graph.src)
    kind, fa, fb = graph.kind, graph.field_a, graph.field_b
    a, b = graph.src, graph.dst
    owner = np.concatenate([a, b])
    cand = np.concatenate([b, a])
    sc = np.concatenate([graph.score, graph.score])
    weights = type_weights or {}
    by_kind = {k: weights.get(k, 1.0) for k in set(kind)}
    tw1 = np.fromiter((by_kind[k] for k in kind), dtype=np.float64, count=n_edges)
    tw = np.concatenate([tw1, tw1])

    def detail(i: int) -> str:
        """Entry i's detail string: the stored direction for the first n_edges entries, the reverse after."""
        if i < n_edges:
            return f"{kind[i]}|1|{fa[i]}|{fb[i]}"
        j = i - n_edges
        return f"{kind[j]}|0|{fb[j]}|{fa[j]}"

    # Sorted by (owner, neighbour, score, detail). The numbers sort in numpy; the detail string only breaks
    # ties of all three, which are rare, so it is built for those runs and for the recorded edges alone
    # (formatting and sorting 640k strings was half of this function on the full ToolBench graph).
    order = np.lexsort((sc, cand, owner))  # stable: full ties keep the rows' order, as before
    o, c, v = owner[order], cand[order], sc[order]
    tie = (o[1:] == o[:-1]) & (c[1:] == c[:-1]) & (v[1:] == v[:-1])
    if tie.any():  # runs of equal (owner, neighbour, score): order them by detail
        bounds = np.flatnonzero(np.diff(np.concatenate([[0], tie.astype(np.int8), [0]])))
        for lo, hi in zip(bounds[0::2].tolist(), (bounds[1::2] + 1).tolist(), strict=True):
            order[lo:hi] = sorted(order[lo:hi].tolist(), key=detail)  # stable, as lexsort was
    owner, cand, sc, tw = owner[order], cand[order], sc[order], tw[order]
    contrib = sc if type_weights is None else sc * tw
    # one entry per (owner, neighbour): weights added in sorted order; the last edge of a group is recorded
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
    last = ends - 1
    g_owner = owner[heads]
    start = np.searchsorted(g_owner, np.arange(n + 1), side="left").astype(np.int64)
    cum = weight.copy()
    seg_len = np.diff(start)
    # sequential sums, as itertools.accumulate; each round only over the tools with that many neighbours
    # (a pass over every tool per round cost O(tools × largest degree): most of this function on ToolBench)
    act, j = np.flatnonzero(seg_len > 1), 1
    while len(act):
        idx = start[act] + j
        cum[idx] = cum[idx - 1] + weight[idx]
        j += 1
        act = act[seg_len[act] > j]
    return Adjacency(
        start=start,
        nbr=cand[heads],
        weight=weight,
        cum=cum,
        best_score=sc[last],
        best_entry=order[last],
        detail_of=detail,
    )


def seg_bisect(arr: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray, right: bool) -> np.ndarray:
    """``bisect.bisect_right`` (or ``_left``) of x[k] in arr[lo[k]:hi[k]] for every k at once (absolute index)."""
    lo = lo.copy()
    hi = hi.copy()
    top = len(arr) - 1
    while True:
        m = lo < hi
        if not m.any():
            return lo
        mid = (lo + hi) >> 1
        v = arr[np.minimum(mid, top)]
        go = (v <= x) if right else (v < x)
        lo = np.where(m & go, mid + 1, lo)
        hi = np.where(m & ~go, mid, hi)


class BatchWalk:
    """One batch of walkers advanced in lock step; ``run()`` returns their samples in index order."""

    def __init__(
        self,
        adj: Adjacency,
        pool: list[str],
        all_tools: Callable[[], list[str]],
        *,
        strategy: str,
        salt: int,
        seed: int,
        indices: range,
        min_tools: int,
        max_tools: int,
        strict: bool,
        resolve: Callable[[list[tuple[str, str]]], dict[tuple[str, str], EdgeRow]],
    ) -> None:
        self.adj = adj
        self.pool = pool
        self.all_tools = all_tools
        self.strategy = strategy
        self.seed = seed
        self.indices = indices
        self.min_tools, self.max_tools = min_tools, max_tools
        self.strict = strict
        self.resolve = resolve
        self.npool = len(pool)
        self.extra: list[str] = []  # tools outside the pool a walker jumped to (no edges of the walk's types)
        self.extra_index: dict[str, int] = {}
        self.pool_index: dict[str, int] | None = None
        self.picker = ToolPicker(False)
        self.streams: list[Stream] = batch_streams(seed, salt, indices, blocks=1 + (max_tools + 4) // 4)

    def name(self, i: int) -> str:
        return self.pool[i] if i < self.npool else self.extra[i - self.npool]

    def index_of(self, tool_id: str) -> int:
        if self.pool_index is None:
            self.pool_index = {t: i for i, t in enumerate(self.pool)}
        i = self.pool_index.get(tool_id)
        if i is not None:
            return i
        if tool_id not in self.extra_index:
            self.extra_index[tool_id] = self.npool + len(self.extra)
            self.extra.append(tool_id)
        return self.extra_index[tool_id]

    def nbh(self, i: int) -> Neighbourhood:
        return self.adj.neighbourhood(i, self.pool) if i < self.npool else ([], [], [], [])

    def run(self) -> list[Sample]:
        """The batch's samples. The cyclic GC is paused meanwhile: the batch allocates ~10 acyclic objects per
        sample, and each collection it triggers rescans every live object (the adjacency, the caller's data);
        measured on 10k samples over a 47k-tool graph, that was a third of the time."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> list[Sample]:
        streams = self.streams
        b_n = len(streams)
        size = np.fromiter((s.integers(self.min_tools, self.max_tools + 1) for s in streams), dtype=np.int64, count=b_n)
        first = np.fromiter((s.integers(self.npool) for s in streams), dtype=np.int64, count=b_n)
        self.visited = np.full((b_n, self.max_tools), -1, dtype=np.int64)
        self.visited[:, 0] = first
        self.count = np.ones(b_n, dtype=np.int64)
        self.cur = first.copy()
        self.size = size
        self.stopped = np.zeros(b_n, dtype=bool)
        self.paths: list[list[int]] = [[f] for f in first.tolist()]
        self.edges: list[list[Any]] = [[] for _ in range(b_n)]
        active = np.flatnonzero(self.count < size)
        while len(active):
            slow = self._vector_step(active)
            for b in slow:
                self._scalar_step(b)
            active = active[(self.count[active] < self.size[active]) & ~self.stopped[active]]
        return self._samples()

    def _vector_step(self, active: np.ndarray) -> list[int]:
        """Advance every walker whose ``choose`` is a plain draw; return the others (scalar this step)."""
        adj = self.adj
        cur = self.cur[active]
        in_pool = cur < self.npool
        safe = np.where(in_pool, cur, 0)
        s = np.where(in_pool, adj.start[safe], 0)
        e = np.where(in_pool, adj.start[safe + 1], 0)
        deg = e - s
        cnt = self.count[active]
        t_n = self.max_tools
        skip = np.full((len(active), t_n), BIG, dtype=np.int64)
        top = max(len(adj.nbr) - 1, 0)
        for j in range(t_n):
            v = self.visited[active, j]
            valid = (j < cnt) & (deg > 0)
            if not valid.any():
                continue
            p = seg_bisect(adj.nbr, s, e, v, right=False)
            hit = valid & (p < e) & (adj.nbr[np.minimum(p, top)] == v) if len(adj.nbr) else np.zeros_like(valid)
            skip[:, j] = np.where(hit, p - s, BIG)
        skip.sort(axis=1)
        nskip = (skip < BIG).sum(axis=1)
        acc = np.zeros(len(active), dtype=np.float64)
        for j in range(t_n):
            m = j < nskip
            if m.any():
                acc = np.where(m, acc + adj.weight[np.where(m, s + skip[:, j], 0)], acc)
        total = np.where(deg > 0, adj.cum[np.maximum(e - 1, 0)] if len(adj.cum) else 0.0, 0.0) - acc
        ok = in_pool & (deg > 0) & (nskip < deg) & (total > 0.0)
        slow = active[~ok].tolist()
        if not ok.any():
            return slow
        act, s, e, deg, skip, nskip, total = active[ok], s[ok], e[ok], deg[ok], skip[ok], nskip[ok], total[ok]
        streams = self.streams
        r = np.fromiter((streams[b].random() for b in act.tolist()), dtype=np.float64, count=len(act))
        u = r * total
        pos = seg_bisect(adj.cum, s, e, u, right=True) - s
        for j in range(t_n):  # each visited neighbour at or before the landing point pushes it one item on
            sk = skip[:, j]
            m = (j < nskip) & (sk <= pos)
            if m.any():
                u = np.where(m, u + adj.weight[np.where(m, s + sk, 0)], u)
                pos = np.where(m, seg_bisect(adj.cum, s, e, u, right=True) - s, pos)
        while True:  # float edge: land on a real candidate
            inside = pos < deg
            g = np.where(inside, s + pos, 0)
            bump = inside & ((skip == pos[:, None]).any(axis=1) | (adj.weight[g] == 0.0))
            if not bump.any():
                break
            pos = pos + bump
        for k in np.flatnonzero(pos >= deg).tolist():
            taken = set(skip[k, : nskip[k]].tolist())
            pos[k] = max(i for i in range(int(deg[k])) if i not in taken)
        g = s + pos
        nxt = adj.nbr[g]
        src = self.cur[act]
        self.visited[act, self.count[act]] = nxt
        self.count[act] += 1
        self.cur[act] = nxt
        for b, a, gi, t in zip(act.tolist(), src.tolist(), g.tolist(), nxt.tolist(), strict=True):
            self.paths[b].append(t)
            self.edges[b].append((a, gi))
        return slow

    def _scalar_step(self, b: int) -> None:
        """``WalkSampler._advance`` for one walker: restarts, jumps, strict stops and zero weights."""
        rng = self.streams[b]
        tools = self.visited[b, : self.count[b]].tolist()
        visited = {self.name(i) for i in tools}
        src = int(self.cur[b])
        k = choose(self.nbh(src), visited, rng)  # type: ignore[arg-type]
        if k is None:
            restarts = [t for t in tools if self._has_unvisited(t, tools)]
            if restarts:
                src = restarts[rng.integers(len(restarts))]
                self.paths[b].append(src)
                k = choose(self.nbh(src), visited, rng)  # type: ignore[arg-type]
        if k is not None:
            g = int(self.adj.start[src]) + k
            self._add(b, int(self.adj.nbr[g]), (src, g))
            return
        if self.strict:
            self.stopped[b] = True
            return
        nxt = self.picker.draw(rng, self.pool, exclude=visited)  # type: ignore[arg-type]
        if nxt is None:
            everything = self.all_tools()
            if everything is not self.pool:
                nxt = self.picker.draw(rng, everything, exclude=visited)  # type: ignore[arg-type]
        if nxt is None:
            self.stopped[b] = True
            return
        cur_name = self.name(int(self.cur[b]))
        self._add(b, self.index_of(nxt), EdgeTaken(source=cur_name, target=nxt, type=JUMP, score=0.0))

    def _has_unvisited(self, t: int, tools: list[int]) -> bool:
        """Whether tool t has a neighbour outside ``tools`` (neighbours are distinct, so count the visited)."""
        if t >= self.npool:
            return False
        s, e = int(self.adj.start[t]), int(self.adj.start[t + 1])
        if e - s > len(tools):
            return True
        return e - s > len(set(self.adj.nbr[s:e].tolist()).intersection(tools))

    def _add(self, b: int, t: int, edge: Any) -> None:
        self.visited[b, self.count[b]] = t
        self.count[b] += 1
        self.cur[b] = t
        self.paths[b].append(t)
        self.edges[b].append(edge)

    def _samples(self) -> list[Sample]:
        adj = self.adj
        names = self.pool + self.extra if self.extra else self.pool
        nbr = adj.nbr.tolist()
        best_score = adj.best_score.tolist()
        visited = self.visited.tolist()
        count = self.count.tolist()
        pending: list[tuple[str, str]] = []

        def record(a: int, g: int) -> EdgeTaken | tuple[str, str]:
            src, cand = names[a], names[nbr[g]]
            parts = parse_detail(adj.best_detail(g))
            if parts is None:
                pending.append((src, cand))
                return (src, cand)
            kind, out, this_field, other_field = parts
            fields = [f for f in (this_field, other_field) if f]
            if kind in DIRECTED_TYPES and not out:
                src, cand = cand, src
                fields.reverse()
            return EdgeTaken(source=src, target=cand, type=kind, score=best_score[g], fields=fields)

        out_edges: list[list[EdgeTaken | tuple[str, str]]] = []
        for edges in self.edges:
            rec: list[EdgeTaken | tuple[str, str]] = []
            for e in edges:
                if isinstance(e, EdgeTaken):
                    rec.append(e)
                    continue
                rec.append(record(*e))
            out_edges.append(rec)
        taken = self.resolve(sorted(set(pending))) if pending else {}
        samples = []
        strategy, seed = self.strategy, self.seed
        for i, index in enumerate(self.indices):
            edges = [edge_record(e[0], e[1], taken[e]) if isinstance(e, tuple) else e for e in out_edges[i]]
            samples.append(
                Sample(
                    id=sample_id(strategy, seed, index),
                    tool_ids=[names[t] for t in visited[i][: count[i]]],
                    path=[names[t] for t in self.paths[i]],
                    edges=edges,
                    strategy=strategy,
                    seed=seed,
                )
            )
        return samples
