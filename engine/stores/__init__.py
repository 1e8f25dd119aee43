"""Graph stores: pick one from a ``--store`` value (a Bolt URI or a directory)."""

from __future__ import annotations

from pathlib import Path

from toolflow.engine.env import env
from toolflow.engine.paths import default_store_path
from toolflow.engine.stores.base import (
    EDGE_TYPES,
    TOOL_EDGE_TYPES,
    BuildConflict,
    GraphStore,
    QueryTimeout,
    QueryTooLarge,
    ReadOnlyViolation,
    StoreUnavailable,
    check_read_only,
)

BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def resolve_store_spec(spec: str | None) -> str:
    return spec or env("TOOLFLOW_STORE") or str(default_store_path())


def open_store(spec: str | None = None, read_only: bool = False) -> GraphStore:
    """A Bolt URI opens Neo4j (credentials from NEO4J_USER / NEO4J_PASSWORD); anything else is a directory."""
    spec = resolve_store_spec(spec)
    if spec.startswith(BOLT_SCHEMES):
        from toolflow.engine.stores.neo4j_store import Neo4jStore

        return Neo4jStore(spec)
    from toolflow.engine.stores.ladybug_store import LadybugStore

    return LadybugStore(Path(spec).expanduser(), read_only=read_only)


__all__ = [
    "EDGE_TYPES",
    "TOOL_EDGE_TYPES",
    "BuildConflict",
    "GraphStore",
    "QueryTimeout",
    "QueryTooLarge",
    "ReadOnlyViolation",
    "StoreUnavailable",
    "check_read_only",
    "default_store_path",
    "open_store",
    "resolve_store_spec",
]
