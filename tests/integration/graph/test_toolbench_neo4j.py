"""Integration: real ToolBench categories → real embeddings → the real Neo4j; data flows checked by Cypher."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from graph_helpers import real_graph, toolbench_raw_categories
from neo4j_server import open_neo4j_store

from toolflow.engine.cli import main

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

# Picked by hand from the raw files: the first tool returns the value the second one takes.
KNOWN_FLOWS = [
    # a reverse geocoder that returns lat/lon → a reverse geocoder that takes "latlng"
    ("toolbench:Weather/rapidweather/Reverse geocoding", "toolbench:Mapping/forward_and_reverse_geocoding/Reverse Geocoding"),
    # city name → coordinates, then coordinates → weather data
    ("toolbench:Weather/rapidweather/Coordinates by location name", "toolbench:Weather/ambee_weather_data/By Coordinates"),
    # an observation history that returns a station id → observations of that station
    ("toolbench:Weather/forecast/RapidApiGetObservationHistoryByCoordinates",
     "toolbench:Weather/national_weather_service//stations/{stationId}/observations/{recordId}"),
    # a point → its country code, then the cities of that country
    ("toolbench:Mapping/just_geodata/point_to_country", "toolbench:Weather/climate_data/List of cities in one Country"),
]


@pytest.fixture(scope="module")
def toolbench_graph():
    tools = toolbench_raw_categories("Mapping", "Weather")
    assert len(tools) == 686
    return real_graph(tools)


@pytest.fixture(scope="module")
def neo4j_store(neo4j_uri, toolbench_graph):
    store = open_neo4j_store(neo4j_uri)
    store.write_graph(toolbench_graph)
    yield store
    store.close()


def test_known_data_flows_exist_in_neo4j(neo4j_store):
    for src, dst in KNOWN_FLOWS:
        rows = neo4j_store.query(
            "MATCH (a:Tool {id: $src})-[f:FEEDS]->(b:Tool {id: $dst}) RETURN f.score AS score, f.from_field AS rf, f.to_param AS p",
            {"src": src, "dst": dst},
        )
        assert len(rows) == 1, f"no FEEDS {src} -> {dst}"
        assert rows[0]["score"] >= 0.82
    evidence = neo4j_store.query(
        "MATCH (a:Tool {id: $src})-[:RETURNS]->(r:Field)-[m:MATCHES {kind: 'FEEDS'}]->(p:Field)<-[:HAS_PARAM]-(b:Tool {id: $dst}) "
        "RETURN r.name AS r, p.name AS p",
        {"src": KNOWN_FLOWS[0][0], "dst": KNOWN_FLOWS[0][1]},
    )
    assert evidence == [{"r": "lat", "p": "latlng"}]


def test_no_edge_joins_a_tool_to_itself(neo4j_store):
    rows = neo4j_store.query("MATCH (a:Tool)-[r]->(a) RETURN count(r) AS n")
    assert rows == [{"n": 0}]


def test_counts_match_the_computed_graph_and_a_rebuild_changes_nothing(neo4j_store, toolbench_graph):
    first = neo4j_store.counts()
    assert first["tools"] == 686
    assert first["edges"]["FEEDS"] == len(toolbench_graph.feeds) > 100
    assert first["edges"]["SHARES_INPUT"] == len(toolbench_graph.shares) > 1000
    neo4j_store.write_graph(toolbench_graph)
    assert neo4j_store.counts() == first


def test_cli_stats_and_neighbors_on_neo4j(neo4j_store, neo4j_uri):
    runner = CliRunner()
    res = runner.invoke(main, ["graph", "stats", "--store", neo4j_uri, "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    assert stats["tools"] == 686
    assert stats["edges"]["FEEDS"] > 0 and stats["edges"]["SHARES_INPUT"] > 0
    assert {c["category"] for c in stats["categories"]} == {"Mapping", "Weather"}
    src, dst = KNOWN_FLOWS[1]
    res = runner.invoke(main, ["graph", "neighbors", src, "--type", "FEEDS", "--store", neo4j_uri, "--json"])
    assert res.exit_code == 0, res.output
    assert any(r["id"] == dst and r["direction"] == "out" for r in json.loads(res.stdout))
