"""The random and category baselines share the walk sampler's interface and determinism."""

from __future__ import annotations

from collections import Counter

import pytest
from sampling_graphs import mixed_graph

from toolflow.engine.sampling import CategorySampler, RandomSampler, make_sampler
from toolflow.engine.stores.ladybug_store import LadybugStore


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    g = mixed_graph()
    store = LadybugStore(tmp_path_factory.mktemp("lb-mixed"))
    store.write_graph(g)
    yield store, {t.id: t.category for t in g.tools}
    store.close()


def test_category_baseline_keeps_to_one_category(mixed):
    store, category = mixed
    samples = CategorySampler(store, min_tools=2, max_tools=5).sample(300, seed=1)
    assert all(len({category[t] for t in s.tool_ids}) == 1 for s in samples)
    assert all(2 <= len(s.tool_ids) <= 5 and len(set(s.tool_ids)) == len(s.tool_ids) for s in samples)
    # Misc has 3 tools: it only serves samples of up to 3, and every category gets used.
    used = Counter(category[s.tool_ids[0]] for s in samples)
    assert set(used) == {"Maps", "Mail", "Pay", "Misc"}
    assert all(len(s.tool_ids) <= 3 for s in samples if category[s.tool_ids[0]] == "Misc")
    assert all(s.strategy == "category" and not s.edges and s.path == s.tool_ids for s in samples)


def test_category_baseline_larger_than_every_category(mixed):
    store, category = mixed
    samples = CategorySampler(store, min_tools=8, max_tools=8).sample(30, seed=0)
    assert all(len(s.tool_ids) == 6 and len({category[t] for t in s.tool_ids}) == 1 for s in samples)


def test_random_baseline_is_uniform_and_seeded(mixed):
    store, category = mixed
    a = RandomSampler(store).sample(400, seed=3)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in RandomSampler(store).sample(400, seed=3)]
    assert [s.tool_ids for s in a] != [s.tool_ids for s in RandomSampler(store).sample(400, seed=4)]
    assert {len(s.tool_ids) for s in a} == {2, 3, 4, 5}
    assert all(len(set(s.tool_ids)) == len(s.tool_ids) for s in a)
    counts = Counter(t for s in a for t in s.tool_ids)
    assert len(counts) == len(category)  # all 21 tools show up
    assert max(counts.values()) < 3 * min(counts.values())
    assert sum(len({category[t] for t in s.tool_ids}) > 1 for s in a) > 300  # mostly mixes categories


def test_one_query_whatever_the_count(mixed):
    store, _ = mixed
    for cls in (RandomSampler, CategorySampler):
        sampler = cls(store)
        sampler.sample(1000, seed=0)
        assert sampler.round_trips == 1


def test_make_sampler():
    assert make_sampler("random", None, min_tools=3).min_tools == 3  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown strategy"):
        make_sampler("bfs", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        make_sampler("random", None, coverage=True)  # type: ignore[arg-type]
