"""Both stores pass the same cases: idempotent rebuilds, stale removal, reads, read-only queries."""

from __future__ import annotations

import pytest
from graph_helpers import example_tools, hashing_graph
from neo4j_server import open_neo4j_store

from toolflow.engine.stores import ReadOnlyViolation, open_store


@pytest.fixture(params=["ladybug", "neo4j"])
def store(request, tmp_path):
    if request.param == "ladybug":
        s = open_store(str(tmp_path / "graph"))
    else:
        s = open_neo4j_store(request.getfixturevalue("neo4j_uri"))
    assert s.dialect == request.param
    yield s
    s.close()


@pytest.fixture(scope="module")
def example_graph():
    return hashing_graph(example_tools())


def test_build_twice_gives_the_same_counts(store, example_graph):
    store.write_graph(example_graph)
    first = store.counts()
    store.write_graph(example_graph)
    assert store.counts() == first
    assert first["tools"] == len(example_graph.tools) == 13
    assert first["fields"] == len(example_graph.fields)
    assert first["edges"] == {
        "FEEDS": len(example_graph.feeds),
        "SHARES_INPUT": len(example_graph.shares),
        "SIMILAR": len(example_graph.similar),
        "MATCHES": len(example_graph.matches),
    }
    assert first["edges"]["FEEDS"] > 0


def test_rebuild_with_fewer_tools_removes_stale_nodes_and_edges(store, example_graph):
    store.write_graph(example_graph)
    smaller = hashing_graph([t for t in example_tools() if t.category != "Travel"])
    store.write_graph(smaller)
    counts = store.counts()
    assert counts["tools"] == len(smaller.tools) < 13
    assert counts["edges"]["FEEDS"] == len(smaller.feeds)
    assert store.query("MATCH (t:Tool) WHERE t.category = 'Travel' RETURN count(t) AS n") == [{"n": 0}]


def test_reads(store, example_graph):
    store.write_graph(example_graph)
    feed = example_graph.feeds[0]
    rows = store.neighbors(feed["src"], ["FEEDS"])
    assert any(r["id"] == feed["dst"] and r["direction"] == "out" and r["this_field"] == feed["from_field"] for r in rows)
    back = store.neighbors(feed["dst"], ["FEEDS"])
    assert any(r["id"] == feed["src"] and r["direction"] == "in" and r["this_field"] == feed["to_param"] for r in back)
    tools = store.get_tools([t.id for t in example_graph.tools[:3]])
    assert [t.model_dump() for t in tools] == [t.model_dump(exclude={"extra"}) | {"extra": {}} for t in example_graph.tools[:3]]
    ids, mat = store.tool_embeddings()
    assert ids == sorted(t.id for t in example_graph.tools) and mat.shape == (13, 384)
    cats = {r["category"]: r["tools"] for r in store.run("category_counts")}
    assert cats["Travel"] == sum(1 for t in example_graph.tools if t.category == "Travel")
    assert store.find_tools("book_flight")[0]["id"] == "example:Travel/book_flight"
    with pytest.raises(KeyError):
        store.get_tools(["nope"])


def test_no_edge_joins_a_tool_to_itself(store, example_graph):
    store.write_graph(example_graph)
    rows = store.query("MATCH (a:Tool)-[r:FEEDS|SHARES_INPUT|SIMILAR]->(b:Tool) WHERE a.id = b.id RETURN count(r) AS n")
    assert rows == [{"n": 0}]


@pytest.mark.parametrize(
    "cypher",
    ["MATCH (t:Tool) SET t.name = 'x'", "CREATE (:Tool {id: 'x'})", "MATCH (t:Tool) DETACH DELETE t",
     "merge (t:Tool {id: 'x'}) RETURN t"],
)
def test_query_refuses_writes(store, example_graph, cypher):
    store.write_graph(example_graph)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        store.query(cypher)
    assert store.counts()["tools"] == 13


def test_query_allows_write_words_inside_strings(store, example_graph):
    store.write_graph(example_graph)
    rows = store.query("MATCH (t:Tool) WHERE t.description CONTAINS $w RETURN t.name AS name ORDER BY name",
                       {"w": "Reserve"})
    assert rows == [{"name": "book_hotel"}, {"name": "reserve_table"}]
    assert store.query("MATCH (t:Tool {name: 'send_email'}) RETURN 'SET it' AS s") == [{"s": "SET it"}]
