"""Tool-combination sampling: graph random walks (the paper's Algorithm 1) and the baselines.

``make_sampler(strategy, store, …)`` gives any of them behind one interface: ``.sample(n, seed)`` returns
``Sample`` records and ``.round_trips`` counts the store queries it took.
"""

from __future__ import annotations

from typing import Any

from toolflow.engine.sampling.baselines import CategorySampler, RandomSampler
from toolflow.engine.sampling.records import iter_samples, read_samples, sample_id, sample_rng, write_samples
from toolflow.engine.sampling.walk import (
    DEFAULT_MAX_TOOLS,
    DEFAULT_MIN_TOOLS,
    DEFAULT_TYPES,
    JUMP,
    Sampler,
    WalkSampler,
)
from toolflow.engine.stores.base import GraphStore

STRATEGIES: dict[str, type[Sampler]] = {"walk": WalkSampler, "random": RandomSampler, "category": CategorySampler}


def make_sampler(strategy: str, store: GraphStore, **options: Any) -> Sampler:
    """Build a sampler by name; walk-only options (types, coverage, strict, batch_size) are refused elsewhere."""
    try:
        cls = STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {sorted(STRATEGIES)}") from None
    return cls(store, **options)


__all__ = [
    "DEFAULT_MAX_TOOLS",
    "DEFAULT_MIN_TOOLS",
    "DEFAULT_TYPES",
    "JUMP",
    "STRATEGIES",
    "CategorySampler",
    "RandomSampler",
    "Sampler",
    "WalkSampler",
    "iter_samples",
    "make_sampler",
    "read_samples",
    "sample_id",
    "sample_rng",
    "write_samples",
]
