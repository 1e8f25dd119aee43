"""The walk's whole graph from one ``walk_graph`` read: tools, start pool, edges as arrays, mass per type.

Why one read: the vectorized walk (batch_walk.py) needs every walk edge, the start pool (tools with an
edge of the walk's types) and, for the automatic FEEDS weight, the summed score per type. As three
queries each of them scanned the walk edges on the server (on Neo4j the scans were most of a 10k-walk
run); here all three come from the one scan, and edge ends arrive as store keys (Neo4j: internal node ids)
that numpy maps to pool positions, instead of two tool-id strings per edge looked up in a dict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


@dataclass
class WalkGraph:
    """Edges in pool positions; each stored edge once, in its stored direction (src → dst)."""

    tool_ids: list[str]  # every tool of the graph, sorted
    pool: list[str]  # sorted ids of the tools with at least one edge of the walk's types
    src: np.ndarray  # int64 pool positions
    dst: np.ndarray  # int64 pool positions
    score: np.ndarray  # float64 (a missing score counts 0, as ``float(x or 0.0)`` did)
    kind: list[str]  # relationship type per edge
    field_a: list[str]  # src's field ('' when the edge has none)
    field_b: list[str]  # dst's field
    mass: dict[str, float]  # summed score per type (math.fsum: exact, so independent of the edges' order)


def _check(row: dict[str, Any], names: Sequence[str]) -> None:
    if len({len(row[n]) for n in names}) > 1:
        raise RuntimeError(f"walk_graph returned lists of different lengths (type {row['type']!r})")


def _positions(keys: np.ndarray | list, table: dict[Any, int] | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Tool positions (in the tools row) of edge-end keys: a sorted-array search for integer keys, else a dict."""
    if isinstance(table, dict):
        try:
            return np.fromiter((table[k] for k in keys), dtype=np.int64, count=len(keys))
        except KeyError as exc:
            raise RuntimeError(f"an edge names a tool the graph does not hold: {exc}") from None
    sorted_keys, order = table
    where = np.searchsorted(sorted_keys, keys)
    where = np.minimum(where, max(len(sorted_keys) - 1, 0))
    if len(keys) and (not len(sorted_keys) or (sorted_keys[where] != keys).any()):
        raise RuntimeError("an edge names a tool the graph does not hold (did a build replace it while sampling?)")
    return order[where]


def read_walk_graph(rows: list[dict[str, Any]]) -> WalkGraph:
    """``walk_graph`` rows (a tools row with type '', then one row per relationship type) → a WalkGraph."""
    tools = [r for r in rows if r["type"] == ""]
    if len(tools) != 1:
        raise RuntimeError(f"walk_graph returned {len(tools)} tool rows, expected 1")
    _check(tools[0], ("keys", "ids"))
    keys, ids = tools[0]["keys"], tools[0]["ids"]
    table: dict[Any, int] | tuple[np.ndarray, np.ndarray]
    if keys and all(isinstance(k, int) for k in keys[:1]):
        arr = np.asarray(keys, dtype=np.int64)
        order = np.argsort(arr, kind="stable")
        table = (arr[order], order)
    else:
        table = {k: i for i, k in enumerate(keys)}
    src_parts, dst_parts, score_parts = [], [], []
    kind: list[str] = []
    field_a: list[str] = []
    field_b: list[str] = []
    mass: dict[str, float] = {}
    for r in rows:
        if r["type"] == "" or not r["src"]:
            continue
        _check(r, ("src", "dst", "score", "field_a", "field_b"))
        src_parts.append(_positions(r["src"] if isinstance(table, dict) else np.asarray(r["src"], dtype=np.int64), table))
        dst_parts.append(_positions(r["dst"] if isinstance(table, dict) else np.asarray(r["dst"], dtype=np.int64), table))
        sc = np.nan_to_num(np.array(r["score"], dtype=np.float64), nan=0.0)
        score_parts.append(sc)
        mass[r["type"]] = mass.get(r["type"], 0.0) + math.fsum(sc.tolist())
        kind += [r["type"]] * len(sc)
        field_a += [f or "" for f in r["field_a"]]
        field_b += [f or "" for f in r["field_b"]]
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, dtype=np.int64)
    # The pool: tools at either end of an edge, sorted by id; edge ends move from tool to pool positions.
    used = np.unique(np.concatenate([src, dst]))
    names = [ids[i] for i in used.tolist()]
    rank = np.argsort(np.array(names, dtype=object), kind="stable") if names else np.zeros(0, dtype=np.int64)
    to_pool = np.full(len(ids), -1, dtype=np.int64)
    to_pool[used[rank]] = np.arange(len(used))
    return WalkGraph(
        tool_ids=sorted(ids),
        pool=[names[i] for i in rank.tolist()],
        src=to_pool[src],
        dst=to_pool[dst],
        score=np.concatenate(score_parts) if score_parts else np.zeros(0, dtype=np.float64),
        kind=kind,
        field_a=field_a,
        field_b=field_b,
        mass=mass,
    )


def over_pool(graph: WalkGraph, pool: list[str]) -> WalkGraph:
    """The same edges with positions in a larger sorted pool (``starts="any"``: every tool starts walks)."""
    where = {t: i for i, t in enumerate(pool)}
    try:
        move = np.fromiter((where[t] for t in graph.pool), dtype=np.int64, count=len(graph.pool))
    except KeyError as exc:
        raise RuntimeError(f"the walk's pool misses a tool with edges: {exc}") from None
    return replace(graph, pool=pool, src=move[graph.src], dst=move[graph.dst])
