"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import neo4j_server as _neo4j_server  # tests/support is on sys.path (pyproject [tool.pytest.ini_options] pythonpath)
import pytest

# ---- Neo4j dev server fixtures (begin) -------------------------------------------------------------
# Self-contained block; the logic lives in tests/support/neo4j_server.py. `neo4j_uri` is NEO4J_URI when set,
# otherwise a private embedded Neo4j 5.26 started by devserver/neo4j/neo4j-dev for this session.
# A server that cannot start is a test failure (in CI and locally), never a skip.

if TYPE_CHECKING:
    from neo4j import Driver


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bolt URI of a real Neo4j: ``NEO4J_URI`` or a dev server started (and stopped) for this session."""
    external = os.environ.get("NEO4J_URI")
    if external:
        try:
            _neo4j_server.require_bolt_uri(external)  # a directory here would test the embedded store
        except ValueError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield external
        return
    try:
        server = _neo4j_server.start_dev_server(tmp_path_factory.mktemp("neo4j-dev"))
    except _neo4j_server.Neo4jServerError as exc:
        where = "CI" if os.environ.get("CI") else "this machine"
        pytest.fail(
            f"Neo4j dev server could not start on {where} (set NEO4J_URI to use another server):\n{exc}",
            pytrace=False,
        )
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_uri: str) -> Iterator[Driver]:
    """Session ``neo4j.Driver`` with NEO4J_USER/NEO4J_PASSWORD (default neo4j/password)."""
    try:
        driver = _neo4j_server.open_driver(neo4j_uri)
    except ImportError as exc:
        pytest.fail(f"the neo4j Python driver is not installed (pip install neo4j): {exc}", pytrace=False)
    except Exception as exc:
        pytest.fail(f"cannot connect to Neo4j at {neo4j_uri}: {exc!r}", pytrace=False)
    try:
        yield driver
    finally:
        driver.close()


# ---- Neo4j dev server fixtures (end) ---------------------------------------------------------------


# ---- Suite markers ---------------------------------------------------------------------------------
_SUITES = ("unit", "integration")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test `unit` or `integration` from its folder, so `-m unit` selects what tests/unit holds."""
    for item in items:
        try:
            parts = item.path.relative_to(config.rootpath).parts
        except ValueError:  # a test file outside the repo (a probe under tmp_path)
            continue
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in _SUITES:
            item.add_marker(parts[1])
