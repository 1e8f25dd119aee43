"""Opening the graph store for a use case, with one error that names the store tried."""

from __future__ import annotations

from toolflow.engine.errors import StoreError
from toolflow.engine.stores import GraphStore, open_store, resolve_store_spec


class StoreOpenError(ConnectionError, StoreError):
    """The graph store could not be opened (missing, locked, foreign, or unreachable)."""


def open_graph_store(spec: str | None, *, read_only: bool = True) -> GraphStore:
    """The store at `spec` (a Bolt URI or a folder; None: ``$TOOLFLOW_STORE`` or the user data dir)."""
    try:
        return open_store(spec, read_only=read_only)
    except (FileNotFoundError, ConnectionError) as exc:
        raise StoreOpenError(str(exc)) from None
    except Exception as exc:  # a locked or foreign directory, a driver error: say which store we tried
        raise StoreOpenError(f"cannot open the graph store {resolve_store_spec(spec)}: {exc}") from None
