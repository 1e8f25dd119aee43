"""The edge scorer's probabilities on both stores (the embedded store and a real Neo4j) and through the CLI,
the build in a fresh interpreter (no sklearn import), and the fit script reproducing the shipped weights."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.unit.graph.test_edge_scorer import ROOT, TOOLS, _build
from toolflow.engine.cli import main
from toolflow.engine.graph.edge_scorer import shipped_scorer
from toolflow.engine.stores import open_store

LABELS = ROOT.parent / "shared" / "data" / "flows_dev.json"


@pytest.fixture(params=["ladybug", "neo4j"])
def store(request, tmp_path):
    spec = str(tmp_path / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")
    with open_store(spec) as s:
        s.write_graph(_build("record"))
        yield s


def test_probability_in_cypher_and_neighbors_on_both_stores(store):
    names = {r["id"]: r["name"] for r in store.run("tool_names")}
    rows = store.run("feeds_all")
    assert rows and all(0.0 < r["probability"] < 1.0 for r in rows)
    pid = next(i for i, n in names.items() if n == "create_ticket")
    out = [r for r in store.neighbors(pid, ["FEEDS"]) if r["direction"] == "out"]
    assert {names[r["id"]] for r in out} >= {"get_ticket", "close_ticket"}
    assert all(0.0 < r["probability"] < 1.0 and r["evidence"] for r in out)
    got = store.query("MATCH (a:Tool)-[e:FEEDS]->(b:Tool) WHERE a.name = 'create_ticket' AND b.name = 'get_ticket' "
                      "RETURN e.probability AS p")
    assert len(got) == 1 and got[0]["p"] == pytest.approx(shipped_scorer().probability_of(
        next(r["evidence"] for r in rows if names[r["src"]] == "create_ticket" and names[r["dst"]] == "get_ticket"),
        next(r["score"] for r in rows if names[r["src"]] == "create_ticket" and names[r["dst"]] == "get_ticket")),
        abs=1e-6)


def test_cli_edge_scorer_option_and_neighbors_json(tmp_path):
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters})
                            + "\n" for t in TOOLS))
    runner = CliRunner()
    for mode in ("record", "off"):
        res = runner.invoke(main, ["graph", "build", str(path), "--store", str(tmp_path / mode), "--embedder",
                                   "hashing", "--edge-scorer", mode])
        assert res.exit_code == 0, res.output
    probs = {}
    for mode in ("record", "off"):
        res = runner.invoke(main, ["graph", "neighbors", "create_ticket", "--type", "FEEDS", "--store",
                                   str(tmp_path / mode), "--json"])
        probs[mode] = [r["probability"] for r in json.loads(res.output) if r["direction"] == "out"]
    assert probs["record"] and all(0.0 < p < 1.0 for p in probs["record"])
    assert probs["off"] == [None] * len(probs["record"])


def test_build_reads_the_weights_without_importing_sklearn():
    code = ("import sys; from toolflow.engine.graph.build import build_graph; "
            "from toolflow.engine.graph.embedding import HashingEmbedder; from toolflow.engine.models import Tool; "
            "t = [Tool(id='mcp:t/create_ticket', name='create_ticket', description='Creates a ticket and returns it', source='mcp', "
            "parameters={'type': 'object', 'properties': {}}), Tool(id='mcp:t/get_ticket', name='get_ticket', description='Get one ticket', "
            "source='mcp', parameters={'type': 'object', 'properties': {'ticket_id': {'type': 'string'}}})]; "
            "d, _ = build_graph(t, HashingEmbedder, HashingEmbedder().name); "
            "assert d.feeds and 'probability' in d.feeds[0], d.feeds; print('sklearn' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


@pytest.mark.skipif(not LABELS.exists(), reason="needs ../shared/data/flows_dev.json")
def test_fit_script_reproduces_the_shipped_weights():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "fit_edge_scorer.py"), "--check"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "shipped weights are current" in res.stdout
