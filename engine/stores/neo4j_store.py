"""The server store: Neo4j over Bolt with the official driver.

Writes are batched ``UNWIND $rows … MERGE`` statements, each stamped with a build id; after a build, whatever
carries an older stamp is deleted in batches. So a rebuild of the same tools changes nothing (same counts),
and a rebuild with fewer tools leaves no stale nodes behind. Reads run in read-access transactions, so
Neo4j itself refuses a write that slips past the clause check.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from ...cypher import load_statements
from ..graph_build import GraphData
from .base import GraphStore, WriteProgress, check_read_only, field_rows, tool_rows

BATCH = 2000
DELETE_BATCH = 10_000


class Neo4jStore(GraphStore):
    dialect = "neo4j"

    def __init__(self, uri: str, user: str | None = None, password: str | None = None, database: str | None = None):
        import neo4j

        user = user or os.environ.get("NEO4J_USER", "neo4j")
        password = password or os.environ.get("NEO4J_PASSWORD", "password")
        self.uri = uri
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        try:
            self._driver.verify_connectivity()
        except Exception as exc:  # the driver's own messages do not say which URI it tried
            self._driver.close()
            raise ConnectionError(f"cannot reach Neo4j at {uri}: {exc}") from exc

    def _session(self, read: bool = False):
        import neo4j

        mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
        return self._driver.session(database=self.database, default_access_mode=mode)

    def _read(self, text: str, params: dict[str, Any] | None) -> list[dict[str, Any]]:
        def work(tx):
            # dict(zip(...)) instead of Record.data(): data() walks every list element (walk queries return lists)
            res = tx.run(text, params or {})
            keys = res.keys()
            return [dict(zip(keys, r.values(), strict=True)) for r in res]

        with self._session(read=True) as s:
            return s.execute_read(work)

    def run(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._read(self.query_text(name), params)

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        check_read_only(cypher)
        return self._read(cypher, params)

    def ensure_schema(self) -> None:
        with self._session() as s:
            for stmt in load_statements("schema", self.dialect):
                s.run(stmt).consume()

    def _write_batches(self, name: str, rows: list[dict], build: str, progress: WriteProgress | None) -> None:
        text = self.query_text(name)
        with self._session() as s:
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                s.execute_write(lambda tx, c=chunk: tx.run(text, {"rows": c, "build": build}).consume())
                if progress:
                    progress(name.removeprefix("write_"), len(chunk), len(rows))

    def write_graph(self, graph: GraphData, progress: WriteProgress | None = None) -> None:
        self.ensure_schema()
        build = uuid.uuid4().hex
        trows = tool_rows(graph)
        for row, vec in zip(trows, graph.tool_embeddings, strict=True):
            row["embedding"] = [float(x) for x in vec]
        self._write_batches("write_tools", trows, build, progress)
        cats = [{"name": t.category, "tool_id": t.id} for t in graph.tools if t.category]
        self._write_batches("write_categories", cats, build, progress)
        self._write_batches("write_fields", field_rows(graph), build, progress)
        self._write_batches("write_feeds", graph.feeds, build, progress)
        self._write_batches("write_shares", graph.shares, build, progress)
        self._write_batches("write_similar", graph.similar, build, progress)
        self._write_batches("write_matches", graph.matches, build, progress)
        self._delete_stale(build)
        with self._session() as s:  # fresh BM25 statistics (see cypher/neo4j/reset_fulltext.cypher)
            for stmt in load_statements("reset_fulltext", self.dialect):
                s.run(stmt).consume()

    def _delete_stale(self, build: str) -> None:
        with self._session() as s:
            for name in ("delete_stale_rels", "delete_stale_nodes"):
                text = self.query_text(name)
                while True:
                    rec = s.execute_write(
                        lambda tx, t=text: tx.run(t, {"build": build, "limit": DELETE_BATCH}).single()
                    )
                    if not rec or rec["deleted"] == 0:
                        break

    def close(self) -> None:
        self._driver.close()

    # --- retrieval reads: Neo4j's own indexes (full-text for BM25, vector for dense) ---------------------
    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        if not terms or limit <= 0:
            return []
        # A few rows past the cut, so that ties at the cut break by id as on the embedded store.
        rows = self.run("lexical_search", {"q": " ".join(terms), "limit": limit + 16})
        rows.sort(key=lambda r: (-r["score"], r["id"]))
        return [(r["id"], float(r["score"])) for r in rows[:limit]]

    def vector_search(self, vector: Any, limit: int) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        rows = self.run("vector_search", {"vector": [float(x) for x in vector], "limit": limit + 16})
        rows.sort(key=lambda r: (-r["score"], r["id"]))
        return [(r["id"], float(r["score"])) for r in rows[:limit]]
