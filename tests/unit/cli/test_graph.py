"""The graph CLI on the embedded store: build, stats, neighbors, query, and clear errors."""

from __future__ import annotations

import json
import statistics

import pytest
from click.testing import CliRunner
from graph_helpers import EXAMPLE_TOOLS

from toolflow.engine.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("cli") / "graph")
    res = CliRunner().invoke(main, ["graph", "build", str(EXAMPLE_TOOLS), "--store", store, "--json"])
    assert res.exit_code == 0, res.output
    return store, res


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_prints_summary_with_damping_effect(built):
    _, res = built
    report = json.loads(res.stdout)
    assert report["counts"]["tools"] == 13
    assert report["edges"]["FEEDS"] == report["counts"]["edges"]["FEEDS"] > 0
    assert set(report["seconds"]) >= {"load", "embed", "knn", "edges", "write"}


def test_fanout_damps_hub_fields(built, tmp_path):
    """--fanout caps how many partners a field keeps: the report's before/after numbers move with it."""
    _, res = built
    default = json.loads(res.stdout)
    assert max(default["max_field_degree_after"].values()) > 1  # the example has fields with several partners
    damped_res = run("graph", "build", str(EXAMPLE_TOOLS), "--store", str(tmp_path / "g"), "--fanout", "1", "--json")
    assert damped_res.exit_code == 0, damped_res.output
    damped = json.loads(damped_res.stdout)
    assert damped["pairs_before"] == default["pairs_before"]  # candidates do not depend on the fanout
    assert damped["max_field_degree_after"] == {"R-P": 1, "P-P": 1}
    for rel, degree in default["max_field_degree_after"].items():
        if degree > 1:
            assert damped["pairs_after"][rel] < default["pairs_after"][rel], rel
    assert sum(damped["edges"].values()) < sum(default["edges"].values())


def test_stats_json_shape(built):
    store, _ = built
    res = run("graph", "stats", "--store", store, "--json")
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    assert stats["tools"] == 13 and stats["fields"] > 13
    assert set(stats["edges"]) == {"FEEDS", "SHARES_INPUT", "SIMILAR", "MATCHES"}
    assert stats["edges"]["FEEDS"] > 0 and stats["edges"]["SHARES_INPUT"] > 0
    # the degree summary, recomputed from the edge list itself (FEEDS and SHARES_INPUT, both ends)
    edges = json.loads(run("graph", "query", "MATCH (a:Tool)-[r:FEEDS|SHARES_INPUT]->(b:Tool) RETURN a.id AS a, b.id AS b",
                           "--store", store, "--json").stdout)
    assert len(edges) == stats["edges"]["FEEDS"] + stats["edges"]["SHARES_INPUT"]
    ids = [r["id"] for r in json.loads(run("graph", "query", "MATCH (t:Tool) RETURN t.id AS id", "--store", store,
                                           "--json").stdout)]
    degree = dict.fromkeys(ids, 0)
    for e in edges:
        degree[e["a"]] += 1
        degree[e["b"]] += 1
    assert stats["degree"]["max"] == max(degree.values())
    assert stats["degree"]["median"] == statistics.median_low(degree.values())
    assert stats["degree"]["isolated"] == sum(d == 0 for d in degree.values())
    assert stats["degree"]["mean"] == pytest.approx(2 * len(edges) / len(ids), abs=1e-3)
    assert [(h["id"], h["degree"]) for h in stats["top_hubs"][:3]] == sorted(
        degree.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert {c["category"] for c in stats["categories"]} == {"Travel", "Mapping", "Weather", "Finance", "Food", "Email"}
    table = run("graph", "stats", "--store", store)
    assert table.exit_code == 0 and "Top 10 hubs" in table.output


def test_neighbors_by_name_and_type(built):
    store, _ = built
    res = run("graph", "neighbors", "search_flights", "--type", "FEEDS", "--store", store, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {"type": "FEEDS", "direction": "out", "name": "book_flight"}.items() <= next(
        r for r in rows if r["name"] == "book_flight").items()
    assert all(r["type"] == "FEEDS" for r in rows)
    missing = run("graph", "neighbors", "no_such_tool", "--store", store)
    assert missing.exit_code == 1 and "no tool" in missing.output


def test_query_json_rows_keyed_by_return_names(built):
    store, _ = built
    res = run("graph", "query", "MATCH (t:Tool {name: $n}) RETURN t.name AS name, t.category AS cat",
              "--param", "n=book_hotel", "--store", store, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"name": "book_hotel", "cat": "Travel"}]


def test_query_refuses_writes_with_a_clear_message(built):
    store, _ = built
    res = run("graph", "query", "MATCH (t:Tool) DETACH DELETE t", "--store", store)
    assert res.exit_code == 1
    assert "read-only" in res.output and "DETACH" in res.output
    assert json.loads(run("graph", "stats", "--store", store, "--json").stdout)["tools"] == 13


def test_bad_input_names_file_line_and_field(tmp_path):
    bad = tmp_path / "tools.jsonl"
    good = EXAMPLE_TOOLS.read_text().splitlines()[0]
    bad.write_text(good + "\n" + '{"name": "x", "parameters": {"type": "array"}, "source": "s", "source_id": "x"}\n')
    res = run("graph", "build", str(bad), "--store", str(tmp_path / "g"))
    assert res.exit_code == 1
    assert "tools.jsonl" in res.output and "line 2" in res.output and "parameters" in res.output
    ok = run("graph", "build", str(bad), "--store", str(tmp_path / "g"), "--skip-invalid")
    assert ok.exit_code == 0, ok.output
    assert "skipped 1" in ok.output


def test_missing_store_is_a_clear_error(tmp_path):
    res = run("graph", "stats", "--store", str(tmp_path / "nothing"))
    assert res.exit_code == 1 and "graph build" in res.output
