"""Real data: on the graph of the 7 raw ToolBench categories, walks are far more composable than baselines.

Measured (seed 0, 2000 samples of 2–5 tools; 3404 tools, 317 FEEDS and 9596 SHARES_INPUT edges): FEEDS
between consecutive tools — walk over FEEDS+SHARES_INPUT 5.8%, walk over FEEDS alone 85%, category 0.06%,
random 0.0%; FEEDS chains x→y→z in 2.5% / 31% / 0% / 0% of samples; mean description similarity 0.57 /
0.55 / 0.26 / 0.14. FEEDS is sparse in ToolBench (few tools declare or show returns), so the default walk
mostly steps over SHARES_INPUT; the FEEDS-only walk shows the data flow.
"""

from __future__ import annotations

import pytest
from sampling_graphs import RAW_CATEGORIES, real_graph

from toolflow.engine.sampling.report import relatedness_report
from toolflow.engine.stores.ladybug_store import LadybugStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def toolbench_store(tmp_path_factory):
    g = real_graph(RAW_CATEGORIES)
    store = LadybugStore(tmp_path_factory.mktemp("lb-toolbench"))
    store.write_graph(g)
    yield store, g
    store.close()


def test_walks_carry_far_more_data_flow_than_baselines(toolbench_store):
    store, g = toolbench_store
    assert len(g.tools) > 3000 and len(g.feeds) > 100
    opts = {"walk": {"types": ["FEEDS"]}}
    feeds_only = relatedness_report(store, 2000, seed=0, strategies=("walk",), sampler_options=opts)["walk"]
    default = relatedness_report(store, 2000, seed=0)
    rnd, cat, walk = default["random"], default["category"], default["walk"]
    base = max(rnd["feeds_pair_share"], cat["feeds_pair_share"], 1e-3)
    assert feeds_only["feeds_pair_share"] >= 0.5 and feeds_only["feeds_pair_share"] >= 50 * base
    assert feeds_only["chain_share"] >= 0.15 > 10 * max(rnd["chain_share"], cat["chain_share"])
    assert walk["feeds_pair_share"] >= 0.03 and walk["feeds_pair_share"] >= 5 * base
    # Walk neighbours share meaning too: descriptions are far closer than in random or same-category sets.
    assert walk["mean_similarity"] >= rnd["mean_similarity"] + 0.25
    assert walk["mean_similarity"] >= cat["mean_similarity"] + 0.15
