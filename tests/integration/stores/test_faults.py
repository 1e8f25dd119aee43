"""Safe under bad input and faults (issue 12), on both stores against a real Neo4j and the embedded store.

- read-only queries: every bypass reported in the issue is refused through ``store.query`` and through
  ``toolflow graph query``, and the store is intact afterwards (no file written, no broken checkpoint);
- atomic rebuilds: a build SIGKILLed at several points (the builder, or the Neo4j server itself) leaves the
  previous graph complete and readable, ``graph stats`` reports the unfinished build, readers never see a mix;
- secrets: a password inside a URI and an API key echoed by a server never reach a message or traceback;
- LLM faults: invalid JSON bodies and empty ``choices`` are retried like a 5xx, then the dialogue is rejected
  with the reason and the run goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from graph_helpers import SHARED_DATA, example_tools, hashing_graph

from toolflow.engine.cli import main
from toolflow.engine.stores import ReadOnlyViolation, open_store
from toolflow.engine.stores.ladybug_store import BUILDS, COMPLETE
from toolflow.engine.stores.readonly import check_read_only

TESTS = Path(__file__).resolve().parents[2] / "support"
DRIVER = TESTS / "faults_driver.py"
TOOLFLOW = Path(sys.executable).with_name("toolflow")
EMAIL = SHARED_DATA / "raw" / "toolbench" / "Email"


@pytest.fixture(scope="module")
def example_graph():
    return hashing_graph(example_tools())


def _spec(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "graph") if kind == "ladybug" else request.getfixturevalue("neo4j_uri")


@pytest.fixture(params=["ladybug", "neo4j"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _spec(request.param, request, tmp_path)


def _build(spec: str, graph: Any) -> dict[str, Any]:
    with open_store(spec) as store:
        store.write_graph(graph)
        return store.counts()


def _counts(spec: str) -> dict[str, Any]:
    with open_store(spec, read_only=True) as store:
        return store.counts()


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


# ---- 1. read-only by construction ------------------------------------------------------------------

COMMENT_APOSTROPHE = (  # the bypass: an apostrophe in a // comment hid the rest from the old regex
    "MATCH (t:Tool) RETURN 1 AS x LIMIT 1; // it's\n"
    "COPY (RETURN 'owned' AS a) TO \"victim.csv\"; // '"
)
BYPASSES = [
    COMMENT_APOSTROPHE,
    "CHECKPOINT",
    "MATCH (t:Tool) RETURN t.name AS n /* ' */ ; CHECKPOINT",
    "RETURN 1 AS x // it's\rCHECKPOINT",
    "COPY (MATCH (t:Tool) RETURN t.name) TO 'victim.csv'",
    "EXPORT DATABASE 'exported'",
    "IMPORT DATABASE 'exported'",
    "LOAD FROM '/etc/hostname' RETURN *",
    "LOAD CSV FROM 'file:///etc/hostname' AS line RETURN line",
    "INSTALL json",
    "LOAD EXTENSION json",
    "ATTACH 'other.lbug' AS other (dbtype lbug)",
    "CALL dbms.listConfig()",
    "CALL `dbms`.listConfig()",
    "CALL `dbms`.`listConfig`() YIELD name RETURN name",
    "CALL db.clearQueryCaches()",
    "SHOW TRANSACTIONS",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "CALL db.index.vector.createNodeIndex('v', 'Tool', 'embedding', 384, 'cosine')",
    "CALL { MATCH (t:Tool) DETACH DELETE t } RETURN 1 AS x",
    "MATCH (t:Tool) CALL { WITH t SET t.name = 'x' } IN TRANSACTIONS",
    "CALL threads=1",
    "MATCH (t:Tool) SET t.name = 'x'",
    "CREATE (:Tool {id: 'x'})",
    "RETURN 'unterminated",
]


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def built_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, example_graph):
    spec = _spec(request.param, request, tmp_path_factory.mktemp("ro"))
    counts = _build(spec, example_graph)
    return spec, counts


@pytest.mark.parametrize("cypher", BYPASSES)
def test_bypass_is_refused_by_store_and_cli(built_store, cypher, tmp_path, monkeypatch):
    spec, counts = built_store
    monkeypatch.chdir(tmp_path)  # COPY … TO / EXPORT would write here
    with open_store(spec, read_only=True) as store, pytest.raises(ReadOnlyViolation, match="read-only"):
        store.query(cypher)
    res = cli("graph", "query", cypher, "--store", spec)
    assert res.exit_code == 1 and "read-only" in res.output and "Traceback" not in res.output, res.output
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert _counts(spec) == counts  # and every later read still works (no pending checkpoint recovery)


def test_bypass_through_the_installed_cli(built_store, tmp_path):
    spec, counts = built_store
    proc = subprocess.run([str(TOOLFLOW), "graph", "query", COMMENT_APOSTROPHE, "--store", spec],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "read-only" in proc.stderr and "COPY" in proc.stderr, proc.stderr
    assert not (tmp_path / "victim.csv").exists()
    stats = subprocess.run([str(TOOLFLOW), "graph", "stats", "--store", spec, "--json"],
                           capture_output=True, text=True, timeout=120)
    assert stats.returncode == 0 and json.loads(stats.stdout)["tools"] == counts["tools"], stats.stderr


def test_keyword_words_used_as_names_pass(built_store):
    spec, _ = built_store
    check_read_only("RETURN x AS set")
    with open_store(spec, read_only=True) as store:
        assert store.query("WITH 1 AS x RETURN x AS set") == [{"set": 1}]
        rows = store.query("MATCH (t:Tool) WHERE t.name = 'book_flight' RETURN t.name AS load, {set: 1} AS copy")
        assert rows == [{"load": "book_flight", "copy": {"set": 1}}]
        assert store.query("MATCH (t:Tool {name: 'send_email'}) RETURN 'it\\'s; CHECKPOINT' AS s // CREATE") == [
            {"s": "it's; CHECKPOINT"}]
        listing = ("CALL db.labels() YIELD label RETURN label" if store.dialect == "neo4j"
                   else "CALL show_tables() RETURN name AS label")
        assert "Tool" in {r["label"] for r in store.query(listing)}
    res = cli("graph", "query", "WITH 1 AS x RETURN x AS set", "--store", spec, "--json")
    assert res.exit_code == 0 and json.loads(res.stdout) == [{"set": 1}], res.output


# ---- 2. atomic rebuilds ----------------------------------------------------------------------------

def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DRIVER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _wait_for(proc: subprocess.Popen, word: str, timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"driver ended before {word}: {proc.stderr.read() if proc.stderr else ''}")
        if line.strip() == word:
            return
    raise AssertionError(f"driver did not reach {word} in {timeout}s")


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group; one that has already ended (a fast build can finish before the kill) is fine:
    the callers assert on what it left behind."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def _assert_previous_graph_intact(spec: str, counts: dict[str, Any], example_graph) -> list[dict[str, Any]]:
    with open_store(spec, read_only=True) as store:
        assert store.counts() == counts
        feed = example_graph.feeds[0]
        assert any(r["id"] == feed["dst"] for r in store.neighbors(feed["src"], ["FEEDS"]))
        assert [t.id for t in store.get_tools([feed["src"]])] == [feed["src"]]
        return store.unfinished_builds()


KILL_POINTS = {"ladybug": ["tools", "fields", "feeds", "matches", "swap"], "neo4j": ["tools", "fields", "feeds", "matches"]}


@pytest.mark.parametrize(("kind", "point"), [(k, p) for k, ps in KILL_POINTS.items() for p in ps])
def test_build_killed_at_a_point_keeps_the_previous_graph(kind, point, request, tmp_path, example_graph):
    spec = _spec(kind, request, tmp_path)
    counts = _build(spec, example_graph)
    proc = _start("build", spec, point)
    try:
        _wait_for(proc, "PAUSED")
    finally:
        _kill(proc)
    unfinished = _assert_previous_graph_intact(spec, counts, example_graph)
    assert len(unfinished) == 1, unfinished
    stats = cli("graph", "stats", "--store", spec)
    assert stats.exit_code == 0 and "unfinished build is present" in stats.output, stats.output
    as_json = json.loads(cli("graph", "stats", "--store", spec, "--json").stdout)
    assert as_json["tools"] == counts["tools"] and len(as_json["unfinished_builds"]) == 1
    after = _build(spec, example_graph)  # the next build removes the unfinished one
    assert after == counts
    with open_store(spec, read_only=True) as store:
        assert store.unfinished_builds() == []
    if kind == "ladybug":  # the killed folder is gone; only the current and the previous builds remain
        folders = sorted((Path(spec) / BUILDS).iterdir())
        assert len(folders) == 2 and all((f / COMPLETE).exists() for f in folders)


@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0])
def test_cli_build_sigkilled_leaves_old_or_new_graph_never_a_mix(spec, delay, example_graph, tmp_path):
    counts = _build(spec, example_graph)
    proc = subprocess.Popen([str(TOOLFLOW), "graph", "build", str(EMAIL), "--skip-invalid", "--embedder", "hashing",
                             "--cache-dir", str(tmp_path / "cache"), "--store", spec],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    with open_store(spec, read_only=True) as watcher:  # kill once the new build has started writing (+ delay)
        end = time.monotonic() + 180
        while not watcher.unfinished_builds() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
    time.sleep(delay)
    killed = proc.poll() is None
    _kill(proc)
    now = _counts(spec)
    if now != counts:  # the build got to swap before the kill: then it is the whole new graph
        assert now["tools"] > counts["tools"] and now["edges"]["MATCHES"] > 0
    assert killed or now != counts


def test_readers_never_see_a_mix(spec, example_graph, tmp_path):
    """No sleeps: the reader has read the old graph before the build starts, and its last read begins after
    the build is done (a stop file), so the outcome does not depend on how loaded the machine is."""
    counts = _build(spec, example_graph)
    stop = tmp_path / "stop"
    reader = _start("read", spec, "600", str(stop))
    assert reader.stdout is not None
    lines = [reader.stdout.readline()]  # a read of the old graph, before the build starts
    drain = threading.Thread(target=lambda: lines.extend(reader.stdout), daemon=True)  # never a full pipe
    drain.start()
    builder = None
    try:
        builder = _start("build", spec, "none")
        _wait_for(builder, "DONE", timeout=300)
        stop.touch()
        reader.wait(120)
        drain.join(30)
    finally:
        for proc in (builder, reader):
            if proc is not None:
                _kill(proc)
    lines = [line.strip() for line in lines if line.strip()]
    assert lines[-1] == "END", lines[-3:]
    seen = [json.loads(line) for line in lines[:-1] if line.strip()]
    final = _counts(spec)
    assert final["tools"] > counts["tools"]
    assert seen and all(s in (counts, final) for s in seen), [s for s in seen if s not in (counts, final)][:3]
    assert seen[-1] == final


@pytest.fixture
def throwaway_neo4j(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A private Neo4j for kill tests (never the shared server): (server, base dir); restartable on its data."""
    try:
        from neo4j_server import start_dev_server
    except ImportError:  # pragma: no cover
        from tests.neo4j_server import start_dev_server
    base = tmp_path / "neo4j-kill"
    server = start_dev_server(base)
    state = {"server": server}
    try:
        yield state, base
    finally:
        state["server"].stop()


@pytest.mark.slow  # two starts of a private Neo4j (~1-4 min on a loaded machine)
def test_neo4j_killed_mid_build_keeps_the_previous_graph(throwaway_neo4j, example_graph):
    try:
        from neo4j_server import start_dev_server
    except ImportError:  # pragma: no cover
        from tests.neo4j_server import start_dev_server
    state, base = throwaway_neo4j
    uri = state["server"].uri
    counts = _build(uri, example_graph)
    proc = _start("build", uri, "fields")
    try:
        _wait_for(proc, "PAUSED")  # tools and the first field batch are committed under the new stamp
        pid = int((base / "run" / "neo4j-dev.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    finally:
        _kill(proc)
    state["server"] = start_dev_server(base)  # same data folder, recovered after the crash
    uri = state["server"].uri
    unfinished = _assert_previous_graph_intact(uri, counts, example_graph)
    assert len(unfinished) == 1
    assert _build(uri, example_graph) == counts
    with open_store(uri, read_only=True) as store:
        assert store.unfinished_builds() == []
        assert store.query("MATCH (t:Tool) RETURN count(t) AS n") == [{"n": counts["tools"]}]  # old copies gone
