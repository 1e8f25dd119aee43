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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolflow.engine.models import EdgeTaken, Sample
from toolflow.engine.sampling.adjacency import build_adjacency
from toolflow.engine.sampling.batch_walk import BatchWalk
from toolflow.engine.sampling.neighbours import (
    JUMP,
    NeighbourCache,
    ToolPicker,
    choose,
    edge_record,
)
from toolflow.engine.sampling.records import sample_id, sample_rng, strategy_salt
from toolflow.engine.sampling.walk_cache import WALK_CACHE, PreparedWalk
from toolflow.engine.sampling.walk_graph import over_pool, read_walk_graph
from toolflow.engine.stores.base import TOOL_EDGE_TYPES, GraphStore

DEFAULT_TYPES: tuple[str, ...] = ("FEEDS", "SHARES_INPUT")
DEFAULT_MIN_TOOLS = 2
DEFAULT_MAX_TOOLS = 5
DEFAULT_BATCH = 2048
#: fetch="auto" loads every walk edge in one query when the first batch has at least this share of the start
#: pool's size in walkers: on a 47k-tool graph (22.9k in the pool) one scan of all 38k edges took 0.34 s
#: embedded / 0.37 s on Neo4j, the neighbourhoods of 2,000 tools 0.65 s / 1.5 s.
ALL_AT_ONCE_SHARE = 0.05
FETCH_MODES = ("auto", "all", "steps")
_UNKNOWN = object()  # a sampler's graph version before the store was asked

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
            self._tool_ids = sorted(i for r in self._run("walk_tool_ids") for i in r["ids"])
        return self._tool_ids

    def _size(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.min_tools, self.max_tools + 1))

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        raise NotImplementedError


@dataclass
class _Walker:
    index: int
    rng: np.random.Generator
    target: int
    cur: str
    tool_ids: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    path: list[str] = field(default_factory=list)
    edges: list[EdgeTaken | tuple[str, str]] = field(default_factory=list)  # (src, cand) until resolved
    done: bool = False

    def add(self, tool_id: str) -> None:
        self.tool_ids.append(tool_id)
        self.visited.add(tool_id)
        self.path.append(tool_id)
        self.cur = tool_id
        self.done = len(self.tool_ids) >= self.target


def balanced_weight(types: Sequence[str], mass: dict[str, float]) -> float:
    """The automatic FEEDS weight from the summed score per type (see ``WalkSampler.feeds_weight``)."""
    if not ("FEEDS" in types and "SHARES_INPUT" in types):
        return 1.0
    feeds, shares = mass.get("FEEDS", 0.0), mass.get("SHARES_INPUT", 0.0)
    # rounded: the stores sum floats in different orders, and the samples must not depend on it
    return max(1.0, round(shares / feeds, 2)) if feeds > 0 else 1.0


