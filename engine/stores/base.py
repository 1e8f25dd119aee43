"""One interface over the two graph stores (Neo4j over Bolt, embedded Ladybug).

Everything above this layer (stats, neighbours, sampling, retrieval) talks to a store only through named
queries from ``cypher/``, so a new query is a new file, and the two dialects differ only where they must.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from toolflow.cypher import load
from toolflow.engine.errors import StoreError
from toolflow.engine.graph.edges import GraphData
from toolflow.engine.models import Tool, ToolHints
from toolflow.engine.stores.readonly import QueryTooLarge as QueryTooLarge
from toolflow.engine.stores.readonly import ReadOnlyViolation as ReadOnlyViolation
from toolflow.engine.stores.readonly import check_read_only as _check_read_only

EDGE_TYPES = ("FEEDS", "SHARES_INPUT", "SIMILAR", "MATCHES")
TOOL_EDGE_TYPES = ("FEEDS", "SHARES_INPUT", "SIMILAR")

WriteProgress = Callable[[str, int, int], None]  # (what, advance, total)


class QueryTimeout(RuntimeError, StoreError):
    """A user's query ran longer than the time it was given and the store stopped it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query ran longer than {seconds:g} s and was stopped")
        self.seconds = seconds


class BuildConflict(RuntimeError, StoreError):
    """Another build is writing to the same store (builds are serialized per store); the message names it."""

    def __init__(self, store: str) -> None:
        super().__init__(f"another build is running on {store}: wait for it to finish, or build into another store")


class StoreUnavailable(ConnectionError, StoreError):
    """The store stopped answering in the middle of the work (Neo4j stopped or unreachable); one line."""


def check_read_only(cypher: str, dialect: str | None = None) -> None:
    """Refuse anything but read clauses, and text over the size or nesting limit (see readonly.py: a tokenizer
    and a clause parser; the stores also run reads in read-access transactions / read-only mode)."""
    _check_read_only(cypher, dialect)


