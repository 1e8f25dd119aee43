"""Inferred returns, their flows, hard negatives and provenance read back from both stores (the embedded
store and a real Neo4j)."""

from __future__ import annotations

import pytest

from tests.unit.graph.test_returns import _graph
from toolflow.engine.stores import open_store


@pytest.fixture(params=["ladybug", "neo4j"])
def store(request, tmp_path):
    spec = str(tmp_path / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")
    with open_store(spec) as s:
        s.write_graph(_graph())
        yield s


def test_flows_and_hard_negatives_read_back_from_both_stores(store):
    names = {r["id"]: r["name"] for r in store.run("tool_names")}
    pairs = {(names[r["src"]], names[r["dst"]]): r for r in store.run("feeds_all")}
    assert pairs[("search_repositories", "get_issue")]["to_param"] == "repo"  # entity across names
    assert pairs[("create_issue", "get_issue")]["from_field"] == "number"  # created object, prose only
    assert pairs[("list_files", "read_file")]["from_field"] == "[].path"  # listing -> element
    assert pairs[("list_files", "read_file")]["returns_source"] == "description"
    for negative in (("delete_issue", "get_issue"), ("add_comment", "get_issue"), ("list_files", "get_issue")):
        assert negative not in pairs


def test_returns_provenance_in_cypher_on_both_stores(store):
    fields = store.query(
        "MATCH (t:Tool)-[:RETURNS]->(f:Field) WHERE t.name = 'list_files' RETURN f.name AS name, f.source AS source"
    )
    assert sorted((r["name"], r["source"]) for r in fields) == [("name", "description"), ("path", "description")]
    feeds = store.query(
        "MATCH (a:Tool)-[e:FEEDS]->(b:Tool) WHERE a.name = 'create_issue' AND b.name = 'get_issue' "
        "RETURN e.returns_source AS source, e.evidence AS evidence"
    )
    assert feeds == [{"source": "name", "evidence": "entity_ref+from_name"}]
