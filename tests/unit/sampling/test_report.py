"""Relatedness metrics (pure) and the report over a store."""

from __future__ import annotations

import numpy as np
import pytest
from sampling_graphs import mixed_graph

from toolflow.engine.sampling.report import (
    METRICS,
    chain_share,
    coverage,
    distinct_combinations,
    feeds_pair_share,
    gini,
    has_feeds_chain,
    mean_similarity,
    relatedness_report,
    usage_counts,
)
from toolflow.engine.stores.ladybug_store import LadybugStore


def test_feeds_pair_share_counts_consecutive_pairs_either_direction():
    feeds = {("b", "a"), ("a", "c")}
    assert feeds_pair_share([["a", "b", "c"]], feeds) == 0.5  # a-b joined (b→a), b-c not; a→c is not consecutive
    assert feeds_pair_share([["a", "b"], ["c", "d"]], feeds) == 0.5
    assert feeds_pair_share([["a"]], feeds) == 0.0


def test_feeds_chain_needs_two_directed_edges_over_three_tools():
    assert has_feeds_chain(["c", "a", "b"], {("a", "b"), ("b", "c")})
    assert not has_feeds_chain(["a", "b", "c"], {("a", "b"), ("c", "b")})  # not a directed path
    assert not has_feeds_chain(["a", "b"], {("a", "b"), ("b", "a")})  # a→b→a is a cycle, not a chain
    assert not has_feeds_chain(["a", "b"], {("a", "b"), ("b", "z")})  # z is outside the sample
    assert chain_share([["a", "b", "c"], ["a", "b"]], {("a", "b"), ("b", "c")}) == 0.5


def test_gini_and_usage():
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)  # one of n tools takes everything: (n-1)/n
    assert gini([]) == 0.0
    counts = usage_counts([["a", "b"], ["a"]], total_tools=5)
    assert sorted(counts) == [0, 0, 0, 1, 2]
    with pytest.raises(ValueError):
        usage_counts([["a", "b", "c"]], total_tools=2)


def test_similarity_coverage_distinct():
    v = {"a": np.array([1.0, 0.0]), "b": np.array([2.0, 0.0]), "c": np.array([0.0, 3.0])}
    assert mean_similarity([["a", "b"]], v) == pytest.approx(1.0)
    assert mean_similarity([["a", "c"]], v) == pytest.approx(0.0)
    assert mean_similarity([["a", "b", "c"], ["a"]], v) == pytest.approx(1 / 3)  # single-tool samples skipped
    assert coverage([["a", "b"], ["b"]], 4) == 0.5
    assert distinct_combinations([["a", "b"], ["b", "a"], ["a", "c"]]) == 2


def test_report_on_a_store(tmp_path):
    g = mixed_graph()
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(g)
        result = relatedness_report(store, 300, seed=0)
    assert list(result) == ["walk", "random", "category"]
    for m in result.values():
        assert set(METRICS) <= set(m)
        assert 0.0 <= m["coverage"] <= 1.0 and 0.0 <= m["gini"] <= 1.0
        assert m["samples"] == 300 and 1 <= m["distinct_combinations"] <= 300
    # The hand-made graph has dense FEEDS inside categories and almost none across.
    assert result["walk"]["feeds_pair_share"] > 2 * result["random"]["feeds_pair_share"]
    assert result["walk"]["chain_share"] > result["random"]["chain_share"]
