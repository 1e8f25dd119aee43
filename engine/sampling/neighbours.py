"""The pieces of one walk step: neighbourhoods (candidates weighted by summed edge scores), the seeded
weighted draw, start/jump picking with optional coverage weights, and the per-run neighbour cache.

Pure functions over query rows; the walk itself (batches, restarts, jumps) is in
:mod:`toolflow.engine.sampling.walk`, the vectorized batch draw in :mod:`toolflow.engine.sampling.batch_walk`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from toolflow.engine.models import EdgeTaken

#: Relations whose stored direction means something; their EdgeTaken keeps it (source feeds target).
DIRECTED_TYPES = frozenset({"FEEDS"})
#: The EdgeTaken type of a step that left a dead end for a random tool (no edge was followed).
JUMP = "JUMP"


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


#: One stored edge between two tools as the details query returns it:
#: (type, score, stored as src→cand, src's field, cand's field). Fields are '' when the edge has none.
EdgeRow = tuple[str, float, bool, str, str]


def edge_record(src: str, cand: str, e: EdgeRow) -> EdgeTaken:
    """FEEDS keeps the stored direction (source feeds target); symmetric types follow the walk."""
    kind, score, out, this_field, other_field = e
    fields = [f for f in (this_field, other_field) if f]
    a, b = src, cand
    if kind in DIRECTED_TYPES and not out:
        a, b = b, a
        fields.reverse()
    return EdgeTaken(source=a, target=b, type=kind, score=float(score or 0.0), fields=fields)


def detail_of(e: EdgeRow) -> str:
    """The detail string walk_neighbors packs for an edge (the tie-break key, so both paths agree)."""
    kind, _, out, this_field, other_field = e
    return f"{kind}|{'1' if out else '0'}|{this_field}|{other_field}"


def best_edge(rows: Iterable[EdgeRow]) -> EdgeRow:
    """The edge recorded for a step: highest score, then the largest detail string (as ``neighbourhood``)."""
    return max(rows, key=lambda e: (float(e[1] or 0.0), detail_of(e)))


#: A tool's neighbourhood, aligned lists sorted by neighbour id: the neighbours, the summed score of the
#: edges joining each, the strongest of those edges as (score, detail) (see ``parse_detail``), and the
#: running sum of the weights (so a draw is a bisection, not a pass over a hub's 200 neighbours).
Neighbourhood = tuple[list[str], list[float], list[tuple[float, str]], list[float]]


def neighbourhood(
    cands: Iterable[str],
    scores: Iterable[float],
    details: Iterable[str],
    type_weights: Mapping[str, float] | None = None,
) -> Neighbourhood:
    """Edges of one tool (any order) → neighbours sorted by id, weighted by the sum of their edge scores.

    Sorting first makes the weights (float sums included) and the recorded edge (the highest score, then
    the largest detail: the last of its group) depend only on the graph, not on the order a store
    returned the edges in. ``type_weights`` multiplies each edge's score by its type's weight (the walk's
    FEEDS weight); the recorded edge is still chosen by raw score.
    """
    ids: list[str] = []
    weights: list[float] = []
    best: list[tuple[float, str]] = []
    last = None
    for c, sc, d in sorted(zip(cands, scores, details, strict=True)):
        w = sc if type_weights is None else sc * type_weights.get(d.split("|", 1)[0], 1.0)
        if c == last:
            weights[-1] += w
            best[-1] = (sc, d)
        else:
            ids.append(c)
            weights.append(w)
            best.append((sc, d))
            last = c
    return ids, weights, best, list(accumulate(weights))


def parse_detail(detail: str) -> tuple[str, bool, str, str] | None:
    """'TYPE|1|src_field|cand_field' (1 = stored src→cand) → parts; None if a field name holds a '|'."""
    parts = detail.split("|")
    if len(parts) != 4:
        return None
    return parts[0], parts[1] == "1", parts[2], parts[3]


def choose(
    nbh: Neighbourhood,
    visited: Collection[str],
    rng: np.random.Generator,
    weight: Callable[[str], float] | None = None,
) -> int | None:
    """Index of an unvisited neighbour drawn in proportion to its edge weight (times the coverage weight).

    Without coverage weights the draw bisects the running sums and steps over the few visited
    neighbours; with them it weighs every unvisited neighbour afresh.
    """
    ids, weights, _, cum = nbh
    if weight is not None:
        keep = [i for i, c in enumerate(ids) if c not in visited]
        if not keep:
            return None
        return keep[weighted_index(rng, [weights[i] * weight(ids[i]) for i in keep])]
    skip = sorted(i for i in (_position(ids, v) for v in visited) if i is not None)
    if len(skip) == len(ids):
        return None
    total = (cum[-1] if cum else 0.0) - sum(weights[i] for i in skip)
    if total <= 0.0:  # all remaining weights are zero: uniform over the unvisited
        free = [i for i in range(len(ids)) if i not in skip]
        return free[int(rng.integers(len(free)))]
    u = rng.random() * total
    pos = bisect_right(cum, u)
    for i in skip:  # each visited neighbour at or before the landing point pushes it one item on
        if i <= pos:
            u += weights[i]
            pos = bisect_right(cum, u)
    while pos < len(ids) and (pos in skip or weights[pos] == 0.0):  # float edge: land on a real candidate
        pos += 1
    if pos >= len(ids):
        pos = max(i for i in range(len(ids)) if i not in skip)
    return pos


def _position(ids: list[str], tool_id: str) -> int | None:
    i = bisect_left(ids, tool_id)
    return i if i < len(ids) and ids[i] == tool_id else None


class NeighbourCache:
    """Neighbourhoods of tools over the walk's relationship types, fetched for many tools per query.

    Per edge only three values travel: neighbour id, score, and one detail string packing type, direction
    and fields (the Bolt driver's cost is per value: 3 instead of 6 halves the transfer). A field name with
    a '|' in it makes the detail ambiguous; those few edges are looked up with ``walk_edges`` instead.
    """

    def __init__(self, run: Callable[[str, dict[str, Any]], list[dict[str, Any]]], types: list[str]) -> None:
        self._run = run
        self.types = types
        self.adj: dict[str, Neighbourhood] = {}
        self.type_weights: Mapping[str, float] | None = None  # set by the sampler before the first fetch

    def fetch(self, ids: Iterable[str]) -> bool:
        """Load the tools not known yet in one round trip; returns whether a query ran."""
        missing = sorted({i for i in ids if i not in self.adj})
        if not missing:
            return False
        cols: dict[str, tuple[list[str], list[float], list[str]]] = {}
        for r in self._run("walk_neighbors", {"ids": missing, "types": self.types}):
            if not len(r["cand"]) == len(r["score"]) == len(r["detail"]):
                raise RuntimeError(f"walk_neighbors returned lists of different lengths for {r['src']!r}")
            c, sc, d = cols.setdefault(r["src"], ([], [], []))
            c.extend(r["cand"])
            sc.extend(r["score"])
            d.extend(r["detail"])
        for i in missing:
            self.adj[i] = neighbourhood(*cols.get(i, ([], [], [])), type_weights=self.type_weights)
        return True

    def taken(self, src: str, k: int) -> EdgeTaken | tuple[str, str]:
        """The record of a step from src to its k-th neighbour; (src, cand) when only a query can tell."""
        ids, _, best, _ = self.adj[src]
        score, detail = best[k]
        parts = parse_detail(detail)
        if parts is None:
            return (src, ids[k])
        kind, out, this_field, other_field = parts
        return edge_record(src, ids[k], (kind, score, out, this_field, other_field))

    def edges(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], EdgeRow]:
        """The recorded edge for each (src, cand) pair, in one round trip (the fallback of ``taken``)."""
        wanted = sorted(set(pairs))
        if not wanted:
            return {}
        found: dict[tuple[str, str], list[EdgeRow]] = defaultdict(list)
        params = {"pairs": [{"src": a, "cand": b} for a, b in wanted], "types": self.types}
        for r in self._run("walk_edges", params):
            found[(r["src"], r["cand"])].append(
                (r["type"], r["score"], r["out"], r["this_field"] or "", r["other_field"] or "")
            )
        missing = [p for p in wanted if p not in found]
        if missing:
            raise RuntimeError(f"edges vanished from the graph while sampling: {missing[:3]}")
        return {p: best_edge(rows) for p, rows in found.items()}

    def __getitem__(self, tool_id: str) -> Neighbourhood:
        return self.adj[tool_id]
