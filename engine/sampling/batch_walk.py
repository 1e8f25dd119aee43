"""The walk's draws vectorized over a whole batch, giving exactly the samples of the scalar walk.

Why: on a 47k-tool graph the scalar walk spent most of its time in Python per walker and step (a numpy
Generator per sample, a bisection per step, a pydantic model per edge) and in per-step lookups of a few
thousand neighbourhoods. Here:

  * the graph's walk edges come in one scan (``walk_graph``, walk_graph.py) when a batch would stand on a large part
    of it, and become one CSR adjacency over the start pool (adjacency.py): per tool, neighbours sorted by
    id, weights, running sums and the recorded edge — the very values ``walk.neighbourhood`` computes, in
    the same float operations, so draws land on the same neighbours;
  * every walker's random stream is computed for the batch at once (``streams.batch_streams``);
  * each round, the step of every walker that can step (an unvisited neighbour with weight) is one set
    of numpy operations over the batch: visited neighbours found by a segmented binary search, the draw
    ``u = random() · (total − visited weight)`` bisected into the running sums and pushed past visited
    neighbours exactly as ``walk.choose`` does;
  * the rare walker at a dead end (restart, jump, stop when strict) or with all-zero weights takes the
    scalar code of ``walk.py`` for that step, with its own stream, so it consumes the same draws.

tests/unit/sampling/test_golden.py pins the samples to those of the scalar sampler before this module existed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from toolflow.engine.models import EdgeTaken, Sample
from toolflow.engine.sampling.adjacency import Adjacency
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

BIG = np.iinfo(np.int64).max


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
        skip, nskip = self._visited_entries(active, s, e, deg)
        acc = np.zeros(len(active), dtype=np.float64)
        for j in range(self.max_tools):  # the visited neighbours' weight, added in their entries' order
            m = j < nskip
            if m.any():
                acc = np.where(m, acc + adj.weight[np.where(m, s + skip[:, j], 0)], acc)
        total = np.where(deg > 0, adj.cum[np.maximum(e - 1, 0)] if len(adj.cum) else 0.0, 0.0) - acc
        ok = in_pool & (deg > 0) & (nskip < deg) & (total > 0.0)
        slow = active[~ok].tolist()
        if ok.any():
            act, s = active[ok], s[ok]
            pos = self._draw(act, s, e[ok], deg[ok], skip[ok], nskip[ok], total[ok])
            self._step_all(act, s + pos)
        return slow

    def _visited_entries(
        self, active: np.ndarray, s: np.ndarray, e: np.ndarray, deg: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per walker, the positions (within its current tool's entries, ascending, padded with BIG) of the
        neighbours it visited already, found by a segmented binary search; and how many there are."""
        adj = self.adj
        cnt = self.count[active]
        skip = np.full((len(active), self.max_tools), BIG, dtype=np.int64)
        top = max(len(adj.nbr) - 1, 0)
        for j in range(self.max_tools):
            v = self.visited[active, j]
            valid = (j < cnt) & (deg > 0)
            if not valid.any():
                continue
            p = seg_bisect(adj.nbr, s, e, v, right=False)
            hit = valid & (p < e) & (adj.nbr[np.minimum(p, top)] == v) if len(adj.nbr) else np.zeros_like(valid)
            skip[:, j] = np.where(hit, p - s, BIG)
        skip.sort(axis=1)
        return skip, (skip < BIG).sum(axis=1)

    def _draw(self, act: np.ndarray, s: np.ndarray, e: np.ndarray, deg: np.ndarray, skip: np.ndarray,
              nskip: np.ndarray, total: np.ndarray) -> np.ndarray:
        """``walk.choose`` for every walker at once: ``u = random() · total`` bisected into the running sums and
        pushed past visited neighbours; returns the landing positions within each walker's entries."""
        adj = self.adj
        streams = self.streams
        r = np.fromiter((streams[b].random() for b in act.tolist()), dtype=np.float64, count=len(act))
        u = r * total
        pos = seg_bisect(adj.cum, s, e, u, right=True) - s
        for j in range(self.max_tools):  # each visited neighbour at or before the landing point pushes it one item on
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
        return pos

    def _step_all(self, act: np.ndarray, g: np.ndarray) -> None:
        """Walkers ``act`` move along neighbour entries ``g``."""
        nxt = self.adj.nbr[g]
        src = self.cur[act]
        self.visited[act, self.count[act]] = nxt
        self.count[act] += 1
        self.cur[act] = nxt
        for b, a, gi, t in zip(act.tolist(), src.tolist(), g.tolist(), nxt.tolist(), strict=True):
            self.paths[b].append(t)
            self.edges[b].append((a, gi))

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
