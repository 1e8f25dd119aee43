"""The real Neo4j behind the test suite: version, read/write, vector index, large batches."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator

import pytest
from neo4j import Driver

pytestmark = pytest.mark.neo4j


@pytest.fixture
def label(neo4j_driver: Driver) -> Iterator[str]:
    """A label unique to this test; its nodes are deleted afterwards."""
    name = f"DevSrv_{uuid.uuid4().hex[:12]}"
    yield name
    with neo4j_driver.session() as session:  # auto-commit: CALL ... IN TRANSACTIONS needs one
        session.run(f"MATCH (n:{name}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS").consume()


def test_version_is_5_26(neo4j_driver: Driver) -> None:
    records, _, _ = neo4j_driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
    )
    kernel = [r for r in records if r["name"] == "Neo4j Kernel"]
    assert kernel, records
    assert kernel[0]["versions"][0].startswith("5.26."), kernel[0]["versions"]


def test_write_then_read_node(neo4j_driver: Driver, label: str) -> None:
    neo4j_driver.execute_query(f"CREATE (:{label} {{key: $key, tags: $tags}})", key="k1", tags=["a", "b"])
    records, _, _ = neo4j_driver.execute_query(
        f"MATCH (n:{label} {{key: $key}}) RETURN n.tags AS tags, count(*) AS c", key="k1"
    )
    assert len(records) == 1
    assert records[0]["tags"] == ["a", "b"]
    assert records[0]["c"] == 1


def test_vector_index_query(neo4j_driver: Driver, label: str) -> None:
    index = f"{label.lower()}_emb"
    dims = 8
    rng = random.Random(7)
    vectors = {f"n{i}": [rng.uniform(-1.0, 1.0) for _ in range(dims)] for i in range(50)}
    neo4j_driver.execute_query(
        f"CREATE VECTOR INDEX {index} IF NOT EXISTS FOR (n:{label}) ON n.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dims, `vector.similarity_function`: 'cosine'}}",
        dims=dims,
    )
    try:
        neo4j_driver.execute_query(
            f"UNWIND $rows AS row CREATE (:{label} {{key: row.key, embedding: row.vec}})",
            rows=[{"key": k, "vec": v} for k, v in vectors.items()],
        )
        neo4j_driver.execute_query("CALL db.awaitIndexes(120)")
        target = "n17"
        records, _, _ = neo4j_driver.execute_query(
            "CALL db.index.vector.queryNodes($index, 5, $vec) YIELD node, score "
            "RETURN node.key AS key, score ORDER BY score DESC",
            index=index,
            vec=vectors[target],
        )
        assert len(records) == 5
        assert records[0]["key"] == target
        assert math.isclose(records[0]["score"], 1.0, abs_tol=5e-3)  # float32, quantized index
        assert all(r["score"] <= records[0]["score"] for r in records)
    finally:
        neo4j_driver.execute_query(f"DROP INDEX {index} IF EXISTS")


def test_large_unwind_batch(neo4j_driver: Driver, label: str) -> None:
    """One transaction of 10k rows with 384-d vectors (the loaders' batch size) fits the transaction state."""
    rows = [{"i": i, "vec": [float((i + j) % 17) / 17.0 for j in range(384)]} for i in range(10_000)]
    summary = neo4j_driver.execute_query(
        f"UNWIND $rows AS row CREATE (:{label} {{i: row.i, embedding: row.vec}})", rows=rows
    ).summary
    assert summary.counters.nodes_created == 10_000
    records, _, _ = neo4j_driver.execute_query(
        f"MATCH (n:{label}) RETURN count(n) AS c, sum(size(n.embedding)) AS dims"
    )
    assert records[0]["c"] == 10_000
    assert records[0]["dims"] == 10_000 * 384
