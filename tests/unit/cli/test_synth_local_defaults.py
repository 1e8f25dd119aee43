"""synth's defaults that depend on where the model runs, and its FEEDS weight reaching the walk."""

from __future__ import annotations

import pytest
from sampling_graphs import mixed_graph

from toolflow.engine.api import llm as api_llm
from toolflow.engine.api.llm import LOCAL_CONCURRENCY, REMOTE_CONCURRENCY, default_concurrency
from toolflow.engine.sampling.sources import StoreSampleSource
from toolflow.engine.stores.ladybug_store import LadybugStore

ENDPOINT_ENV = ("TOOLFLOW_BASE_URL", "OPENAI_BASE_URL", "TOOLFLOW_MODEL")


def options(**kw):
    return {"base_url": None, "model": None, "temperature": None, "roles": {}, **kw}


@pytest.fixture
def no_endpoint(monkeypatch):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", None)
    for k in ENDPOINT_ENV:
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_embedded_model_runs_one_dialogue_at_a_time(no_endpoint):
    assert LOCAL_CONCURRENCY == 1
    assert default_concurrency(options()) == LOCAL_CONCURRENCY


def test_an_endpoint_keeps_the_remote_default(no_endpoint):
    assert default_concurrency(options(base_url="http://127.0.0.1:9/v1", model="m")) == REMOTE_CONCURRENCY
    no_endpoint.setenv("TOOLFLOW_BASE_URL", "http://127.0.0.1:9/v1")
    no_endpoint.setenv("TOOLFLOW_MODEL", "m")
    assert default_concurrency(options()) == REMOTE_CONCURRENCY


def test_synth_feeds_weight_reaches_the_walk(tmp_path):
    with LadybugStore(tmp_path / "g") as store:
        store.write_graph(mixed_graph())
        plain = [s.tool_ids for s in StoreSampleSource(store, feeds_weight=1.0).samples(300, 2, "walk")]
        heavy = [s.tool_ids for s in StoreSampleSource(store, feeds_weight=20.0).samples(300, 2, "walk")]
        rand = [s.tool_ids for s in StoreSampleSource(store, feeds_weight=20.0).samples(50, 2, "random")]
        assert rand == [s.tool_ids for s in StoreSampleSource(store).samples(50, 2, "random")]
    assert plain != heavy
