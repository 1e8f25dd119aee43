"""Graph statistics: counts, degree distribution, hubs, categories (pure over the store's query rows)."""

from __future__ import annotations

import statistics
from typing import Any

from toolflow.engine.stores.base import GraphStore


def degree_summary(degrees: list[int]) -> dict[str, Any]:
    if not degrees:
        return {"mean": 0.0, "median": 0, "max": 0, "isolated": 0, "histogram": {}}
    buckets = {"0": 0, "1": 0, "2-4": 0, "5-9": 0, "10-49": 0, "50+": 0}
    for d in degrees:
        key = "0" if d == 0 else "1" if d == 1 else "2-4" if d < 5 else "5-9" if d < 10 else "10-49" if d < 50 else "50+"
        buckets[key] += 1
    return {
        "mean": round(statistics.fmean(degrees), 3),
        "median": statistics.median_low(degrees),
        "max": max(degrees),
        "isolated": buckets["0"],
        "histogram": buckets,
    }


def collect_stats(store: GraphStore, top: int = 10) -> dict[str, Any]:
    counts = store.counts()
    rows = store.run("tool_degrees")
    degrees = [int(r["degree"]) for r in rows]
    hubs = sorted(rows, key=lambda r: (-int(r["degree"]), r["id"]))[:top]
    return {
        **counts,
        "degree": degree_summary(degrees),
        "top_hubs": [{"id": r["id"], "name": r["name"], "category": r["category"], "degree": int(r["degree"])} for r in hubs],
        "categories": store.run("category_counts"),
        "unfinished_builds": store.unfinished_builds(),
    }
