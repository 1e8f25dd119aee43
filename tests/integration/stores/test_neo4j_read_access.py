"""Neo4j's own read-access layer refuses writes that get past the query filter.

`store.query` and `toolflow graph query` check the Cypher text first, then run it in a READ-access
transaction. These tests take the text filter out of the way (monkeypatched to accept everything) and
show that Neo4j itself still refuses each write, so a filter gap (a procedure that writes, a clause the
filter does not know) cannot change the graph. Without the filter patch, the same writes are refused
too, by whichever layer sees them first.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from graph_helpers import example_tools, hashing_graph
from neo4j.exceptions import ClientError
from neo4j_server import open_neo4j_store

from toolflow.engine.cli import main
from toolflow.engine.stores import ReadOnlyViolation
from toolflow.engine.stores import neo4j_store as neo4j_store_module

pytestmark = pytest.mark.neo4j

INDEX = "toolflow_read_access_probe"
WRITES = [
    "CREATE (:Tool {id: 'intruder'})",
    "MATCH (t:Tool) SET t.name = 'x'",
    "MATCH (t:Tool) DETACH DELETE t",
    f"CREATE INDEX {INDEX} IF NOT EXISTS FOR (t:Tool) ON (t.category)",
    # a procedure that writes: no write clause in the text at all
    f"CALL db.index.vector.createNodeIndex('{INDEX}', 'Tool', 'probe', 3, 'cosine')",
]


@pytest.fixture(scope="module")
def graph_store(neo4j_uri, neo4j_driver):
    neo4j_driver.execute_query(f"DROP INDEX {INDEX} IF EXISTS")  # left over by a run against broken code
    store = open_neo4j_store(neo4j_uri)
    store.write_graph(hashing_graph(example_tools()))
    yield store
    store.close()
    neo4j_driver.execute_query(f"DROP INDEX {INDEX} IF EXISTS")


@pytest.fixture
def no_text_filter(monkeypatch):
    """Accept any Cypher text, so only the session's access mode stands between a query and the graph."""
    monkeypatch.setattr(neo4j_store_module, "check_read_only", lambda *args, **kwargs: None)


def snapshot(store) -> tuple:
    counts = store.counts()
    names = store.query("MATCH (t:Tool) RETURN t.name AS n ORDER BY n")
    indexes = store.query("SHOW INDEXES YIELD name WHERE name = $n RETURN name", {"n": INDEX})
    return counts, names, indexes


def test_the_filter_bypass_is_real(graph_store, no_text_filter):
    """The patch does reach store.query: a read with a write word is no longer refused by the filter."""
    rows = graph_store.query("CALL { MATCH (t:Tool) RETURN count(t) AS n } RETURN n")
    assert rows == [{"n": 13}]


@pytest.mark.parametrize("cypher", WRITES)
def test_neo4j_refuses_writes_through_store_query(graph_store, no_text_filter, cypher):
    before = snapshot(graph_store)
    with pytest.raises(ClientError) as info:
        graph_store.query(cypher)
    assert "AccessMode" in (info.value.code or "") or "access mode" in str(info.value).lower(), info.value
    assert snapshot(graph_store) == before


@pytest.mark.parametrize("cypher", WRITES)
def test_neo4j_refuses_writes_through_the_cli(graph_store, neo4j_uri, no_text_filter, cypher):
    before = snapshot(graph_store)
    res = CliRunner().invoke(main, ["graph", "query", cypher, "--store", neo4j_uri])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), "a one-line error, not a traceback"
    assert "query failed" in res.output and "access mode" in res.output.lower(), res.output
    assert snapshot(graph_store) == before


@pytest.mark.parametrize("cypher", WRITES)
def test_writes_are_refused_with_every_layer_in_place(graph_store, neo4j_uri, cypher):
    before = snapshot(graph_store)
    with pytest.raises((ReadOnlyViolation, ClientError)):
        graph_store.query(cypher)
    res = CliRunner().invoke(main, ["graph", "query", cypher, "--store", neo4j_uri])
    assert res.exit_code == 1, res.output
    assert snapshot(graph_store) == before
