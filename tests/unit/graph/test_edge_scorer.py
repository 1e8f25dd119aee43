"""The calibrated FEEDS scorer used by `graph build`: probabilities recorded on every evidence edge in
both stores, `filter` mode, weights read without scikit-learn, and the shipped weights' provenance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.engine.graph import edge_scorer
from toolflow.engine.graph.build import build_graph
from toolflow.engine.graph.edge_scorer import EdgeCalibrator, feature_names, parse_scorer, shipped_scorer
from toolflow.engine.graph.embedding import HashingEmbedder
from toolflow.engine.models import Tool
from toolflow.engine.stores import open_store

ROOT = Path(__file__).resolve().parents[3]
LABELS = ROOT.parent / "shared" / "data" / "flows_dev.json"


def _tool(name: str, desc: str, params: dict[str, str]) -> Tool:
    props = {p: {"type": t, "description": ""} for p, t in params.items()}
    return Tool(id=f"mcp:t/{name}", name=name, description=desc, source="mcp",
                parameters={"type": "object", "properties": props, "required": list(params)})


TOOLS = [
    _tool("create_ticket", "Creates a ticket and returns it", {"title": "string"}),
    _tool("get_ticket", "Get one ticket", {"ticket_id": "string"}),
    _tool("close_ticket", "Close a ticket", {"ticket_id": "string"}),
    _tool("list_files", "Returns the list of files in a folder", {"folder": "string"}),
    _tool("read_file", "Read a file", {"path": "string"}),
]


def _build(mode: str):
    return build_graph(TOOLS, HashingEmbedder, HashingEmbedder().name, edge_scorer=mode)[0]


def _names(data) -> dict[str, str]:
    return {t.id: t.name for t in data.tools}


def test_record_gives_every_edge_the_shipped_probability_and_drops_none():
    off, rec = _build("off"), _build("record")
    assert off.feeds and all("probability" not in e for e in off.feeds)
    assert [(e["src"], e["dst"]) for e in rec.feeds] == [(e["src"], e["dst"]) for e in off.feeds]
    cal = shipped_scorer()
    for e in rec.feeds:
        assert 0.0 < e["probability"] < 1.0
        assert e["probability"] == pytest.approx(cal.probability_of(e["evidence"], e["score"]), abs=1e-6)
        assert e["evidence"]  # the readable evidence list stays beside the number


def test_filter_drops_edges_under_the_cut_and_the_field_pairs_behind_them(monkeypatch):
    names = feature_names()
    coef = [0.0] * len(names)
    coef[names.index("from_description")] = -10.0  # prose-inferred returns: certain no, all else: 0.5
    strict = EdgeCalibrator(coef=coef, intercept=0.0, cut=0.4, features=names)
    monkeypatch.setattr(edge_scorer, "shipped_scorer", lambda: strict)
    rec, filt = _build("record"), _build("filter")
    name = _names(rec)
    dropped = {(name[e["src"]], name[e["dst"]]) for e in rec.feeds if "from_description" in e["evidence"]}
    assert ("list_files", "read_file") in dropped
    kept = {(name[e["src"]], name[e["dst"]]) for e in filt.feeds}
    assert kept == {(name[e["src"]], name[e["dst"]]) for e in rec.feeds} - dropped
    tool_of = {f.id: f.tool_id for f in filt.fields}
    feeds_fields = {(name[tool_of[m["src"]]], name[tool_of[m["dst"]]]) for m in filt.matches if m["kind"] == "FEEDS"}
    assert feeds_fields and not feeds_fields & dropped


def test_paper_rule_gets_no_probability():
    ret = {"type": "object", "properties": {"ticket_id": {"type": "string", "description": "the ticket id"}}}
    tools = [TOOLS[0].model_copy(update={"returns": ret}), *TOOLS[1:]]
    data = build_graph(tools, HashingEmbedder, HashingEmbedder().name, match="paper", threshold=0.1)[0]
    assert data.feeds and all("probability" not in e for e in data.feeds)


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


def test_bad_weights_are_one_line_naming_the_file():
    with pytest.raises(ValueError, match=r"^w\.json: not edge scorer weights") as e:
        parse_scorer("{not json", "w.json")
    assert "\n" not in str(e.value)
    other = json.dumps({"coef": [1.0], "intercept": 0.0, "cut": 0.5, "features": ["name"]})
    with pytest.raises(ValueError, match=r"^w\.json: features \['name'\] do not match"):
        parse_scorer(other, "w.json")


def test_shipped_weights_say_what_they_saw_and_do_not_lose_to_the_rule():
    cal = shipped_scorer()
    assert cal.features == feature_names() and len(cal.fitted_on) == 11
    assert cal.loso["precision"] >= cal.loso["rule_precision"] and cal.loso["recall"] >= cal.loso["rule_recall"]


@pytest.mark.skipif(not LABELS.exists(), reason="needs ../shared/data/flows_dev.json")
def test_fit_script_reproduces_the_shipped_weights():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "fit_edge_scorer.py"), "--check"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "shipped weights are current" in res.stdout
