"""`graph eval` scores a stored graph on both stores (the embedded store and a real Neo4j)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tests.unit.graph.test_eval import EDGES, TOOLS, labels_file  # noqa: F401 - shared helpers and fixtures (used by name)
from toolflow.engine.cli import main
from toolflow.engine.graph.build import GraphData
from toolflow.engine.models import Tool
from toolflow.engine.stores import open_store


def _graph() -> GraphData:
    tools = [Tool(id=tid, name=name, source="t") for tid, name in TOOLS]
    feeds = [{"src": e.src, "dst": e.dst, "score": 0.9, "from_field": e.from_field or "f", "to_param": e.to_param or "p",
              "evidence": "name", "cosine": 0.5} for e in EDGES]
    return GraphData(tools=tools, tool_embeddings=np.eye(4, 384, dtype=np.float32), fields=[], feeds=feeds)


@pytest.fixture(params=["ladybug", "neo4j"])
def store_spec(request, tmp_path):
    spec = str(tmp_path / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")
    with open_store(spec) as s:
        s.write_graph(_graph())
    return spec


def test_graph_eval_command_on_both_stores(store_spec, labels_file):  # noqa: F811
    result = CliRunner().invoke(main, ["graph", "eval", str(labels_file), "--store", store_spec, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    tiny = next(s for s in report["sets"] if s["set"] == "tiny.json")
    assert (tiny["tp"], tiny["fp"], tiny["fn"], tiny["precision"], tiny["recall"]) == (2, 2, 1, 0.5, 0.6667)
    assert report["overall"]["f1"] == pytest.approx(0.5714, abs=1e-4)
    assert tiny["false_edges"][0]["edges"][0]["evidence"] == "name"
    table = CliRunner().invoke(main, ["graph", "eval", str(labels_file), "--store", store_spec])
    assert table.exit_code == 0 and "0.500" in table.output and "missed" in table.output
