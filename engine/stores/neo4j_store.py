"""The server store: Neo4j over Bolt with the official driver.

Writes are batched ``UNWIND $rows … MERGE`` statements, each stamped with a new build id, beside the current
graph; a (:GraphBuild) node marks which build is current, every read filters on it, and the mark moves in one
transaction when the new build is complete. Then whatever carries another stamp is deleted in batches. So a
rebuild of the same tools gives the same counts, a rebuild with fewer tools leaves no stale nodes behind, and
a build killed midway (toolflow or Neo4j) leaves the previous graph as it was. Reads run in read-access transactions, so
Neo4j itself refuses a write that slips past the clause check.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from toolflow.cypher import load_statements
from toolflow.engine.env import env
from toolflow.engine.graph.edges import GraphData
from toolflow.engine.secrets import redact, register_secret
from toolflow.engine.stores.base import (
    EDGE_TYPES,
    BuildConflict,
    GraphStore,
    QueryTimeout,
    StoreUnavailable,
    WriteProgress,
    check_read_only,
    field_rows,
    tool_rows,
)

BATCH = 2000
#: Seconds a build waits for another build's lock before giving up with BuildConflict.
LOCK_PROBE_S = 2.0
#: Longest wait for reads begun on the previous graph before its nodes are deleted (seconds).
DRAIN_S = 30.0
#: Metadata of the build's own transactions, which the wait for readers leaves out.
OWN_TX = {"toolflow": "build"}
DELETE_BATCH = 5_000  # nodes per transaction; their edges go with them


def _one_line(text: str) -> str:
    return " ".join(text.split())


def split_uri_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """``bolt://u:p@host:7687`` → (``bolt://host:7687``, "u", "p"); a URI without userinfo is returned as is."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri, None, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(user) or None, unquote(password) or None


