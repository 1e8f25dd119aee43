"""Graph random walks over the tool graph: the ToolFlow paper's Algorithm 1, batched and seeded.

Why it is shaped this way:
  * Batched: walkers advance in lock step, one tool per step, and one ``walk_neighbors`` query per step
    fetches the neighbourhoods of every tool the batch's walkers stand on (``UNWIND $ids``). Round trips
    therefore grow with the walk length, not with the number of samples. Neighbourhoods are kept for the
    sampler's lifetime, so later steps and batches query only tools no walker has stood on yet.
  * Reproducible: Cypher's ``rand()`` cannot be seeded, so the query only returns edges; the draw happens
    here over neighbours sorted in Python, with one numpy generator per sample. Neo4j and the embedded
    store give identical samples for the same graph and seed.
  * Never stuck: a walker whose current tool has no unvisited neighbour restarts from a visited tool that
    has one (its neighbourhood is already known); if none has, it jumps to a random unvisited tool (an edge
    of type "JUMP", score 0), or, when ``strict``, stops with fewer tools.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..models import EdgeTaken, Sample
from ..stores.base import TOOL_EDGE_TYPES, GraphStore
from .records import sample_id, sample_rng

DEFAULT_TYPES: tuple[str, ...] = ("FEEDS", "SHARES_INPUT")
DEFAULT_MIN_TOOLS = 2
DEFAULT_MAX_TOOLS = 5
DEFAULT_BATCH = 2048
JUMP = "JUMP"
#: Relations whose stored direction means something; their EdgeTaken keeps it (source feeds target).
DIRECTED_TYPES = frozenset({"FEEDS"})

Progress = Callable[[int], None]  # samples finished since the last call


class Sampler:
    """Common ground of all strategies: the store, the sorted tool ids, and a round-trip counter."""

    strategy: str = "base"

    def __init__(self, store: GraphStore, min_tools: int = DEFAULT_MIN_TOOLS, max_tools: int = DEFAULT_MAX_TOOLS):
        if not 1 <= min_tools <= max_tools:
            raise ValueError(f"need 1 <= min_tools <= max_tools, got {min_tools}..{max_tools}")
        self.store = store
        self.min_tools = min_tools
        self.max_tools = max_tools
        self.round_trips = 0
        self._tool_ids: list[str] | None = None

    def _run(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.round_trips += 1
        return self.store.run(name, params)

    @property
    def tool_ids(self) -> list[str]:
        """All tool ids, sorted in Python so that both stores agree on the order draws index into."""
        if self._tool_ids is None:
            self._tool_ids = sorted(r["id"] for r in self._run("walk_tool_ids"))
        return self._tool_ids

    def _size(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.min_tools, self.max_tools + 1))

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        raise NotImplementedError


class ToolPicker:
    """Draws a tool from a pool uniformly, or, with coverage, with weight 1/(1+uses) so rarely used tools come first.

    Rejection sampling (accept tool i with probability 1/(1+uses[i])) keeps a draw O(1) on 47k tools; after
    64 rejections it falls back to an exact draw over the explicit candidate list, which is the same law.
    """

    def __init__(self, coverage: bool = False) -> None:
        self.coverage = coverage
        self.uses: dict[str, int] = defaultdict(int)

    def use(self, tool_id: str) -> None:
        if self.coverage:
            self.uses[tool_id] += 1

    def weight(self, tool_id: str) -> float:
        return 1.0 / (1 + self.uses.get(tool_id, 0)) if self.coverage else 1.0

    def draw(self, rng: np.random.Generator, pool: Sequence[str], exclude: Collection[str] = ()) -> str | None:
        n = len(pool)
        if n == 0 or (len(exclude) >= n and all(t in exclude for t in pool)):
            return None
        for _ in range(64):
            t = pool[int(rng.integers(n))]
            if t in exclude:
                continue
            if self.coverage and rng.random() * (1 + self.uses.get(t, 0)) >= 1.0:
                continue
            return t
        cands = [t for t in pool if t not in exclude]
        return cands[weighted_index(rng, [self.weight(t) for t in cands])]


def weighted_index(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """Index drawn with probability proportional to weights (uniform if they are all zero)."""
    total = float(sum(weights))
    if total <= 0.0:
        return int(rng.integers(len(weights)))
    u = rng.random() * total
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


@dataclass(frozen=True)
class Neighbour:
    """A tool next to another: the summed score of the edges joining them, and the strongest edge."""

    cand: str
    weight: float
    edge: tuple[str, str, str, float, tuple[str, ...]]  # source, target, type, score, fields

    def taken(self) -> EdgeTaken:
        src, dst, kind, score, fields = self.edge
        return EdgeTaken(source=src, target=dst, type=kind, score=score, fields=list(fields))


#: One edge seen from a tool: (neighbour, type, score, stored as tool→neighbour, tool's field, neighbour's field).
EdgeRow = tuple[str, str, float, bool, str, str]


def edge_record(src: str, e: EdgeRow) -> tuple[str, str, str, float, tuple[str, ...]]:
    """FEEDS keeps the stored direction (source feeds target); symmetric types follow the walk."""
    cand, kind, score, out, this_field, other_field = e
    fields = [f for f in (this_field, other_field) if f]
    a, b = src, cand
    if kind in DIRECTED_TYPES and not out:
        a, b = b, a
        fields.reverse()
    return (a, b, kind, float(score or 0.0), tuple(fields))


def neighbours_from_edges(src: str, edges: Iterable[EdgeRow]) -> list[Neighbour]:
    """Edges of one tool → neighbours sorted by id, weight = sum of scores, edge = the strongest.

    Edges are sorted first, so weights and ties depend only on the graph, never on the order a store
    returned them in (float sums included).
    """
    rows = sorted(edges, key=lambda e: (e[0], -(e[2] or 0.0), e[1], not e[3], e[4], e[5]))
    out: list[Neighbour] = []
    i = 0
    while i < len(rows):
        j = i
        weight = 0.0
        while j < len(rows) and rows[j][0] == rows[i][0]:
            weight += float(rows[j][2] or 0.0)
            j += 1
        out.append(Neighbour(rows[i][0], weight, edge_record(src, rows[i])))
        i = j
    return out


def choose(
    neighbours: Sequence[Neighbour],
    visited: Collection[str],
    rng: np.random.Generator,
    weight: Callable[[str], float] | None = None,
) -> Neighbour | None:
    """An unvisited neighbour drawn in proportion to its edge weight (times the coverage weight, if any)."""
    cands = [nb for nb in neighbours if nb.cand not in visited]
    if not cands:
        return None
    if weight is None:
        return cands[weighted_index(rng, [nb.weight for nb in cands])]
    return cands[weighted_index(rng, [nb.weight * weight(nb.cand) for nb in cands])]


class NeighbourCache:
    """Neighbourhoods of tools over the walk's relationship types, fetched for many tools per query."""

    def __init__(self, run: Callable[[str, dict[str, Any]], list[dict[str, Any]]], types: list[str]) -> None:
        self._run = run
        self.types = types
        self.adj: dict[str, list[Neighbour]] = {}

    def fetch(self, ids: Iterable[str]) -> bool:
        """Load the tools not known yet in one round trip; returns whether a query ran."""
        missing = sorted({i for i in ids if i not in self.adj})
        if not missing:
            return False
        grouped: dict[str, list[EdgeRow]] = defaultdict(list)
        for r in self._run("walk_neighbors", {"ids": missing, "types": self.types}):
            cols = (r["cand"], r["type"], r["score"], r["out"], r["this_field"], r["other_field"])
            if len({len(c) for c in cols}) != 1:
                raise RuntimeError(f"walk_neighbors returned lists of different lengths for {r['src']!r}")
            grouped[r["src"]].extend(zip(*cols, strict=True))
        for i in missing:
            self.adj[i] = neighbours_from_edges(i, grouped.get(i, []))
        return True

    def __getitem__(self, tool_id: str) -> list[Neighbour]:
        return self.adj[tool_id]


