"""Graph random walks over the tool graph: the ToolFlow paper's Algorithm 1, batched and seeded.

Why it is shaped this way:
  * Batched: one ``walk_step`` query per step serves every walker of a batch (``UNWIND $walkers``), so
    the number of round trips grows with the walk length, not with the number of samples.
  * Reproducible: Cypher's ``rand()`` cannot be seeded, so the query only returns candidate edges; the
    draw happens here, over candidates sorted in Python, with one numpy generator per sample. Neo4j and
    the embedded store therefore give identical samples for the same graph and seed.
  * Never stuck: a walker whose current tool has no unvisited neighbour restarts from a visited tool that
    has one (found by the next batch query); if none has, it jumps to a random unvisited tool (an edge of
    type "JUMP", score 0), or, when ``strict``, stops with fewer tools.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
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


def edge_taken(row: dict[str, Any]) -> EdgeTaken:
    """The record of one step. FEEDS keeps the stored direction; symmetric types follow the walk."""
    fields = [f for f in (row["this_field"], row["other_field"]) if f is not None]
    src, dst = row["src"], row["cand"]
    if row["type"] in DIRECTED_TYPES and not row["out"]:
        src, dst = dst, src
        fields.reverse()
    return EdgeTaken(source=src, target=dst, type=row["type"], score=float(row["score"] or 0.0), fields=fields)


def choose_step(
    rows: list[dict[str, Any]], rng: np.random.Generator, weight: Callable[[str], float] | None = None
) -> dict[str, Any]:
    """Pick a neighbour in proportion to the summed score of the edges that join it, and return its best edge.

    Rows are sorted first, so the draw depends only on the graph and the generator, never on row order.
    """
    rows = sorted(rows, key=lambda r: (r["cand"], r["type"], not r["out"], -(r["score"] or 0.0)))
    cands: list[str] = []
    weights: list[float] = []
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        c, s = r["cand"], float(r["score"] or 0.0)
        if c not in best:
            cands.append(c)
            weights.append(0.0)
            best[c] = r
        elif s > float(best[c]["score"] or 0.0):
            best[c] = r
        weights[-1] += s
    if weight is not None:
        weights = [w * weight(c) for c, w in zip(cands, weights, strict=True)]
    return best[cands[weighted_index(rng, weights)]]


@dataclass
class _Walker:
    index: int
    rng: np.random.Generator
    target: int
    cur: str
    tool_ids: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    edges: list[EdgeTaken] = field(default_factory=list)
    stuck: bool = False
    done: bool = False

    def add(self, tool_id: str) -> None:
        self.tool_ids.append(tool_id)
        self.path.append(tool_id)
        self.cur = tool_id
        self.done = len(self.tool_ids) >= self.target

    def query_row(self, wid: int) -> dict[str, Any]:
        frm = [t for t in self.tool_ids if t != self.cur] if self.stuck else [self.cur]
        return {"wid": wid, "frm": frm, "visited": self.tool_ids}


class WalkSampler(Sampler):
    """Algorithm 1: random start, score-weighted steps to unvisited neighbours, stop at n tools.

    Starts and jumps are drawn from the tools that have at least one edge of the walk's types
    (``starts="connected"``): a walk begun on an isolated tool is a random sample with a JUMP in it. On
    ToolBench almost half the tools are isolated. ``starts="any"`` draws from every tool instead; with no
    connected tool at all both fall back to every tool.

    ``batch_size=1`` is the one-query-per-walker baseline the benchmark compares against. With
    ``coverage`` the starts, jumps and step weights fall as 1/(1+uses), so a long run spreads over the tool
    set instead of circling its hubs; uses update as walkers advance, so then a sample also depends on the
    batch size (without coverage it does not).
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
        self.steps = 0  # walk_step queries run (the round trips that scale with walk length)
        self._pool: list[str] | None = None

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
        weight = picker.weight if self.coverage else None
        active = [w for w in walkers if not w.done]
        while active:
            rows = self._run(
                "walk_step", {"walkers": [w.query_row(k) for k, w in enumerate(active)], "types": self.types}
            )
            self.steps += 1
            by_walker: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for r in rows:
                by_walker[r["wid"]].append(r)
            for k, w in enumerate(active):
                self._advance(w, by_walker.get(k, []), picker, weight)
            active = [w for w in active if not w.done]

    def _advance(
        self, w: _Walker, rows: list[dict[str, Any]], picker: ToolPicker, weight: Callable[[str], float] | None
    ) -> None:
        if not w.stuck:
            if rows:
                self._step(w, choose_step(rows, w.rng, weight), picker)
                return
            w.stuck = True
            if len(w.tool_ids) > 1:  # the next query looks for a restart among the other visited tools
                return
        by_src: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_src[r["src"]].append(r)
        restarts = [t for t in w.tool_ids if t in by_src]  # visit order: deterministic
        if restarts:
            src = restarts[int(w.rng.integers(len(restarts)))]
            w.path.append(src)
            self._step(w, choose_step(by_src[src], w.rng, weight), picker)
            return
        if self.strict:
            w.done = True
            return
        visited = set(w.tool_ids)
        nxt = picker.draw(w.rng, self.pool, exclude=visited)
        if nxt is None and self.pool is not self.tool_ids:  # the pool is used up: any tool will do
            nxt = picker.draw(w.rng, self.tool_ids, exclude=visited)
        if nxt is None:  # every tool is already in this sample
            w.done = True
            return
        w.edges.append(EdgeTaken(source=w.cur, target=nxt, type=JUMP, score=0.0))
        w.stuck = False
        w.add(nxt)
        picker.use(nxt)

    def _step(self, w: _Walker, row: dict[str, Any], picker: ToolPicker) -> None:
        w.edges.append(edge_taken(row))
        w.stuck = False
        w.add(row["cand"])
        picker.use(row["cand"])
