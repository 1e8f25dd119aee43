"""Unit suite: no Neo4j server, no embedded model, no subprocess; the loop `scripts/test.sh unit` runs.

A unit test that asks for Neo4j fails here with a pointer to tests/integration (the root conftest would
otherwise start a dev server for it, and the fast loop would silently become the slow one).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    pytest.fail("a unit test asked for Neo4j: put it under tests/integration/<package>/", pytrace=False)


@pytest.fixture(scope="session")
def neo4j_driver() -> None:
    pytest.fail("a unit test asked for Neo4j: put it under tests/integration/<package>/", pytrace=False)
