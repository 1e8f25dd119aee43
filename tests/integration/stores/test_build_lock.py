"""Graph builds are serialized per store (issue 20), on both stores.

Two `graph build` on one Neo4j database at once deleted each other's `GraphBuild` marker and in 2 of 10 tries
left the store empty; on the embedded store each removed the other's folder as an old build. Now a build
holds the store's build lock (a write-locked (:BuildLock) node on Neo4j, a lock file on the embedded store)
and a second one fails with one line; a killed build's lock is free at once.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from graph_helpers import EXAMPLE_TOOLS, example_tools, hashing_graph

from tests.integration.stores.test_faults import _kill, _start, _wait_for
from toolflow.engine.cli import main
from toolflow.engine.stores import open_store


@pytest.fixture(scope="module")
def example_graph():
    return hashing_graph(example_tools())


@pytest.fixture(params=["ladybug", "neo4j"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")


def _counts(spec: str) -> dict[str, Any]:
    with open_store(spec, read_only=True) as store:
        return store.counts()


def _cli_build(spec: str, tmp_path: Path):
    return CliRunner().invoke(main, ["graph", "build", str(EXAMPLE_TOOLS), "--embedder", "hashing",
                                     "--cache-dir", str(tmp_path / "cache"), "--store", spec])


def test_a_second_build_is_refused_while_one_runs(spec, example_graph, tmp_path):
    with open_store(spec) as store:
        store.write_graph(example_graph)
        before = store.counts()
    running = _start("build", spec, "fields")  # the ToolBench Email graph, paused mid-write holding the lock
    try:
        _wait_for(running, "PAUSED")
        refused = _cli_build(spec, tmp_path)
        assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
        assert f"another build is running on {spec}" in refused.output, refused.output
        assert "Traceback" not in refused.output
        with open_store(spec) as store, pytest.raises(RuntimeError, match="another build is running") as info:
            store.write_graph(example_graph)
        assert type(info.value).__name__ == "BuildConflict"
        assert _counts(spec) == before
    finally:
        _kill(running)
    rebuilt = _cli_build(spec, tmp_path)  # the killed build's lock is free at once: no lease to wait out
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _counts(spec) == before


def test_concurrent_builds_never_leave_the_store_empty(spec, example_graph):
    with open_store(spec) as store:
        store.write_graph(example_graph)
    for _ in range(3):
        builders = [_start("build", spec, "none") for _ in range(2)]
        outcomes = []
        for proc in builders:
            try:
                out, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                _kill(proc)
                raise
            outcomes.append("DONE" if "DONE" in out else err.strip().splitlines()[-1])
        assert "DONE" in outcomes, outcomes
        assert all(o == "DONE" or "another build is running on" in o for o in outcomes), outcomes
        counts = _counts(spec)
        assert counts["tools"] > len(example_graph.tools) and counts["edges"]["MATCHES"] > 0, counts


@pytest.mark.neo4j
def test_a_read_begun_on_the_previous_graph_sees_it_whole(neo4j_uri, example_graph):
    """Neo4j reads are read-committed: a reader that found the previous build current, and was still reading it
    when the build swapped in, saw its nodes deleted under it (the flaky `test_readers_never_see_a_mix[neo4j]`).
    The build now deletes the previous graph only after the transactions running at the swap end."""
    import threading

    import neo4j
    from neo4j_server import credentials

    with open_store(neo4j_uri) as store:
        store.write_graph(example_graph)
        before = store.counts()
    smaller = hashing_graph([t for t in example_tools() if t.category != "Travel"])
    driver = neo4j.GraphDatabase.driver(neo4j_uri, auth=credentials())
    try:
        with driver.session(default_access_mode=neo4j.READ_ACCESS) as session, session.begin_transaction() as read:
            old = read.run("MATCH (g:GraphBuild {state: 'current'}) RETURN g.id AS id").single()["id"]

            def build() -> None:
                with open_store(neo4j_uri) as writer:
                    writer.write_graph(smaller)

            builder = threading.Thread(target=build)
            builder.start()
            builder.join(8)  # the old code swapped and deleted the previous graph in this time; now it waits
            tools = read.run("MATCH (t:Tool {build: $b}) RETURN count(t) AS n", b=old).single()["n"]
            assert tools == before["tools"], f"{tools} of the {before['tools']} tools of the build being read"
            read.rollback()
        builder.join(60)
        assert not builder.is_alive()
    finally:
        driver.close()
    assert _counts(neo4j_uri)["tools"] == len(smaller.tools)