class Neo4jStore(GraphStore):
    dialect = "neo4j"

    def __init__(self, uri: str, user: str | None = None, password: str | None = None, database: str | None = None):
        import neo4j

        # Credentials inside the URI (bolt://user:pw@host) are taken out of it: the driver refuses them there,
        # and every message below names the URI, which must not carry the password.
        shown = redact(uri)  # bolt://user:***@host: says which user was tried, never the password
        uri, uri_user, uri_password = split_uri_credentials(uri)
        user = uri_user or user or env("NEO4J_USER", "neo4j")
        password = uri_password or password or env("NEO4J_PASSWORD", "password")
        register_secret(password)
        self.uri = uri
        self.database = database or env("NEO4J_DATABASE") or None
        try:
            # Deprecation notices off: walk_graph.cypher joins on id(), deprecated without a replacement, and
            # the driver would log a notice on stderr at every sampling run.
            self._driver = neo4j.GraphDatabase.driver(
                uri, auth=(user, password),
                notifications_disabled_classifications=[neo4j.NotificationDisabledClassification.DEPRECATION],
            )
        except Exception as exc:  # a malformed URI: say so in one line, password masked
            raise ConnectionError(f"cannot open Neo4j at {shown}: {_one_line(redact(exc, [password]))}") from None
        try:
            self._driver.verify_connectivity()
        except Exception as exc:  # the driver's own messages do not say which URI it tried
            self._driver.close()
            raise ConnectionError(f"cannot reach Neo4j at {shown}: {_one_line(redact(exc, [password]))}") from None

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

        import neo4j

        try:
            with self._session(read=True) as s:
                return s.execute_read(work)
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired) as exc:
            # after the driver's own retries: the server is gone (stopped, restarted, unreachable)
            raise StoreUnavailable(f"lost the connection to Neo4j at {redact(self.uri)}: "
                                   f"{_one_line(redact(exc))}") from None

    def run(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._read(self.query_text(name), params)

    def counts(self) -> dict[str, Any]:
        """One statement, so tools, fields and edges come from one build even while a build swaps in."""
        rows = self.run("count_all")
        edges = {t: 0 for t in EDGE_TYPES}
        if not rows:  # no build yet
            return {"tools": 0, "fields": 0, "edges": edges}
        for e in rows[0]["edges"]:
            edges[e["type"]] = int(e["n"])
        return {"tools": int(rows[0]["tools"]), "fields": int(rows[0]["fields"]), "edges": edges}

    def query(self, cypher: str, params: dict[str, Any] | None = None,
              timeout: float | None = None) -> list[dict[str, Any]]:
        """One attempt in an explicit read transaction: `execute_read` would retry a user's query on a transient
        error (a slow query ran again and again), and the server stops it after `timeout` seconds."""
        from neo4j.exceptions import Neo4jError

        check_read_only(cypher, self.dialect)
        with self._session(read=True) as s:
            try:
                with s.begin_transaction(timeout=timeout) as tx:
                    res = tx.run(cypher, params or {})
                    keys = res.keys()
                    return [dict(zip(keys, r.values(), strict=True)) for r in res]
            except Neo4jError as exc:
                if timeout is not None and "TransactionTimedOut" in (exc.code or ""):
                    raise QueryTimeout(timeout) from None
                raise

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

    @contextlib.contextmanager
    def _build_lock(self) -> Iterator[None]:
        """Hold this database's build lock (cypher/neo4j/build_lock_take.cypher) for the block, or raise
        BuildConflict: two builds at once deleted each other's nodes and could leave the store empty.

        A probe with a short transaction timeout tells a held lock from a free one without waiting; the lock
        itself is then held by a transaction kept open (and rolled back) around the build.
        """
        import neo4j

        with self._session() as s:
            for stmt in load_statements("build_lock_ensure", self.dialect):
                s.run(stmt).consume()
        take = self.query_text("build_lock_take")
        with self._session() as s:
            try:
                with s.begin_transaction(timeout=LOCK_PROBE_S, metadata=OWN_TX) as probe:
                    probe.run(take).consume()
                    probe.rollback()
            except neo4j.exceptions.Neo4jError as exc:
                if "Transaction" not in (exc.code or ""):  # not a lock wait cut by the timeout
                    raise
                raise BuildConflict(self.uri) from None
        with self._session() as s, s.begin_transaction(metadata=OWN_TX) as held:
            held.run(take).consume()
            try:
                yield
            finally:
                with contextlib.suppress(Exception):  # a lost connection has released the lock already
                    held.rollback()

    def write_graph(self, graph: GraphData, progress: WriteProgress | None = None) -> None:
        """Write `graph` as a new build beside the current one, then swap the "current" mark in one transaction.

        Readers filter on the current build, so a build killed at any point (this process or Neo4j) leaves
        the previous graph complete and readable; what the killed build wrote is removed by the next one.
        Builds on one database are serialized: a second one raises BuildConflict.
        """
        with self._build_lock():
            self._write_build(graph, progress)

    def _write_build(self, graph: GraphData, progress: WriteProgress | None) -> None:
        self.ensure_schema()
        build = uuid.uuid4().hex
        with self._session() as s:
            s.execute_write(lambda tx: tx.run(self.query_text("build_begin"), {"build": build}).consume())
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
        with self._session() as s:
            s.execute_write(lambda tx: tx.run(self.query_text("build_commit"), {"build": build}).consume())
        self._wait_for_readers()
        self._delete_stale(build)
        with self._session() as s:  # fresh BM25 statistics (see cypher/neo4j/reset_fulltext.cypher)
            for stmt in load_statements("reset_fulltext", self.dialect):
                s.run(stmt).consume()

    def unfinished_builds(self) -> list[dict[str, Any]]:
        return self.run("unfinished_builds")

    def graph_version(self) -> str | None:
        """The current build's id (a new one per build, never reused): one indexed node read."""
        rows = self.run("walk_graph_version")
        return str(rows[0]["version"]) if rows and rows[0]["version"] is not None else None

    def _running_transactions(self) -> set[str]:
        with self._session() as s, s.begin_transaction(metadata=OWN_TX) as tx:
            return {r["id"] for r in tx.run(self.query_text("running_transactions"))}

    def _wait_for_readers(self) -> None:
        """Wait (at most DRAIN_S) until every transaction running at the swap has ended.

        Neo4j reads are read-committed: a read that found the previous build current and is still walking
        its nodes saw them vanish mid-statement when they were deleted right after the swap (counts of
        neither build). Reads that start after the swap use the new build and are not waited for.
        """
        waiting = self._running_transactions()
        end = time.monotonic() + DRAIN_S
        while waiting and time.monotonic() < end:
            time.sleep(0.05)
            waiting &= self._running_transactions()

    def _delete_stale(self, build: str) -> None:
        """Remove every other build: first each known stamp through the (label, build) indexes, then one
        sweep for nodes without a known stamp (graphs written by earlier versions)."""
        with self._session() as s:
            stale = [r["id"] for r in s.execute_read(
                lambda tx: list(tx.run(self.query_text("stale_builds"), {"build": build})))]
            by_stamp = self.query_text("delete_build_nodes")
            for old in stale:
                while s.execute_write(
                    lambda tx, o=old: tx.run(by_stamp, {"old": o, "limit": DELETE_BATCH}).single()["deleted"]
                ):
                    pass
            sweep = self.query_text("delete_stale_nodes")
            while s.execute_write(
                lambda tx: tx.run(sweep, {"build": build, "limit": DELETE_BATCH}).single()["deleted"]
            ):
                pass
            s.execute_write(lambda tx: tx.run(self.query_text("build_forget_stale"), {"build": build}).consume())

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
