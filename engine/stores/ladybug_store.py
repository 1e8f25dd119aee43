"""The embedded store: Ladybug (Kùzu's maintained continuation), in-process, one directory on disk.

Bulk loads go through ``COPY … FROM`` an Arrow table, far faster than ``UNWIND $rows`` (docs/stores.md).
A rebuild writes a fresh database in a new folder and swaps it in (see LadybugStore), which makes it
idempotent and atomic by construction. Ladybug's vector extension downloads at run time, so tool vectors
for search live in FAISS.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from filelock import FileLock, Timeout

from toolflow.cypher import load_statements
from toolflow.engine.graph.edges import GraphData
from toolflow.engine.stores.base import (
    BuildConflict,
    GraphStore,
    QueryTimeout,
    WriteProgress,
    check_read_only,
    field_rows,
    tool_rows,
)


def _rows(result: Any) -> list[dict[str, Any]]:
    results = result if isinstance(result, list) else [result]
    out: list[dict[str, Any]] = []
    for res in results:
        cols = res.get_column_names()
        out.extend(dict(zip(cols, row, strict=True)) for row in res.get_all())
    return out


BUILDS = "builds"
CURRENT = "current"
DB_FILE = "graph.lbug"
COMPLETE = "complete"
LOCK = "building.lock"
#: Reads that name FEEDS.probability/verified; a graph built before those columns gets the `_legacy` variant.
LEGACY_FEEDS_READS = frozenset(["feeds_all", "neighbors_out", "neighbors_in"])
BUILD_LOCK = "build.lock"  # in the store folder: held by the one build writing to it


def current_build_dir(root: Path) -> Path | None:
    """The folder holding the current graph: where ``root/current`` points, or ``root`` itself for the
    single-file layout of earlier versions; None when no graph was built yet."""
    link = root / CURRENT
    if link.is_symlink():
        target = Path(os.path.realpath(link))
        if (target / DB_FILE).exists():
            return target
    if (root / DB_FILE).exists():
        return root
    return None


def _build_in_progress(folder: Path) -> bool:
    """A build holds an exclusive lock on its folder while it writes; the kernel drops it when it dies."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LadybugStore(GraphStore):
    """A store folder holds ``builds/<stamp>/graph.lbug`` and a ``current`` symlink to one of them.

    A rebuild writes a new build folder, marks it complete, and swaps the symlink with an atomic rename, so
    a build killed at any point leaves the previous graph complete and readable, and a reader (which opens
    the folder the link names once) never sees a mix. The previous build stays until the next swap (a
    reader may still have it open); unfinished ones are removed by the next build unless their builder is
    still alive (it holds a lock on its folder).
    """

    dialect = "ladybug"

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        folder = current_build_dir(self.path)
        if folder is None:
            if read_only:
                raise FileNotFoundError(
                    f"no graph at {self.path}: run `toolflow graph build … --store {self.path}` first"
                )
            folder = self._write_build(None)  # an empty graph, so reads work before the first build
        self._open(folder)

    def _open(self, folder: Path) -> None:
        import ladybug

        self.build_dir = folder
        # Reads never write: the current build is opened read-only even by a store that builds.
        self._db = ladybug.Database(str(folder / DB_FILE), read_only=True)
        self._conn = ladybug.Connection(self._db)
        columns = {r["name"] for r in _rows(self._conn.execute(self.query_text("tool_columns")))}
        self._legacy_tools = "returns_observed" not in columns
        try:
            feeds = {r["name"] for r in _rows(self._conn.execute(self.query_text("feeds_columns")))}
        except RuntimeError:  # a graph without a FEEDS table at all
            feeds = set()
        self._legacy_feeds = "verified" not in feeds

    def run(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if name == "get_tools" and self._legacy_tools:  # a graph from an earlier version, not rebuilt yet
            name = "get_tools_legacy"
        elif name in LEGACY_FEEDS_READS and self._legacy_feeds:  # built before FEEDS.probability/verified
            name = f"{name}_legacy"
        return _rows(self._conn.execute(self.query_text(name), params or {}))

    def query(self, cypher: str, params: dict[str, Any] | None = None,
              timeout: float | None = None) -> list[dict[str, Any]]:
        """The connection's query timeout stops the query after `timeout` seconds (Ladybug checks it between
        batches of work); it is reset afterwards, so the store's own named queries run without one."""
        check_read_only(cypher, self.dialect)
        if timeout is not None:
            self._conn.set_query_timeout(max(1, round(timeout * 1000)))
        try:
            return _rows(self._conn.execute(cypher, params or {}))
        except RuntimeError as exc:
            if timeout is not None and str(exc).strip().rstrip(".").lower() == "interrupted":
                raise QueryTimeout(timeout) from None
            raise
        finally:
            if timeout is not None:
                self._conn.set_query_timeout(0)

    def write_graph(self, graph: GraphData, progress: WriteProgress | None = None) -> None:
        if self.read_only:
            raise PermissionError(f"the store at {self.path} was opened read-only")
        self._bm25 = self._faiss = None  # retrieval indexes are rebuilt from the new graph on next use
        with self._build_lock():
            previous = self.build_dir
            folder = self._write_build(graph, progress)
            self.close()
            self._open(folder)
            self._remove_old_builds(keep={folder, previous})

    @contextlib.contextmanager
    def _build_lock(self) -> Iterator[None]:
        """One build at a time per store folder (a second raises BuildConflict): two at once each removed
        the other's folder as an old build. The kernel drops the lock of a killed build."""
        lock = FileLock(str(self.path / BUILD_LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise BuildConflict(str(self.path)) from None
        try:
            yield
        finally:
            lock.release()

    def unfinished_builds(self) -> list[dict[str, Any]]:
        out = []
        current = self.build_dir
        for folder in sorted((self.path / BUILDS).glob("*")):
            if not folder.is_dir() or folder == current:
                continue
            older = current.parent == folder.parent and folder.name < current.name  # stamps sort by time
            if (folder / COMPLETE).exists() and older:  # the previous build, kept for readers that have it open
                continue
            started = datetime.fromtimestamp(folder.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")
            state = "in progress" if _build_in_progress(folder) else "killed"
            out.append({"id": folder.name, "started": started, "state": state})
        return out

    # --- building --------------------------------------------------------------------------------------
    def _write_build(self, graph: GraphData | None, progress: WriteProgress | None = None) -> Path:
        """Write `graph` (None: an empty one) into a new build folder, mark it complete, make it current."""
        import ladybug

        self._remove_unfinished_builds()
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        folder = self.path / BUILDS / stamp
        folder.mkdir(parents=True)
        lock = os.open(folder / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            db = ladybug.Database(str(folder / DB_FILE))
            conn = ladybug.Connection(db)
            try:
                for stmt in load_statements("schema", self.dialect):
                    conn.execute(stmt)
                if graph is not None:
                    self._copy_graph(conn, graph, progress)
            finally:
                conn.close()
                db.close()
            marker = folder / COMPLETE
            with open(marker, "w") as fh:
                fh.write(stamp)
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(folder)
            tmp = self.path / f".{CURRENT}-{stamp}"
            os.symlink(Path(BUILDS) / stamp, tmp)
            os.replace(tmp, self.path / CURRENT)  # the swap: atomic on POSIX
            _fsync_dir(self.path)
        except BaseException:  # a failed build (bad data, disk full, Ctrl-C) leaves no half folder behind
            if os.path.realpath(self.path / CURRENT) != str(folder.resolve()):
                shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            os.close(lock)
        return folder

    def _remove_unfinished_builds(self) -> None:
        for folder in (self.path / BUILDS).glob("*"):
            if folder.is_dir() and not (folder / COMPLETE).exists() and not _build_in_progress(folder):
                shutil.rmtree(folder, ignore_errors=True)

    def _remove_old_builds(self, keep: set[Path | None]) -> None:
        for folder in (self.path / BUILDS).glob("*"):
            if folder.is_dir() and (folder / COMPLETE).exists() and folder not in keep:
                shutil.rmtree(folder, ignore_errors=True)
        if self.path not in keep:  # the single-file layout of earlier versions, now replaced
            for old in self.path.glob(f"{DB_FILE}*"):
                if old.is_file():
                    old.unlink()

    def _copy_graph(self, conn: Any, graph: GraphData, progress: WriteProgress | None) -> None:
        def tick(what: str, rows: int) -> None:  # COPY is all-or-nothing per table: one tick per table
            if progress:
                progress(what, rows, rows)

        emb = np.asarray(graph.tool_embeddings, dtype=np.float32)
        tools = pa.Table.from_pylist(tool_rows(graph)) if graph.tools else None
        if tools is not None:
            tools = tools.append_column("embedding", pa.array(list(emb), type=pa.list_(pa.float32())))
            self._copy(conn, "Tool", tools)
        tick("tools", len(graph.tools))
        if graph.fields:
            self._copy(conn, "Field", pa.Table.from_pylist(field_rows(graph)))
        tick("fields", len(graph.fields))
        cats = graph.categories
        if cats:
            self._copy(conn, "Category", pa.table({"name": cats}))
            pairs = [(t.id, t.category) for t in graph.tools if t.category]
            self._copy(conn, "IN_CATEGORY", pa.table({"from": [a for a, _ in pairs], "to": [b for _, b in pairs]}))
        params = [(f.tool_id, f.id) for f in graph.fields if f.role == "param"]
        rets = [(f.tool_id, f.id) for f in graph.fields if f.role == "return"]
        for table, pairs in (("HAS_PARAM", params), ("RETURNS", rets)):
            if pairs:
                self._copy(conn, table, pa.table({"from": [a for a, _ in pairs], "to": [b for _, b in pairs]}))
        tick("membership", len(params) + len(rets))
        self._copy_edges(conn, "FEEDS", graph.feeds, ["score", "from_field", "to_param", "evidence", "cosine",
                                                     "returns_source", "probability", "verified"])
        tick("FEEDS", len(graph.feeds))
        self._copy_edges(conn, "SHARES_INPUT", graph.shares, ["score", "param_a", "param_b"])
        tick("SHARES_INPUT", len(graph.shares))
        self._copy_edges(conn, "SIMILAR", graph.similar, ["score"])
        tick("SIMILAR", len(graph.similar))
        self._copy_edges(conn, "MATCHES", graph.matches, ["score", "kind"])
        tick("MATCHES", len(graph.matches))

    def _copy_edges(self, conn: Any, table: str, rows: list[dict], props: list[str]) -> None:
        if not rows:
            return
        cols: dict[str, list] = {"from": [r["src"] for r in rows], "to": [r["dst"] for r in rows]}
        for p in props:
            cols[p] = [r.get(p) for r in rows]
        self._copy(conn, table, pa.table(cols))

    def _copy(self, conn: Any, table: str, data: pa.Table) -> None:
        # Ladybug resolves the Arrow table by the name of a local variable in the calling frame.
        copy_source = data  # noqa: F841
        conn.execute(self.query_text(f"copy_{table.lower()}"))

    def close(self) -> None:
        self._conn.close()
        self._db.close()

    # --- retrieval reads: bm25s and FAISS over the stored text and vectors, built on first use -----------
    _bm25: Any = None
    _faiss: Any = None

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        if self._bm25 is None:
            from toolflow.engine.stores.search_indexes import Bm25Index

            rows = self.run("tool_search_texts")
            self._bm25 = Bm25Index([r["id"] for r in rows], [r["search_text"] or "" for r in rows])
        return self._bm25.search(terms, limit)

    def vector_search(self, vector: Any, limit: int) -> list[tuple[str, float]]:
        if self._faiss is None:
            from toolflow.engine.stores.search_indexes import FaissIndex

            self._faiss = FaissIndex(*self.tool_embeddings())
        return self._faiss.search(np.asarray(vector, dtype=np.float32), limit)

    def tool_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """From the in-memory FAISS copy (the same stored vectors): one UNWIND lookup per expansion cost ~0.1 s."""
        if self._faiss is None:
            return super().tool_vectors(ids)
        pos = self._faiss.positions()
        return {i: self._faiss.vectors[pos[i]] for i in ids if i in pos}
