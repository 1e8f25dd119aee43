"""The calibrated FEEDS scorer used by `graph build`: probabilities recorded on every evidence edge in
both stores, `filter` mode, weights read without scikit-learn, and the shipped weights' provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolflow.engine.graph import edge_scorer
from toolflow.engine.graph.build import build_graph
from toolflow.engine.graph.edge_scorer import EdgeCalibrator, feature_names, parse_scorer, shipped_scorer
from toolflow.engine.graph.embedding import HashingEmbedder
from toolflow.engine.models import Tool

ROOT = Path(__file__).resolve().parents[3]


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
