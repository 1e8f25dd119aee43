#!/usr/bin/env bash
# The test command (README, and what .ci/run calls): install, then pytest.
# Neo4j: tests use $NEO4J_URI when set, otherwise they start devserver/neo4j (genuine Neo4j 5.26) themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
python3 -m ruff check engine loaders cypher tests bench
lint-imports  # the pipeline floors (pyproject [tool.importlinter]): an upward import fails here
python3 -m pytest -q -p no:cacheprovider "$@"