class WalkSampler(Sampler):
    """Algorithm 1: random start, score-weighted steps to unvisited neighbours, stop at n tools.

    Starts and jumps are drawn from the tools that have at least one edge of the walk's types
    (``starts="connected"``): a walk begun on an isolated tool is a random sample with a JUMP in it, and on
    ToolBench almost half the tools are isolated. ``starts="any"`` draws from every tool instead; with no
    connected tool at all both fall back to every tool.

    ``batch_size=1, reuse_neighbors=False`` is the one-query-per-walker-per-step baseline the benchmark
    compares against. ``fetch`` chooses how neighbourhoods arrive: "all" = one scan of every walk edge
    and draws vectorized over the batch (batch_walk.py), "steps" = one lookup per step for the tools not
    seen yet and scalar draws, "auto" = "all" for large batches (``_vectorized``). Both give the same samples.
    The whole graph, once read, is kept per store and graph version (walk_cache.py): a later sampler on the
    same build reads no edges. With ``coverage`` the starts, jumps and step weights fall as 1/(1+uses), so a long
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
        fetch: str = "auto",
        feeds_weight: float | str = "auto",
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
        if fetch not in FETCH_MODES:
            raise ValueError(f"fetch must be one of {FETCH_MODES}, got {fetch!r}")
        self.fetch = fetch
        if feeds_weight != "auto" and not (isinstance(feeds_weight, int | float) and feeds_weight > 0):
            raise ValueError(f"feeds_weight must be 'auto' or a number > 0, got {feeds_weight!r}")
        self.feeds_weight_option = feeds_weight
        self._feeds_weight: float | None = None
        self._adjacency: Any = None  # adjacency.Adjacency once the whole graph's walk edges are loaded
        self.steps = 0  # walk_neighbors queries run (the round trips that scale with walk length)
        self._pool: list[str] | None = None
        self._version: object = _UNKNOWN  # the store's graph version once asked (None: it cannot tell)
        self._cache = NeighbourCache(self._run, self.types)

    @property
    def pool(self) -> list[str]:
        """Sorted ids that walks start and jump from."""
        if self._pool is None:
            if self.starts == "connected":
                rows = self._run("walk_connected_ids", {"types": self.types})
                self._pool = sorted(i for r in rows for i in r["ids"])
            self._pool = self._pool or self.tool_ids
        return self._pool

    @property
    def feeds_weight(self) -> float:
        """The factor on FEEDS edge scores in every step's draw (SHARES_INPUT and SIMILAR keep theirs).

        ``"auto"`` (the default) balances the two relations the walk mixes: W = (summed score of the
        SHARES_INPUT edges) / (summed score of the FEEDS edges) over the whole graph, at least 1, so that
        the FEEDS candidates of all tools together carry as much mass as the SHARES_INPUT ones. On a graph
        where shared inputs outnumber data flows the walk then prefers data flow where a tool has both, and
        still follows shared inputs where it has only those; as the graph gains FEEDS edges W falls towards
        1 by itself. Measured on the 7 raw ToolBench categories (566 FEEDS, 9,399 SHARES_INPUT edges):
        W = 18.12, consecutive pairs joined by FEEDS 8.7% → 16.0%, FEEDS chains 2.5% → 5.3%, distinct
        shared-input pairs walked 1,897 → 1,752; no weight can pass 19.2% there (W = 1000). A number fixes W (1 = the
        scores alone, the walk of earlier versions). One aggregate query, only with both types walked;
        the ratio is rounded to two decimals so that both stores' float sums give the same weight.
        """
        if self._feeds_weight is None:
            opt = self.feeds_weight_option
            if opt != "auto":
                self._feeds_weight = float(opt)
            elif "FEEDS" in self.types and "SHARES_INPUT" in self.types:
                rows = self._run("walk_type_mass", {"types": ["FEEDS", "SHARES_INPUT"]})
                self._feeds_weight = balanced_weight(self.types, {r["type"]: float(r["mass"] or 0.0) for r in rows})
            else:
                self._feeds_weight = 1.0
        return self._feeds_weight

    @property
    def type_weights(self) -> dict[str, float] | None:
        w = self.feeds_weight
        return None if w == 1.0 else {"FEEDS": w}

    def _vectorized(self, n: int) -> bool:
        """Whole-graph load and vectorized draws: without coverage (its weights change walker by walker),
        with neighbour reuse, and (``fetch="auto"``) when the first batch would stand on at least
        ``ALL_AT_ONCE_SHARE`` of the start pool, where one scan of every walk edge beats per-step lookups,
        or whatever its size when the graph is prepared in the cache already (no scan then).
        The pool is at most the tool count, so a batch that large against the count needs no pool query."""
        if self.coverage or not self.reuse_neighbors or self.fetch == "steps":
            return False
        if self._adjacency is not None or self._from_cache():
            return True
        wanted, count = min(n, self.batch_size), self.tool_count()
        if count == 0:
            return False
        if self.fetch == "all" or (self._pool is None and wanted >= ALL_AT_ONCE_SHARE * count):
            return True
        return bool(self.pool) and wanted >= ALL_AT_ONCE_SHARE * len(self.pool)

    def tool_count(self) -> int:
        """How many tools the graph holds (one count, no ids carried)."""
        if self._tool_ids is not None:
            return len(self._tool_ids)
        return sum(int(r["n"]) for r in self._run("count_tools"))

    def adjacency(self) -> Any:
        """The CSR adjacency of the start pool over the walk's types: from the process's cache when this graph
        version was prepared before (walk_cache.py), else loaded with one query (``walk_graph``), which also
        gives the tool ids, the pool and the automatic FEEDS weight when they are not known yet."""
        if self._adjacency is None:
            self._use(WALK_CACHE.get_or_prepare(self.store, self._graph_version(), self._cache_key(), self._prepare))
        return self._adjacency

    def _graph_version(self) -> str | None:
        """The store's graph version, asked once per sampler (a sampler keeps the graph it first read)."""
        if self._version is _UNKNOWN:
            self.round_trips += 1
            self._version = self.store.graph_version()
        return self._version  # type: ignore[return-value]

    def _cache_key(self) -> tuple[Any, ...]:
        """The options that shape the prepared graph (a FEEDS weight already computed is one of them)."""
        return (tuple(self.types), self.starts, self.feeds_weight_option, self._feeds_weight)

    def _from_cache(self) -> bool:
        """Take the prepared graph from the cache if this graph version has one: no graph read at all."""
        hit = WALK_CACHE.get(self.store, self._graph_version(), self._cache_key())
        if hit is not None:
            self._use(hit)
        return hit is not None

    def _prepare(self) -> PreparedWalk:
        """Read the walk's whole graph (one ``walk_graph`` query) and build its adjacency."""
        graph = read_walk_graph(self._run("walk_graph", {"types": self.types}))
        self.steps += 1
        tool_ids = self._tool_ids if self._tool_ids is not None else graph.tool_ids
        pool = self._pool if self._pool is not None else (graph.pool if self.starts == "connected" else []) or tool_ids
        if pool != graph.pool:  # starts="any", or no edges at all: positions in the larger pool
            graph = over_pool(graph, pool)
        weight = self._feeds_weight
        if weight is None:
            opt = self.feeds_weight_option
            weight = balanced_weight(self.types, graph.mass) if opt == "auto" else float(opt)
        adj = build_adjacency(graph, None if weight == 1.0 else {"FEEDS": weight})
        return PreparedWalk(tool_ids=tool_ids, pool=pool, feeds_weight=weight, adjacency=adj)

    def _use(self, prepared: PreparedWalk) -> None:
        self._tool_ids = self._tool_ids if self._tool_ids is not None else prepared.tool_ids
        self._pool = self._pool if self._pool is not None else prepared.pool
        self._feeds_weight = self._feeds_weight if self._feeds_weight is not None else prepared.feeds_weight
        self._adjacency = prepared.adjacency

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        if self._vectorized(n):
            return self._sample_vectorized(n, seed, progress)
        self._cache.type_weights = self.type_weights
        picker = ToolPicker(self.coverage)
        out: list[Sample] = []
        for start in range(0, n, self.batch_size):
            if not self.reuse_neighbors:
                self._cache.adj.clear()
            walkers = [self._start(picker, seed, i) for i in range(start, min(n, start + self.batch_size))]
            self._walk_batch(walkers, picker)
            self._resolve_edges(walkers)
            out.extend(
                Sample(
                    id=sample_id(self.strategy, seed, w.index),
                    tool_ids=w.tool_ids,
                    path=w.path,
                    edges=w.edges,  # type: ignore[arg-type]  # resolved above
                    strategy=self.strategy,
                    seed=seed,
                )
                for w in walkers
            )
            if progress:
                progress(len(walkers))
        return out

    def _sample_vectorized(self, n: int, seed: int, progress: Progress | None) -> list[Sample]:
        adj = self.adjacency()
        self._cache.type_weights = self.type_weights  # the walk_edges fallback records edges by raw score alone
        out: list[Sample] = []
        for start in range(0, n, self.batch_size):
            batch = BatchWalk(
                adj, self.pool, lambda: self.tool_ids, strategy=self.strategy, salt=strategy_salt(self.strategy),
                seed=seed, indices=range(start, min(n, start + self.batch_size)), min_tools=self.min_tools,
                max_tools=self.max_tools, strict=self.strict, resolve=self._cache.edges,
            )
            samples = batch.run()
            out.extend(samples)
            if progress:
                progress(len(samples))
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
        src = w.cur
        k = choose(self._cache[src], w.visited, w.rng, weight)
        if k is None:
            restarts = [t for t in w.tool_ids if any(c not in w.visited for c in self._cache[t][0])]
            if restarts:  # back to a visited tool that still has somewhere to go
                src = restarts[int(w.rng.integers(len(restarts)))]
                w.path.append(src)
                k = choose(self._cache[src], w.visited, w.rng, weight)
        if k is not None:
            nxt = self._cache[src][0][k]
            w.edges.append(self._cache.taken(src, k))
            w.add(nxt)
            picker.use(nxt)
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

    def _resolve_edges(self, walkers: list[_Walker]) -> None:
        """Swap the rare (src, cand) placeholders for their recorded edge: one query for the whole batch."""
        pending = [e for w in walkers for e in w.edges if isinstance(e, tuple)]
        if not pending:
            return
        taken = self._cache.edges(pending)
        for w in walkers:
            w.edges = [edge_record(e[0], e[1], taken[e]) if isinstance(e, tuple) else e for e in w.edges]
