"""The vectorized walk on the real Neo4j: the same samples as the per-step walk and as the embedded store."""

from __future__ import annotations

import pytest

from toolflow.engine.sampling import WalkSampler
from toolflow.engine.sampling.synthetic import synthetic_graph
from toolflow.engine.sampling.walk_cache import WALK_CACHE
from toolflow.engine.stores import open_store
from toolflow.engine.stores.ladybug_store import LadybugStore

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


@pytest.fixture(scope="module")
def stores(neo4j_uri, tmp_path_factory):
    g = synthetic_graph(2000, seed=9)
    neo = open_store(neo4j_uri)
    assert neo.dialect == "neo4j"  # a URI that opened an embedded store would compare it with itself
    neo.write_graph(g)
    lb = LadybugStore(tmp_path_factory.mktemp("lb-vec"))
    lb.write_graph(g)
    yield neo, lb
    neo.close()
    lb.close()


@pytest.mark.parametrize(
    "options",
    [{}, {"feeds_weight": 1.0}, {"feeds_weight": 4.0, "types": ["FEEDS", "SHARES_INPUT", "SIMILAR"], "max_tools": 7}],
    ids=["auto", "w1", "w4-all-types"],
)
def test_vectorized_walk_is_the_same_on_both_stores_and_both_paths(stores, options):
    neo, lb = stores
    runs = {
        (store.dialect, fetch): [s.model_dump() for s in WalkSampler(store, fetch=fetch, **options).sample(1200, seed=5)]
        for store in (neo, lb)
        for fetch in ("all", "steps")
    }
    ref = runs[("neo4j", "all")]
    assert all(r == ref for r in runs.values())
    assert sum(e["type"] == "FEEDS" for s in ref for e in s["edges"]) > 100
    assert WalkSampler(neo, **options).feeds_weight == WalkSampler(lb, **options).feeds_weight


def test_the_build_id_keys_the_prepared_graph(stores):
    """Neo4j's graph version is the current build's id: a new sampler on it reads no edges, a rebuild does."""
    neo, lb = stores
    WALK_CACHE.clear()
    version = neo.graph_version()
    assert version and neo.graph_version() == version
    cold, warm = WalkSampler(neo), WalkSampler(neo)
    first = [s.model_dump() for s in cold.sample(800, seed=3)]
    assert [s.model_dump() for s in warm.sample(800, seed=3)] == first
    assert (cold.steps, warm.steps, warm.round_trips) == (1, 0, 1)
    assert [s.model_dump() for s in WalkSampler(lb).sample(800, seed=3)] == first
    neo.write_graph(synthetic_graph(2000, seed=9))  # the same graph, as a new build
    assert neo.graph_version() != version
    rebuilt = WalkSampler(neo)
    assert [s.model_dump() for s in rebuilt.sample(800, seed=3)] == first
    assert rebuilt.steps == 1
