"""The walk's prepared graph is read once per store and graph version, and cached runs draw what fresh ones do."""

from __future__ import annotations

import pytest

from toolflow.engine.sampling import WalkSampler
from toolflow.engine.sampling.synthetic import synthetic_graph
from toolflow.engine.sampling.walk_cache import WALK_CACHE, PreparedWalk, WalkCache
from toolflow.engine.stores.ladybug_store import LadybugStore


def dumps(samples):
    return [s.model_dump() for s in samples]


class VersionlessStore(LadybugStore):
    """A store that cannot name its graph version: nothing of it may be cached."""

    def graph_version(self) -> str | None:
        return None


@pytest.fixture()
def store(tmp_path):
    WALK_CACHE.clear()
    with LadybugStore(tmp_path / "g") as s:
        s.write_graph(synthetic_graph(1500, seed=3))
        yield s


@pytest.mark.parametrize(
    "options",
    [{}, {"starts": "any", "strict": True}, {"types": ["FEEDS", "SHARES_INPUT", "SIMILAR"], "feeds_weight": 3.0}],
    ids=["default", "any-strict", "all-types-w3"],
)
def test_a_cached_graph_gives_the_samples_of_a_fresh_read(store, options):
    reads = WALK_CACHE.reads
    first = WalkSampler(store, **options)
    cold = dumps(first.sample(900, seed=4))
    assert first.steps == 1 and WALK_CACHE.reads == reads + 1
    again = WalkSampler(store, **options)
    assert dumps(again.sample(900, seed=4)) == cold
    assert again.steps == 0 and again.round_trips == 1  # the graph version, nothing else
    assert WALK_CACHE.reads == reads + 1
    per_step = dumps(WalkSampler(store, fetch="steps", **options).sample(900, seed=4))
    assert per_step == cold  # the per-step walk never reads the cache, and agrees
    small = WalkSampler(store, **options)  # too few walkers for a whole-graph read, but the graph is prepared
    assert dumps(small.sample(5, seed=4)) == cold[:5] and small.steps == 0


def test_walk_options_that_shape_the_graph_get_their_own_entries(store):
    feeds_only = dumps(WalkSampler(store, types=["FEEDS"]).sample(400, seed=1))
    both = dumps(WalkSampler(store).sample(400, seed=1))
    assert feeds_only != both
    assert {e["type"] for s in feeds_only for e in s["edges"]} <= {"FEEDS", "JUMP"}
    assert dumps(WalkSampler(store, types=["FEEDS"]).sample(400, seed=1)) == feeds_only
    assert dumps(WalkSampler(store).sample(400, seed=1)) == both


def test_a_rebuild_is_read_again(store, tmp_path):
    before = store.graph_version()
    old = dumps(WalkSampler(store).sample(500, seed=2))
    new_graph = synthetic_graph(1500, seed=8)
    store.write_graph(new_graph)
    assert store.graph_version() != before
    after = WalkSampler(store)
    got = dumps(after.sample(500, seed=2))
    assert after.steps == 1 and got != old
    with LadybugStore(tmp_path / "fresh") as fresh:
        fresh.write_graph(new_graph)
        assert dumps(WalkSampler(fresh).sample(500, seed=2)) == got


def test_a_store_without_a_version_reads_every_time(tmp_path):
    with VersionlessStore(tmp_path / "v") as s:
        s.write_graph(synthetic_graph(600, seed=1))
        a, b = WalkSampler(s), WalkSampler(s)
        assert dumps(a.sample(300, seed=0)) == dumps(b.sample(300, seed=0))
        assert a.steps == b.steps == 1


def test_cached_arrays_are_read_only(store):
    sampler = WalkSampler(store)
    sampler.sample(300, seed=0)
    adj = sampler.adjacency()
    with pytest.raises(ValueError, match="read-only"):
        adj.weight[0] = 123.0


def test_a_new_version_evicts_the_old_and_entries_are_bounded():
    cache = WalkCache()

    class Store:  # any object that can be weakly referenced stands for a store
        pass

    s = Store()
    entry = PreparedWalk(tool_ids=[], pool=[], feeds_weight=1.0, adjacency=object())
    for k in range(6):
        cache.put(s, "v1", k, entry)
    assert [cache.get(s, "v1", k) is not None for k in range(6)] == [False, False, True, True, True, True]
    cache.put(s, "v2", 0, entry)
    assert cache.get(s, "v1", 5) is None and cache.get(s, "v2", 0) is entry
    assert cache.get(s, "v3", 0) is None  # another version is never served
    cache.put(s, None, 1, entry)
    assert cache.get(s, None, 1) is None
    del s
    assert len(cache._entries) == 0  # the store is held weakly
