"""Relatedness report: how composable, how similar and how spread out each strategy's samples are.

The metrics are pure functions of plain data (tool-id lists, FEEDS pairs, vectors); only
``relatedness_report`` touches a store. Definitions:

  feeds_pair_share       consecutive tools (in sample order) joined by a FEEDS edge in either direction,
                         over all consecutive pairs: data flow between neighbours, the paper's composability.
  chain_share            samples holding a directed FEEDS path x→y→z over three distinct tools of the sample.
  shares_pair_share      consecutive tools joined by a SHARES_INPUT edge (the other relation the walk follows).
  distinct_shares_pairs  distinct unordered consecutive pairs joined by SHARES_INPUT: the variety of shared-input
                         pairs, which a FEEDS weight must not collapse onto a few.
  mean_similarity        per sample, the mean cosine of its tools' stored description embeddings over all
                         pairs; then the mean over samples with at least two tools.
  coverage               distinct tools used / tools in the graph.
  gini                   Gini coefficient of tool usage over every tool in the graph, unused ones included.
  distinct_combinations  distinct tool sets (order ignored); distinct_share divides by the sample count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from toolflow.engine.sampling import make_sampler
from toolflow.engine.stores.base import GraphStore

METRICS = (
    "feeds_pair_share", "chain_share", "shares_pair_share", "distinct_shares_pairs", "mean_similarity", "coverage",
    "gini", "distinct_combinations",
)
ID_CHUNK = 10_000

ToolSets = Sequence[Sequence[str]]


def feeds_pair_share(samples: ToolSets, feeds: set[tuple[str, str]]) -> float:
    pairs = joined = 0
    for ids in samples:
        for a, b in zip(ids, ids[1:], strict=False):
            pairs += 1
            joined += (a, b) in feeds or (b, a) in feeds
    return joined / pairs if pairs else 0.0


def shares_pairs(samples: ToolSets, shares: set[tuple[str, str]]) -> tuple[float, int]:
    """(share of consecutive pairs joined by SHARES_INPUT, distinct such pairs, order ignored)."""
    pairs = 0
    joined: list[frozenset[str]] = []
    for ids in samples:
        for a, b in zip(ids, ids[1:], strict=False):
            pairs += 1
            if (a, b) in shares or (b, a) in shares:
                joined.append(frozenset((a, b)))
    return (len(joined) / pairs if pairs else 0.0), len(set(joined))


def has_feeds_chain(ids: Sequence[str], feeds: set[tuple[str, str]]) -> bool:
    members = set(ids)
    succ: dict[str, set[str]] = defaultdict(set)
    for a in members:
        for b in members:
            if a != b and (a, b) in feeds:
                succ[a].add(b)
    return any(z != x for x in succ for y in succ[x] for z in succ.get(y, ()))


def chain_share(samples: ToolSets, feeds: set[tuple[str, str]]) -> float:
    return sum(has_feeds_chain(ids, feeds) for ids in samples) / len(samples) if samples else 0.0


def mean_similarity(samples: ToolSets, vectors: Mapping[str, np.ndarray]) -> float:
    means = []
    for ids in samples:
        if len(ids) < 2:
            continue
        m = np.stack([vectors[i] for i in ids]).astype(np.float64)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        sims = m @ m.T
        k = len(ids)
        means.append((sims.sum() - np.trace(sims)) / (k * (k - 1)))
    return float(np.mean(means)) if means else 0.0


def usage_counts(samples: ToolSets, total_tools: int) -> list[int]:
    """How often each tool was used, padded with zeros for every graph tool no sample used."""
    counts = Counter(t for ids in samples for t in ids)
    if len(counts) > total_tools:
        raise ValueError(f"{len(counts)} distinct tools used but the graph has only {total_tools}")
    return list(counts.values()) + [0] * (total_tools - len(counts))


def gini(values: Iterable[float]) -> float:
    """0 when every tool is used equally, towards 1 when a few tools take all the uses."""
    x = np.sort(np.asarray(list(values), dtype=np.float64))
    n, total = len(x), float(x.sum()) if len(x) else 0.0
    if n == 0 or total == 0.0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * total) - (n + 1) / n)


def coverage(samples: ToolSets, total_tools: int) -> float:
    return len({t for ids in samples for t in ids}) / total_tools if total_tools else 0.0


def distinct_combinations(samples: ToolSets) -> int:
    return len({frozenset(ids) for ids in samples})


def metrics(
    samples: ToolSets,
    feeds: set[tuple[str, str]],
    vectors: Mapping[str, np.ndarray],
    total_tools: int,
    shares: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    distinct = distinct_combinations(samples)
    share, variety = shares_pairs(samples, shares or set())
    return {
        "feeds_pair_share": feeds_pair_share(samples, feeds),
        "chain_share": chain_share(samples, feeds),
        "shares_pair_share": share,
        "distinct_shares_pairs": variety,
        "mean_similarity": mean_similarity(samples, vectors),
        "coverage": coverage(samples, total_tools),
        "gini": gini(usage_counts(samples, total_tools)),
        "distinct_combinations": distinct,
        "distinct_share": distinct / len(samples) if samples else 0.0,
        "samples": len(samples),
    }


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def graph_facts(
    store: GraphStore, tool_ids: Iterable[str]
) -> tuple[set[tuple[str, str]], dict[str, np.ndarray], int, set[tuple[str, str]]]:
    """FEEDS pairs leaving the given tools, their embeddings, the graph's tool count, their SHARES_INPUT pairs."""
    ids = sorted(set(tool_ids))
    feeds: set[tuple[str, str]] = set()
    shares: set[tuple[str, str]] = set()
    vectors: dict[str, np.ndarray] = {}
    for chunk in _chunks(ids):
        feeds.update((r["src"], r["dst"]) for r in store.run("sample_feeds_from", {"ids": chunk}))
        shares.update((r["src"], r["dst"]) for r in store.run("sample_shares_from", {"ids": chunk}))
        for r in store.run("sample_embeddings", {"ids": chunk}):
            vectors[r["id"]] = np.asarray(r["embedding"], dtype=np.float32)
    total = int(store.run("count_tools")[0]["n"])
    return feeds, vectors, total, shares


def relatedness_report(
    store: GraphStore,
    n: int,
    seed: int = 0,
    strategies: Sequence[str] = ("walk", "random", "category"),
    sampler_options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Any = None,
) -> dict[str, dict[str, Any]]:
    """Sample n per strategy on the same graph with the same seed, then score each strategy."""
    opts = sampler_options or {}
    drawn: dict[str, list[list[str]]] = {}
    trips: dict[str, int] = {}
    weights: dict[str, float] = {}
    for name in strategies:
        sampler = make_sampler(name, store, **dict(opts.get(name, {})))
        drawn[name] = [s.tool_ids for s in sampler.sample(n, seed, progress=progress)]
        trips[name] = sampler.round_trips
        if hasattr(sampler, "feeds_weight"):
            weights[name] = sampler.feeds_weight
    feeds, vectors, total, shares = graph_facts(store, (t for sets in drawn.values() for ids in sets for t in ids))
    out = {}
    for name, samples in drawn.items():
        out[name] = metrics(samples, feeds, vectors, total, shares)
        out[name]["round_trips"] = trips[name]
        if name in weights:
            out[name]["feeds_weight"] = weights[name]
    return out
