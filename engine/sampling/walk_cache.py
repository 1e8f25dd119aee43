"""The walk's prepared graph (tool ids, start pool, FEEDS weight, CSR adjacency), kept per store and graph version.

Why: every vectorized run needs the whole graph's walk edges. Reading them is one ``walk_graph`` statement,
but on Neo4j that statement scans every walk edge of the graph (hundreds of thousands on ToolBench) and the
client then sorts them into an adjacency; for 10k walks that was most of the run, and it was paid again by
every new sampler on the same graph (a synthesis run's batches, a benchmark's repetitions, a notebook).
The prepared graph depends only on the graph and on the walk options that shape it, so it is kept here,
keyed by the store's ``graph_version()`` (Neo4j: the current build's id; embedded: the open build folder)
and those options. A new build gives a new version, so nothing stale is ever read; a store that cannot
name its version (``None``) gets no caching. Entries are read-only (arrays frozen), so a run cannot change
what the next run draws from: the same seed gives the same samples, cached or not.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

#: Prepared graphs kept per store (distinct walk options on one graph version); the oldest goes first.
MAX_ENTRIES_PER_STORE = 4


@dataclass(frozen=True)
class PreparedWalk:
    """What a vectorized walk reads from the whole graph, ready to draw from."""

    tool_ids: list[str]  # every tool, sorted
    pool: list[str]  # sorted ids walks start and jump from
    feeds_weight: float  # the FEEDS weight the adjacency was built with
    adjacency: Any  # adjacency.Adjacency


def freeze(prepared: PreparedWalk) -> PreparedWalk:
    """Make the adjacency's arrays read-only: a cached entry is shared by every later run on the graph."""
    for value in getattr(prepared.adjacency, "__dict__", {}).values():
        if hasattr(value, "flags"):
            value.flags.writeable = False
    return prepared


class WalkCache:
    """Prepared graphs per store object, each under (graph version, walk options); a new version evicts the rest.

    The store is held weakly: closing and dropping it frees its entries. Thread-safe: a lookup, an insert
    and an eviction each happen under one lock (two threads preparing the same graph at once both read it,
    and the second insert wins; both entries are equal).
    """

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[Any, dict[Hashable, tuple[str, PreparedWalk]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self.reads = 0  # graphs prepared (cache misses), for tests and benchmarks

    def get(self, store: Any, version: str | None, options: Hashable) -> PreparedWalk | None:
        if version is None:
            return None
        with self._lock:
            hit = self._entries.get(store, {}).get(options)
        return hit[1] if hit is not None and hit[0] == version else None

    def put(self, store: Any, version: str | None, options: Hashable, prepared: PreparedWalk) -> None:
        if version is None:
            return
        with self._lock:
            mine = self._entries.setdefault(store, {})
            for key in [k for k, (v, _) in mine.items() if v != version]:  # an older build: never read again
                del mine[key]
            mine.pop(options, None)
            while len(mine) >= MAX_ENTRIES_PER_STORE:
                del mine[next(iter(mine))]
            mine[options] = (version, freeze(prepared))

    def get_or_prepare(
        self, store: Any, version: str | None, options: Hashable, prepare: Callable[[], PreparedWalk]
    ) -> PreparedWalk:
        """The cached entry, or ``prepare()``'s result (then cached under ``version``)."""
        hit = self.get(store, version, options)
        if hit is not None:
            return hit
        prepared = prepare()
        self.reads += 1
        self.put(store, version, options, prepared)
        return prepared

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The process's cache, shared by every WalkSampler.
WALK_CACHE = WalkCache()
