"""Baselines behind the walk sampler's interface, for the relatedness report.

``random``   uniform tool sets, ignoring the graph (the paper's "−Graph" ablation).
``category`` tools of one category (ToolBench's intra-category G2 style): related by topic, not by data flow.
Both take one query to learn the tool list, then draw in Python with the same per-sample generators.
"""

from __future__ import annotations

from collections import defaultdict

from toolflow.engine.models import Sample
from toolflow.engine.sampling.records import sample_id, sample_rng
from toolflow.engine.sampling.walk import DEFAULT_MAX_TOOLS, DEFAULT_MIN_TOOLS, Progress, Sampler
from toolflow.engine.stores.base import GraphStore


class RandomSampler(Sampler):
    """n tools drawn uniformly without replacement from the whole graph."""

    strategy = "random"

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        ids = self.tool_ids
        out = []
        for i in range(n):
            rng = sample_rng(seed, self.strategy, i)
            size = min(self._size(rng), len(ids))
            picked = [ids[j] for j in rng.choice(len(ids), size=size, replace=False).tolist()] if size else []
            out.append(self._record(seed, i, picked))
        if progress:
            progress(n)
        return out

    def _record(self, seed: int, index: int, picked: list[str]) -> Sample:
        return Sample(
            id=sample_id(self.strategy, seed, index), tool_ids=picked, path=picked, strategy=self.strategy, seed=seed
        )


class CategorySampler(RandomSampler):
    """A category drawn uniformly among those with at least n tools, then n of its tools uniformly.

    When no category is that large the largest ones are used and the sample is smaller (never mixed).
    """

    strategy = "category"

    def __init__(self, store: GraphStore, min_tools: int = DEFAULT_MIN_TOOLS, max_tools: int = DEFAULT_MAX_TOOLS):
        super().__init__(store, min_tools, max_tools)
        self._by_category: dict[str, list[str]] | None = None

    @property
    def by_category(self) -> dict[str, list[str]]:
        if self._by_category is None:
            groups: dict[str, list[str]] = defaultdict(list)
            for r in self._run("sample_tool_categories"):
                groups[r["category"]].extend(r["ids"])
            self._by_category = {c: sorted(groups[c]) for c in sorted(groups)}
        return self._by_category

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> list[Sample]:
        cats = self.by_category
        largest = max((len(v) for v in cats.values()), default=0)
        eligible = {k: [c for c, ids in cats.items() if len(ids) >= min(k, largest)] for k in range(1, self.max_tools + 1)}
        out = []
        for i in range(n):
            rng = sample_rng(seed, self.strategy, i)
            size = self._size(rng)
            pool = eligible[size]
            if not pool:
                out.append(self._record(seed, i, []))
                continue
            ids = cats[pool[int(rng.integers(len(pool)))]]
            size = min(size, len(ids))
            out.append(self._record(seed, i, [ids[j] for j in rng.choice(len(ids), size=size, replace=False).tolist()]))
        if progress:
            progress(n)
        return out
