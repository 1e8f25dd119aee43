"""The "Neo4j" tests really run on Neo4j: a NEO4J_URI that is not a Bolt URI fails instead of
opening the embedded store (which would make the store-parity tests compare it with itself)."""

from __future__ import annotations

import pytest
from neo4j_server import open_neo4j_store, require_bolt_uri


@pytest.mark.parametrize("uri", ["/tmp/graph", "graph", "http://127.0.0.1:7474", "file:///tmp/graph"])
def test_non_bolt_uri_is_refused(uri, tmp_path):
    with pytest.raises(ValueError, match="bolt://"):
        require_bolt_uri(uri)
    with pytest.raises(ValueError, match="bolt://"):
        open_neo4j_store(str(tmp_path / "graph"))
    assert not (tmp_path / "graph").exists(), "no embedded store was created on the way"


@pytest.mark.parametrize("uri", ["bolt://127.0.0.1:7687", "neo4j://db:7687", "neo4j+s://x.databases.neo4j.io"])
def test_bolt_uris_pass(uri):
    assert require_bolt_uri(uri) == uri


@pytest.mark.neo4j
def test_the_fixture_store_is_neo4j(neo4j_uri):
    from toolflow.engine.stores.neo4j_store import Neo4jStore

    assert require_bolt_uri(neo4j_uri) == neo4j_uri
    with open_neo4j_store(neo4j_uri) as store:
        assert isinstance(store, Neo4jStore) and store.dialect == "neo4j"
        rows = store.query("SHOW INDEXES YIELD name, type RETURN count(*) AS n")  # Neo4j-only syntax
        assert rows[0]["n"] >= 1