@dataclass
class _Walker:
    index: int
    rng: np.random.Generator
    target: int
    cur: str
    tool_ids: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    path: list[str] = field(default_factory=list)
    edges: list[EdgeTaken] = field(default_factory=list)
    done: bool = False

    def add(self, tool_id: str) -> None:
        self.tool_ids.append(tool_id)
        self.visited.add(tool_id)
        self.path.append(tool_id)
        self.cur = tool_id
        self.done = len(self.tool_ids) >= self.target


class WalkSampler(Sampler):
    """Algorithm 1: random start, score-weighted steps to unvisited neighbours, stop at n tools.

    Starts and jumps are drawn from the tools that have at least one edge of the walk's types
    (``starts="connected"``): a walk begun on an isolated tool is a random sample with a JUMP in it, and on
    ToolBench almost half the tools are isolated. ``starts="any"`` draws from every tool instead; with no
    connected tool at all both fall back to every tool.

    ``batch_size=1, reuse_neighbors=False`` is the one-query-per-walker-per-step baseline the benchmark
    compares against. With ``coverage`` the starts, jumps and step weights fall as 1/(1+uses), so a long
    run spreads over the tool set instead of circling its hubs; uses update as walkers advance, so then a
    sample also depends on the batch size (without coverage it does not).
    """

    strategy = "walk"

    def __init__(
        self,
        store: GraphStore,
        min_tools: int = DEFAULT_MIN_TOOLS,
        max_tools: int = DEFAULT_MAX_TOOLS,
        types: Sequence[str] = DEFAULT_TYPES,
        coverage: bool = False,
        strict: bool = False,
        batch_size: int = DEFAULT_BATCH,
        starts: str = "connected",
        reuse_neighbors: bool = True,
    ) -> None:
        super().__init__(store, min_tools, max_tools)
        bad = [t for t in types if t not in TOOL_EDGE_TYPES]
        if bad or not types:
            raise ValueError(f"relationship types must be among {TOOL_EDGE_TYPES}, got {list(types)}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if starts not in ("connected", "any"):
            raise ValueError(f"starts must be 'connected' or 'any', got {starts!r}")
        self.types = sorted(set(types))
        self.coverage = coverage
        self.strict = strict
        self.batch_size = batch_size
        self.starts = starts
        self.reuse_neighbors = reuse_neighbors
        self.steps = 0  # walk_neighbors queries run (the round trips that scale with walk length)
        self._pool: list[str] | None = None
        self._cache = NeighbourCache(self._run, self.types)

    @property
    def pool(self) -> list[str]:
        """Sorted ids that walks start and jump from."""
        if self._pool is None:
            if self.starts == "connected":
                self._pool = sorted(r["id"] for r in self._run("walk_connected_ids", {"types": self.types}))
            self._pool = self._pool or self.tool_ids
        return self._pool

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        picker = ToolPicker(self.coverage)
        out: list[Sample] = []
        for start in range(0, n, self.batch_size):
            if not self.reuse_neighbors:
                self._cache.adj.clear()
            walkers = [self._start(picker, seed, i) for i in range(start, min(n, start + self.batch_size))]
            self._walk_batch(walkers, picker)
            out.extend(
                Sample(
                    id=sample_id(self.strategy, seed, w.index),
                    tool_ids=w.tool_ids,
                    path=w.path,
                    edges=w.edges,
                    strategy=self.strategy,
                    seed=seed,
                )
                for w in walkers
            )
            if progress:
                progress(len(walkers))
        return out

    def _start(self, picker: ToolPicker, seed: int, index: int) -> _Walker:
        rng = sample_rng(seed, self.strategy, index)
        target = self._size(rng)
        first = picker.draw(rng, self.pool)
        if first is None:  # an empty graph: an empty sample, never a hang
            return _Walker(index, rng, target, cur="", done=True)
        w = _Walker(index, rng, target, cur=first)
        w.add(first)
        picker.use(first)
        return w

    def _walk_batch(self, walkers: list[_Walker], picker: ToolPicker) -> None:
        """Lock step: each round, one query for the tools walkers stand on, then every walker adds one tool.

        Every tool a walker stood on before is already in the cache, so restarts need no query.
        """
        weight = picker.weight if self.coverage else None
        active = [w for w in walkers if not w.done]
        while active:
            if self._cache.fetch(w.cur for w in active):
                self.steps += 1
            for w in active:
                self._advance(w, picker, weight)
            active = [w for w in active if not w.done]

    def _advance(self, w: _Walker, picker: ToolPicker, weight: Callable[[str], float] | None) -> None:
        nb = choose(self._cache[w.cur], w.visited, w.rng, weight)
        if nb is None:
            restarts = [t for t in w.tool_ids if any(x.cand not in w.visited for x in self._cache[t])]
            if restarts:  # back to a visited tool that still has somewhere to go
                src = restarts[int(w.rng.integers(len(restarts)))]
                w.path.append(src)
                nb = choose(self._cache[src], w.visited, w.rng, weight)
        if nb is not None:
            w.edges.append(nb.taken())
            w.add(nb.cand)
            picker.use(nb.cand)
            return
        if self.strict:
            w.done = True
            return
        nxt = picker.draw(w.rng, self.pool, exclude=w.visited)
        if nxt is None and self.pool is not self.tool_ids:  # the pool is used up: any tool will do
            nxt = picker.draw(w.rng, self.tool_ids, exclude=w.visited)
        if nxt is None:  # every tool is already in this sample
            w.done = True
            return
        w.edges.append(EdgeTaken(source=w.cur, target=nxt, type=JUMP, score=0.0))
        w.add(nxt)
        picker.use(nxt)