class GraphStore(ABC):
    dialect: ClassVar[str]

    @abstractmethod
    def run(self, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run the named query from cypher/ and return rows as dicts keyed by the RETURN names."""

    @abstractmethod
    def query(self, cypher: str, params: dict[str, Any] | None = None,
              timeout: float | None = None) -> list[dict[str, Any]]:
        """Run a user's read-only Cypher text once (no retry); raise QueryTimeout past `timeout` seconds."""

    @abstractmethod
    def write_graph(self, graph: GraphData, progress: WriteProgress | None = None) -> None:
        """Replace the stored graph with `graph` (idempotent: the same input gives the same graph)."""

    @abstractmethod
    def close(self) -> None: ...

    def unfinished_builds(self) -> list[dict[str, Any]]:
        """Builds started and not finished (in progress, or killed): [{"id", "started", ...}]."""
        return []

    def graph_version(self) -> str | None:
        """A key that changes whenever the graph this store reads does (a new build), or None when the store
        cannot tell; readers that cache what they derive from the whole graph (the walk's adjacency) key it on
        this and cache nothing under None."""
        return None

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query_text(self, name: str) -> str:
        return load(name, self.dialect)

    # --- reads shared by both stores -------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        edges = {t: 0 for t in EDGE_TYPES}
        for row in self.run("edge_counts"):
            edges[row["type"]] = int(row["n"])
        return {
            "tools": int(self.run("count_tools")[0]["n"]),
            "fields": int(self.run("count_fields")[0]["n"]),
            "edges": edges,
        }

    def find_tools(self, query: str) -> list[dict[str, Any]]:
        return self.run("find_tool", {"q": query})

    def neighbors(self, tool_id: str, types: list[str]) -> list[dict[str, Any]]:
        rows = self.run("neighbors_out", {"id": tool_id, "types": types})
        rows += self.run("neighbors_in", {"id": tool_id, "types": types})
        return sorted(rows, key=lambda r: (-(r["score"] or 0.0), r["type"], r["id"], r["direction"]))

    def get_tools(self, ids: list[str]) -> list[Tool]:
        """Tools by id, in the order asked; unknown ids raise KeyError."""
        rows = {r["id"]: r for r in self.run("get_tools", {"ids": list(ids)})}
        missing = [i for i in ids if i not in rows]
        if missing:
            raise KeyError(f"tools not in the graph: {missing[:5]}")
        return [row_to_tool(rows[i]) for i in ids]

    def tool_embeddings(self) -> tuple[list[str], np.ndarray]:
        rows = self.run("tool_embeddings")
        ids = [r["id"] for r in rows]
        mat = np.array([r["embedding"] for r in rows], dtype=np.float32) if rows else np.zeros((0, 384), np.float32)
        return ids, mat

    # --- retrieval reads (engine/retrieval) ---------------------------------------------------------------
    def tool_catalog(self) -> list[dict[str, Any]]:
        """id, name and original_name of every tool, ordered by id."""
        return self.run("tool_catalog")

    def tool_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given tools (unknown ids are absent from the answer)."""
        rows = self.run("tool_vectors", {"ids": list(ids)})
        return {r["id"]: np.asarray(r["embedding"], dtype=np.float32) for r in rows if r["embedding"] is not None}

    def tool_links(self, ids: list[str], types: list[str]) -> list[dict[str, Any]]:
        """Edges of `types` around each tool in `ids`, both directions: seed, id, type, direction, score, fields."""
        rows = self.run("tool_links", {"ids": list(ids), "types": list(types)})
        return sorted(rows, key=lambda r: (r["seed"], -(r["score"] or 0.0), r["type"], r["id"], r["direction"]))

    @abstractmethod
    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[str, float]]:
        """BM25 over ``Tool.search_text`` for analyzed query terms: (tool id, score), best first, ties by id."""

    @abstractmethod
    def vector_search(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Tools nearest to an L2-normalized vector: (tool id, cosine), best first, ties by id."""


def row_to_tool(row: dict[str, Any]) -> Tool:
    return Tool(
        id=row["id"],
        name=row["name"],
        original_name=row.get("original_name"),
        description=row.get("description") or "",
        category=row.get("category"),
        source=row.get("source") or "unknown",
        parameters=json.loads(row["parameters_json"]),
        returns=json.loads(row["returns_json"]) if row.get("returns_json") else None,
        returns_inferred=bool(row.get("returns_inferred")),
        returns_observed=bool(row.get("returns_observed")),
        hints=_hints(row),
    )


#: The side-effect hints stored as :Tool properties (null when the source gave none).
HINT_PROPERTIES = ("read_only", "destructive", "idempotent")


def _hints(row: dict[str, Any]) -> ToolHints | None:
    values = {k: row[k] for k in HINT_PROPERTIES if row.get(k) is not None}
    return ToolHints(**values) if values else None


def _hint_columns(t: Tool) -> dict[str, bool | None]:
    return {k: getattr(t.hints, k) if t.hints is not None else None for k in HINT_PROPERTIES}


def tool_rows(graph: GraphData) -> list[dict[str, Any]]:
    from toolflow.engine.graph.search_text import search_text

    return [
        {
            "id": t.id,
            "name": t.name,
            "original_name": t.original_name,
            "description": t.description,
            "category": t.category,
            "source": t.source,
            "parameters_json": json.dumps(t.parameters, sort_keys=True),
            "returns_json": json.dumps(t.returns, sort_keys=True) if t.returns is not None else None,
            "returns_inferred": t.returns_inferred,
            "returns_observed": t.returns_observed,
            **_hint_columns(t),  # in the Ladybug schema's column order: COPY maps columns by position
            "search_text": search_text(t),  # analyzed once here: both stores' BM25 index the same tokens
        }
        for t in graph.tools
    ]


def field_rows(graph: GraphData) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "tool_id": f.tool_id,
            "name": f.name,
            "description": f.description,
            "type": f.type,
            "role": f.role,
            "required": f.required,
            "source": f.source,
        }
        for f in graph.fields
    ]
