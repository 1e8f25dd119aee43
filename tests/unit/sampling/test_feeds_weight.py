"""The walk's FEEDS weight, and the vectorized walk against the per-step walk with any weight."""

from __future__ import annotations

from collections import Counter

import pytest
from sampling_graphs import make_graph, make_tool, mixed_graph

from toolflow.engine.sampling import WalkSampler
from toolflow.engine.sampling.report import relatedness_report
from toolflow.engine.sampling.synthetic import synthetic_graph
from toolflow.engine.sampling.walk_cache import WALK_CACHE
from toolflow.engine.stores.ladybug_store import LadybugStore


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    with LadybugStore(tmp_path_factory.mktemp("syn")) as s:
        s.write_graph(synthetic_graph(2500, seed=4))
        yield s


def fork_graph():
    """x has one FEEDS neighbour p and one SHARES_INPUT neighbour q of the same score; plus 3 more
    SHARES_INPUT edges so that the graph's SHARES_INPUT mass is 4x its FEEDS mass."""
    tools = [make_tool(t) for t in ("x", "p", "q", "a", "b", "c", "d")]
    shares = [("x", "q", 0.9), ("a", "b", 0.9), ("b", "c", 0.9), ("c", "d", 0.9)]
    return make_graph(tools, feeds=[("x", "p", 0.9)], shares=shares)


def test_auto_weight_balances_feeds_and_shares_mass(tmp_path):
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(fork_graph())
        assert WalkSampler(store).feeds_weight == pytest.approx(4.0)
        assert WalkSampler(store, types=["FEEDS"]).feeds_weight == 1.0  # nothing to balance
        assert WalkSampler(store, feeds_weight=2.5).feeds_weight == 2.5


@pytest.mark.parametrize("weight, p_share", [(1.0, 0.5), (3.0, 0.75), ("auto", 0.8)])
def test_weight_shifts_steps_towards_data_flow(tmp_path, weight, p_share):
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(fork_graph())
        samples = WalkSampler(store, min_tools=2, max_tools=2, feeds_weight=weight).sample(4000, seed=1)
    from_x = Counter(s.tool_ids[1] for s in samples if s.tool_ids[0] == "x")
    assert set(from_x) == {"p", "q"}  # shared-input steps stay possible
    assert from_x["p"] / (from_x["p"] + from_x["q"]) == pytest.approx(p_share, abs=0.05)


def test_weight_raises_feeds_pairs_on_a_mixed_graph(tmp_path):
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(mixed_graph())
        plain = relatedness_report(store, 1500, seed=3, strategies=("walk",), sampler_options={"walk": {"feeds_weight": 1.0}})
        heavy = relatedness_report(store, 1500, seed=3, strategies=("walk",), sampler_options={"walk": {"feeds_weight": 8.0}})
    assert heavy["walk"]["feeds_pair_share"] > plain["walk"]["feeds_pair_share"] + 0.03
    assert heavy["walk"]["shares_pair_share"] > 0.0  # shared inputs are still walked


def test_bad_weight_is_refused(tmp_path):
    with LadybugStore(tmp_path / "g") as store:
        for bad in (0, -1.0, "heavy"):
            with pytest.raises(ValueError, match="feeds_weight"):
                WalkSampler(store, feeds_weight=bad)


@pytest.mark.parametrize(
    "options",
    [
        {"feeds_weight": 1.0},
        {"feeds_weight": "auto"},
        {"feeds_weight": 5.0, "types": ["FEEDS", "SHARES_INPUT", "SIMILAR"], "min_tools": 1, "max_tools": 7},
        {"feeds_weight": 2.0, "strict": True, "starts": "any"},
    ],
    ids=["w1", "auto", "w5-all-types", "w2-strict-any"],
)
def test_vectorized_walk_equals_per_step_walk(synthetic, options):
    """fetch='all' (one edge scan, vectorized draws) and fetch='steps' (per-step lookups, scalar draws)."""
    WALK_CACHE.clear()  # the vectorized sampler reads the graph itself, whatever ran before on this store
    vec = WalkSampler(synthetic, fetch="all", **options)
    step = WalkSampler(synthetic, fetch="steps", batch_size=300, **options)
    a = [s.model_dump() for s in vec.sample(1500, seed=6)]
    b = [s.model_dump() for s in step.sample(1500, seed=6)]
    assert a == b
    assert vec.steps == 1 < step.steps
    assert sum(len(s["edges"]) for s in a) > 1500  # real steps, not only starts
