"""The retriever's documented rules, each through the Retriever itself, so changing a constant or a condition
fails here: RRF with k = 60, BM25 over stemmed terms, and the alternatives step for multi-part requests only.

A store with given rankings isolates the retriever's arithmetic; the stemming case uses the real embedded
store, whose BM25 indexes what `search_text` analyzed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from graph_helpers import hashing_graph

from toolflow.engine.graph.embedding import HashingEmbedder
from toolflow.engine.graph.search_text import analyze, query_parts, query_terms
from toolflow.engine.models import Tool
from toolflow.engine.retrieval import Retriever
from toolflow.engine.retrieval.rank import ordered, rrf
from toolflow.engine.stores import open_store

ONE_PART = "find me a hotel in Rome and book the cheapest room there for two nights"
TWO_PARTS = "Find me a hotel in Rome for two nights. Then book the cheapest room there for me."


class RankedStore:
    """Lexical and dense rankings given outright; SIMILAR edges from `similar`, no other edges."""

    def __init__(self, lexical: list[str], dense: list[str], similar: dict[str, set[str]] | None = None) -> None:
        self.lexical = [(t, 10.0 - i) for i, t in enumerate(lexical)]
        self.dense = [(t, 0.9 - i / 100) for i, t in enumerate(dense)]
        self.similar = similar or {}
        self.terms: list[list[str]] = []

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        self.terms.append(terms)
        return self.lexical[:limit]

    def vector_search(self, vector: Any, limit: int) -> list[tuple[str, float]]:
        return self.dense[:limit]

    def tool_links(self, ids: list[str], types: list[str]) -> list[dict[str, Any]]:
        if "SIMILAR" not in types:
            return []
        return [{"seed": a, "id": b, "type": "SIMILAR", "direction": "out", "score": 0.9}
                for a in ids for b in sorted(self.similar.get(a, ()))]

    def tool_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        return {i: np.zeros(4) for i in ids}

    def tool_catalog(self) -> list[dict[str, str]]:
        return [{"id": t, "name": t} for t, _ in self.lexical + self.dense]


def _stages(store: RankedStore, query: str, expand: bool = True):
    return Retriever(store, HashingEmbedder()).stages(query, np.ones((len(query_parts(query)), 4)), expand=expand)


def test_fusion_uses_k_60_so_one_lists_top_hit_does_not_drown_agreement() -> None:
    # `a` tops the lexical list only; `b` is 4th in both. With k = 60: 2/64 > 1/61; with k = 1, 1/2 > 2/5.
    store = RankedStore(lexical=["a", "p", "q", "b"], dense=["r", "s", "t", "b"])
    stages = _stages(store, "a request", expand=False)
    assert [t for t, _ in ordered(stages.fused)][:2] == ["b", "a"]
    assert stages.fused["b"] == pytest.approx(2 / 64) and stages.fused["a"] == pytest.approx(1 / 61)
    assert ordered(rrf([["a", "p", "q", "b"], ["r", "s", "t", "b"]]))[0][0] == "b"  # the function's default too


def test_bm25_matches_inflected_forms_through_the_stemmer(tmp_path) -> None:
    assert analyze("Forecasts") == analyze("forecast") == ["forecast"]
    assert query_terms("booking hotels, hotel bookings") == ["book", "hotel"]
    tools = [Tool(id="t:weather", name="weather_outlook", description="Weather forecast for a city.",
                  parameters={"type": "object", "properties": {"city": {"type": "string"}}}),
             Tool(id="t:hotel", name="reserve_room", description="Book a hotel room.",
                  parameters={"type": "object", "properties": {"hotel": {"type": "string"}}})]
    with open_store(str(tmp_path / "graph")) as store:
        store.write_graph(hashing_graph(tools))
        r = Retriever(store, HashingEmbedder())
        for query, tool in (("forecasts please", "t:weather"), ("bookings", "t:hotel")):
            lexical = r.stages(query, r.embed([query])[0], expand=False).lexical
            assert [t for t, _ in lexical] == [tool], (query, lexical)  # the query word appears only inflected
    spy = RankedStore(lexical=["x"], dense=["x"])
    _stages(spy, "Hotel bookings", expand=False)
    assert spy.terms == [["hotel", "book"]]  # the retriever sends analyzed terms to the store


def test_query_parts_split_sentences_and_leave_one_sentence_whole() -> None:
    assert query_parts(ONE_PART) == [ONE_PART]
    assert query_parts("Find me a hotel in Rome. Thanks!") == ["Find me a hotel in Rome. Thanks!"]
    assert query_parts(TWO_PARTS) == [TWO_PARTS, "Find me a hotel in Rome for two nights.",
                                      "Then book the cheapest room there for me."]


def test_alternatives_step_back_only_in_multi_part_requests() -> None:
    # b duplicates a (SIMILAR) and ranks just below it; c, for another part of the request, comes next
    def store() -> RankedStore:
        return RankedStore(lexical=["a", "b", "c", "d"], dense=["a", "b", "c", "d"], similar={"b": {"a"}, "a": {"b"}})

    one = _stages(store(), ONE_PART)
    assert one.yielded == {} and one.final == one.fused  # a one-part request is left alone
    two = _stages(store(), TWO_PARTS)
    assert two.yielded == {"b": "a"}
    order = [t for t, _ in ordered(two.final)]
    assert order[:2] == ["a", "c"] and "b" in order  # b stepped behind c, not dropped
    assert two.final["b"] == pytest.approx(0.9 * two.fused["b"])
