"""The walk sampler on small hand-made graphs in the embedded store."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from sampling_graphs import chain_graph, hub_graph, isolated_graph, make_graph, make_tool, mixed_graph

from toolflow.engine.graph.build import GraphData
from toolflow.engine.sampling import JUMP, WalkSampler
from toolflow.engine.sampling.neighbours import (
    best_edge,
    choose,
    detail_of,
    edge_record,
    neighbourhood,
    parse_detail,
    weighted_index,
)
from toolflow.engine.sampling.report import coverage, gini, usage_counts
from toolflow.engine.sampling.walk_cache import WALK_CACHE
from toolflow.engine.stores.ladybug_store import LadybugStore


def star_graph() -> GraphData:
    """a joined to b, c, d; the leaves have no other neighbour, so every walk of 4 must restart at a."""
    tools = [make_tool(x) for x in "abcd"]
    return make_graph(tools, feeds=[("a", "b", 0.9), ("c", "a", 0.85)], shares=[("a", "d", 0.88)])


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    graphs = {
        "mixed": mixed_graph(),
        "chain": chain_graph(),
        "isolated": isolated_graph(5),
        "hub": hub_graph(),
        "star": star_graph(),
    }
    opened = {}
    for name, g in graphs.items():
        s = LadybugStore(tmp_path_factory.mktemp(f"lb-{name}"))
        s.write_graph(g)
        opened[name] = (s, g)
    yield opened
    for s, _ in opened.values():
        s.close()


def edge_index(g: GraphData) -> dict[tuple[str, str, str], float]:
    out = {}
    for e in g.feeds:
        out[(e["src"], e["dst"], "FEEDS")] = e["score"]
    for kind, rows in (("SHARES_INPUT", g.shares), ("SIMILAR", g.similar)):
        for e in rows:
            out[(e["src"], e["dst"], kind)] = e["score"]
            out[(e["dst"], e["src"], kind)] = e["score"]
    return out


def dumps(samples) -> list[str]:
    return [s.model_dump_json() for s in samples]


def test_same_seed_same_samples_different_seed_different(stores):
    store, _ = stores["mixed"]
    a = WalkSampler(store).sample(200, seed=7)
    b = WalkSampler(store).sample(200, seed=7)
    c = WalkSampler(store).sample(200, seed=8)
    assert dumps(a) == dumps(b)
    assert [s.tool_ids for s in a] != [s.tool_ids for s in c]
    assert [s.id for s in a[:3]] == ["walk-7-000000", "walk-7-000001", "walk-7-000002"]
    assert all(s.seed == 7 and s.strategy == "walk" for s in a)


def test_batch_size_does_not_change_samples(stores):
    store, _ = stores["mixed"]
    ref = dumps(WalkSampler(store, batch_size=2048).sample(60, seed=3))
    assert dumps(WalkSampler(store, batch_size=7).sample(60, seed=3)) == ref
    assert dumps(WalkSampler(store, batch_size=1).sample(60, seed=3)) == ref


def test_walks_never_revisit_respect_size_and_follow_real_edges(stores):
    store, g = stores["mixed"]
    edges = edge_index(g)
    samples = WalkSampler(store, min_tools=2, max_tools=5).sample(300, seed=1)
    sizes = Counter(len(s.tool_ids) for s in samples)
    assert set(sizes) == {2, 3, 4, 5}  # n is drawn over the whole range, and always reached (jumps allowed)
    for s in samples:
        assert len(set(s.tool_ids)) == len(s.tool_ids)
        assert len(s.edges) == len(s.tool_ids) - 1
        assert s.path[0] == s.tool_ids[0] and set(s.path) == set(s.tool_ids)
        for i, e in enumerate(s.edges):
            new = s.tool_ids[i + 1]
            assert new in (e.source, e.target)  # each edge brings in the next new tool
            if e.type == JUMP:
                assert e.score == 0.0 and e.source == s.tool_ids[i]
                continue
            assert edges[(e.source, e.target, e.type)] == pytest.approx(e.score)
            assert {e.source, e.target} - {new} <= set(s.tool_ids[: i + 1])
            assert e.type in ("FEEDS", "SHARES_INPUT")
            if e.type == "FEEDS":  # FEEDS keeps its data-flow direction and names the fields that flow
                assert e.fields == [f"out_{e.source}", f"in_{e.target}"]


def test_starts_from_connected_tools_unless_asked(stores):
    store, _ = stores["mixed"]
    connected = WalkSampler(store).sample(300, seed=6)
    assert not any(t.startswith("lonely") for s in connected for t in s.tool_ids)
    assert not any(e.type == JUMP for s in connected for e in s.edges)
    anywhere = WalkSampler(store, starts="any").sample(300, seed=6)
    lonely_starts = [s for s in anywhere if s.tool_ids[0].startswith("lonely")]
    assert lonely_starts and all(s.edges[0].type == JUMP for s in lonely_starts)
    with pytest.raises(ValueError, match="starts"):
        WalkSampler(store, starts="hubs")


def test_fixed_size(stores):
    store, _ = stores["chain"]
    samples = WalkSampler(store, min_tools=4, max_tools=4).sample(50, seed=0)
    assert {len(s.tool_ids) for s in samples} == {4}


def test_dead_end_restarts_from_a_visited_tool(stores):
    store, _ = stores["star"]
    samples = WalkSampler(store, min_tools=4, max_tools=4, strict=True).sample(40, seed=5)
    for s in samples:
        assert sorted(s.tool_ids) == ["a", "b", "c", "d"]
        assert all(e.type != JUMP for e in s.edges)
        assert s.path.count("a") >= 2  # the walk went back to the hub at least once
        assert len(s.path) > len(s.tool_ids)


def test_isolated_tools_jump_and_never_hang(stores):
    store, _ = stores["isolated"]
    sampler = WalkSampler(store, min_tools=3, max_tools=3)
    samples = sampler.sample(20, seed=2)
    assert all(len(s.tool_ids) == 3 and len(set(s.tool_ids)) == 3 for s in samples)
    assert all([e.type for e in s.edges] == [JUMP, JUMP] and all(e.score == 0 for e in s.edges) for s in samples)
    assert sampler.steps <= 2 * 3


def test_isolated_tools_strict_stop_short(stores):
    store, _ = stores["isolated"]
    samples = WalkSampler(store, min_tools=3, max_tools=5, strict=True).sample(20, seed=2)
    assert all(len(s.tool_ids) == 1 and not s.edges for s in samples)


def test_more_tools_asked_than_the_graph_has(stores):
    store, _ = stores["isolated"]
    samples = WalkSampler(store, min_tools=9, max_tools=9).sample(3, seed=0)
    assert all(sorted(s.tool_ids) == [f"t{i:03d}" for i in range(5)] for s in samples)


def test_round_trips_grow_with_walk_length_not_with_samples(stores):
    store, _ = stores["mixed"]
    WALK_CACHE.clear()  # earlier tests prepared this graph: measure a first read
    small, large = WalkSampler(store), WalkSampler(store)
    large.sample(2000, seed=0)
    small.sample(20, seed=0)
    assert 1 <= large.steps <= 5 - 1  # one query per added tool at most, whatever the sample count
    # plus the graph version (the cache key) and the tool count that chose the whole-graph read; that read (one
    # step) also gives the start pool and the FEEDS weight's type masses, which cost a query each before
    assert large.round_trips == large.steps + 2
    warm = WalkSampler(store)  # the same graph version: prepared already, so no graph read at all
    assert [s.model_dump() for s in warm.sample(2000, seed=0)] == [s.model_dump() for s in large.sample(2000, seed=0)]
    assert (warm.steps, warm.round_trips) == (0, 1)
    again = large.round_trips
    large.sample(2000, seed=1)
    assert large.round_trips == again  # every neighbourhood is known by now
    naive = WalkSampler(store, batch_size=1, reuse_neighbors=False)
    naive.sample(20, seed=0)
    assert naive.steps >= 20 > small.steps


def test_types_filter(stores):
    store, _ = stores["mixed"]
    for types in (["SHARES_INPUT"], ["FEEDS"], ["SIMILAR"]):
        samples = WalkSampler(store, types=types).sample(100, seed=4)
        used = {e.type for s in samples for e in s.edges}
        assert used <= {*types, JUMP} and types[0] in used


def test_invalid_options():
    with pytest.raises(ValueError, match="relationship types"):
        WalkSampler(None, types=["CALLS"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_tools"):
        WalkSampler(None, min_tools=4, max_tools=2)  # type: ignore[arg-type]


def test_coverage_option_spreads_over_the_tools(stores):
    store, g = stores["hub"]
    total = len(g.tools)
    for seed in range(4):  # 40 walks of 3 over 3 hubs + 60 spokes: plain walks repeat spokes by chance
        plain = [s.tool_ids for s in WalkSampler(store, min_tools=3, max_tools=3).sample(40, seed=seed)]
        cover = [s.tool_ids for s in WalkSampler(store, min_tools=3, max_tools=3, coverage=True).sample(40, seed=seed)]
        assert coverage(cover, total) >= coverage(plain, total) + 0.08
        assert gini(usage_counts(cover, total)) <= gini(usage_counts(plain, total)) - 0.05


def test_steps_follow_edge_scores(tmp_path):
    g = make_graph([make_tool(x) for x in "xpq"], feeds=[("x", "p", 0.9), ("x", "q", 0.1)])
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(g)
        samples = WalkSampler(store, min_tools=2, max_tools=2).sample(3000, seed=0)
    from_x = Counter(s.tool_ids[1] for s in samples if s.tool_ids[0] == "x")
    share_p = from_x["p"] / (from_x["p"] + from_x["q"])
    assert 0.85 <= share_p <= 0.95


def test_neighbourhood_ignores_edge_order():
    edges = [("b", 0.85, "SHARES_INPUT|1|q|p"), ("c", 0.83, "FEEDS|1|x|y"), ("b", 0.9, "FEEDS|0|in_a|out_b"), ("d", 0.95, "SIMILAR|1||")]
    ref = neighbourhood(*zip(*edges, strict=True))
    for k in range(10):
        shuffled = edges[:]
        random.Random(k).shuffle(shuffled)
        assert neighbourhood(*zip(*shuffled, strict=True)) == ref
    ids, weights, best, cum = ref
    assert cum == pytest.approx([0.85 + 0.9, 0.85 + 0.9 + 0.83, 0.85 + 0.9 + 0.83 + 0.95])
    assert ids == ["b", "c", "d"]
    assert weights == pytest.approx([0.85 + 0.9, 0.83, 0.95])  # both edges to b count
    assert best[0] == (0.9, "FEEDS|0|in_a|out_b")  # the strongest edge is the one recorded
    assert choose(ref, {"b", "c", "d"}, np.random.default_rng(0)) is None
    assert choose(ref, {"b", "c"}, np.random.default_rng(0)) == 2


@pytest.mark.parametrize("coverage", [False, True])
def test_choose_draws_in_proportion_over_unvisited(coverage):
    nbh = neighbourhood(["a", "b", "c", "d", "e"], [1.0, 2.0, 3.0, 4.0, 0.0], [""] * 5)
    rng = np.random.default_rng(0)
    weight = (lambda c: 1.0) if coverage else None
    draws = Counter(choose(nbh, {"b", "zz"}, rng, weight) for _ in range(8000))
    assert set(draws) == {0, 2, 3}  # never the visited b, never the zero-weight e
    for i, expected in ((0, 1 / 8), (2, 3 / 8), (3, 4 / 8)):
        assert abs(draws[i] / 8000 - expected) < 0.02
    assert choose(nbh, {"a", "c", "d"}, rng, weight) in (1, 4)
    assert choose(nbh, {"a", "b", "c", "d", "e"}, rng, weight) is None


def test_recorded_edge():
    assert parse_detail("FEEDS|0|in_a|out_b") == ("FEEDS", False, "in_a", "out_b")
    assert parse_detail("FEEDS|1|a|b|c") is None  # a '|' inside a field name: looked up by query instead
    rows = [("SHARES_INPUT", 0.85, True, "q", "p"), ("FEEDS", 0.9, False, "in_a", "out_b")]
    best = best_edge(rows)
    assert best == rows[1] and best_edge(rows[::-1]) == best
    assert detail_of(best) == "FEEDS|0|in_a|out_b"
    # FEEDS stored b→a, walked from a: the record keeps the data flow b→a and its fields' order.
    e = edge_record("a", "b", best)
    assert (e.source, e.target, e.type, e.score, e.fields) == ("b", "a", "FEEDS", 0.9, ["out_b", "in_a"])
    e = edge_record("a", "b", rows[0])  # symmetric types follow the walk
    assert (e.source, e.target, e.fields) == ("a", "b", ["q", "p"])
    assert edge_record("a", "d", ("SIMILAR", 0.8, True, "", "")).fields == []


def test_field_names_with_a_bar_fall_back_to_the_edge_query(tmp_path):
    g = make_graph([make_tool(x) for x in "ab"], feeds=[("a", "b", 0.9)])
    g.feeds[0]["from_field"] = "x|y"
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(g)
        sampler = WalkSampler(store, min_tools=2, max_tools=2)
        samples = sampler.sample(4, seed=0)
    assert all(s.edges[0].fields == ["x|y", "in_b"] and s.edges[0].source == "a" for s in samples)
    # graph version (the cache key), tool count, the whole graph (pool and FEEDS weight too), one walk_edges lookup
    assert sampler.round_trips == 4


def test_weighted_index():
    rng = np.random.default_rng(0)
    draws = Counter(weighted_index(rng, [0.0, 3.0, 1.0]) for _ in range(4000))
    assert draws[0] == 0 and 0.7 < draws[1] / 4000 < 0.8
    assert {weighted_index(rng, [0.0, 0.0]) for _ in range(50)} == {0, 1}
