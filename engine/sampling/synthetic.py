"""A seeded synthetic tool graph shaped like ToolBench's, for sampler benchmarks and golden tests.

Why: the full ToolBench graph needs ~165k texts embedded (a long cold build, docs/sampling.md), while the
sampler's speed depends only on the graph's shape. This generator reproduces that shape without an
embedder: ~45% isolated tools (ToolBench: 22k of 47k have no FEEDS/SHARES_INPUT edge), tools grouped by
category with most edges inside a category, a heavy-tailed degree (a few hubs with a few hundred
neighbours, as the real "get by id" tools have), SHARES_INPUT about three times as common as FEEDS, and
some pairs joined by two edges (FEEDS and SHARES_INPUT). Scores lie in the builder's range (0.82–1.0).
Pure function of its arguments: the same (n_tools, seed) gives the same GraphData.
"""

from __future__ import annotations

import numpy as np

from toolflow.engine.graph.build import GraphData
from toolflow.engine.models import Tool

ISOLATED_SHARE = 0.45
CATEGORY_SIZE = 120
EDGES_PER_CONNECTED_TOOL = 3.0
FEEDS_SHARE = 0.25
SIMILAR_PER_TOOL = 0.3
HUB_SHARE = 0.01
CROSS_CATEGORY = 0.1


def synthetic_graph(
    n_tools: int = 47_000, seed: int = 0, dim: int = 8, edges_per_tool: float = EDGES_PER_CONNECTED_TOOL
) -> GraphData:
    """A ToolBench-shaped graph of ``n_tools`` tools (see the module docstring for the shape).

    ``edges_per_tool`` is the mean walk-edge degree of a connected tool: the default gives ~38k walk edges on
    47k tools; the full ToolBench graph of today has ~320k (about 25).
    """
    rng = np.random.default_rng(seed)
    width = len(str(n_tools))
    ids = [f"syn{i:0{width}d}" for i in range(n_tools)]
    n_cats = max(1, n_tools // CATEGORY_SIZE)
    cats = rng.integers(n_cats, size=n_tools)
    tools = [Tool(id=t, name=t, description=f"synthetic tool {t}", category=f"cat{c:03d}") for t, c in zip(ids, cats.tolist(), strict=True)]
    connected = np.flatnonzero(rng.random(n_tools) >= ISOLATED_SHARE)
    by_cat: dict[int, np.ndarray] = {c: connected[cats[connected] == c] for c in range(n_cats)}
    # heavy tail: a tool's chance to be an edge's far end grows with a Pareto "popularity"
    popularity = rng.pareto(1.2, size=n_tools) + 1.0
    popularity[rng.random(n_tools) < HUB_SHARE] *= 40.0

    def far_end(a: int) -> int:
        pool = connected if rng.random() < CROSS_CATEGORY else by_cat[int(cats[a])]
        if len(pool) < 2:
            pool = connected
        p = popularity[pool] / popularity[pool].sum()
        return int(pool[rng.choice(len(pool), p=p)])

    n_edges = int(len(connected) * edges_per_tool / 2)
    feeds: dict[tuple[int, int], float] = {}
    shares: dict[tuple[int, int], float] = {}
    starts = rng.choice(connected, size=n_edges) if len(connected) > 1 else np.array([], dtype=int)
    for a in starts.tolist():
        b = far_end(a)
        if a == b:
            continue
        score = round(float(0.82 + 0.18 * rng.random() ** 2), 4)
        if rng.random() < FEEDS_SHARE:
            feeds.setdefault((a, b), score)
            if rng.random() < 0.2:  # the same pair often shares an input as well
                shares.setdefault((min(a, b), max(a, b)), round(score - 0.01, 4))
        else:
            shares.setdefault((min(a, b), max(a, b)), score)
    similar: dict[tuple[int, int], float] = {}
    for a in rng.choice(n_tools, size=int(n_tools * SIMILAR_PER_TOOL)).tolist():
        b = int(rng.integers(n_tools))
        if a != b:
            similar.setdefault((min(a, b), max(a, b)), round(float(0.8 + 0.2 * rng.random()), 4))
    emb = rng.normal(size=(n_tools, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    data = GraphData(tools=tools, tool_embeddings=emb, fields=[])
    data.feeds = [{"src": ids[a], "dst": ids[b], "score": s, "from_field": f"out{b % 7}", "to_param": f"in{a % 5}"}
                  for (a, b), s in sorted(feeds.items())]
    data.shares = [{"src": ids[a], "dst": ids[b], "score": s, "param_a": f"p{a % 3}", "param_b": f"p{b % 3}"}
                   for (a, b), s in sorted(shares.items())]
    data.similar = [{"src": ids[a], "dst": ids[b], "score": s} for (a, b), s in sorted(similar.items())]
    return data
