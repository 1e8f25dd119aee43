"""Matching end to end: the real embedding model (all-MiniLM-L6-v2) builds the graphs, written to both stores
(the embedded store and a real Neo4j) and built by `graph build --match`."""

from __future__ import annotations

import json

import pytest
from graph_helpers import real_graph

from tests.unit.graph.test_matching import (
    BALANCE,
    CLOSE_TICKET,
    GET_RECEIVER,
    GET_TICKET,
    LIST_ORDERS,
    LIST_PAYMENTS,
    LOGIN,
    LOOKUP,
    PAY,
    POSITION,
    QUOTE,
    RAPID,
    STATUS_MSG,
    TRANSFER,
    _obj,
    _s,
)
from toolflow.engine.stores import open_store
from toolflow.loaders import load_tools

LINK_SPEC = {
    "openapi": "3.0.0",
    "info": {"title": "Kennel", "version": "1"},
    "paths": {
        "/dogs": {"post": {
            "operationId": "registerDog",
            "responses": {"201": {
                "description": "registered",
                "content": {"application/json": {"schema": _obj(tag=_s("Collar tag number"))}},
                "links": {"walk": {"operationId": "walkDog", "parameters": {"leash": "$response.body#/tag"}}},
            }},
        }},
        "/walks": {"get": {
            "operationId": "walkDog",
            "parameters": [{"name": "leash", "in": "query", "required": True, "schema": {"type": "string"},
                            "description": "Which leash to use"}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": _obj(minutes=_s("Walk length", "integer"))}}}},
        }},
    },
}


@pytest.fixture(params=["ladybug", "neo4j"])
def store(request, tmp_path):
    spec = str(tmp_path / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")
    s = open_store(spec)
    yield s
    s.close()


MISS_TOOLS = [LOOKUP, QUOTE, LOGIN, BALANCE, TRANSFER, RAPID, GET_TICKET, CLOSE_TICKET, LIST_PAYMENTS, GET_RECEIVER,
              STATUS_MSG, LIST_ORDERS, POSITION, PAY]


def _stored_feeds(store) -> dict[tuple[str, str], dict]:
    rows = store.query(
        "MATCH (a:Tool)-[f:FEEDS]->(b:Tool) RETURN a.name AS a, b.name AS b, f.from_field AS from_field, "
        "f.to_param AS to_param, f.evidence AS evidence, f.score AS score, f.cosine AS cosine"
    )
    return {(r["a"], r["b"]): r for r in rows}


def test_misses_found_and_negatives_kept_out_on_both_stores(store):
    store.write_graph(real_graph(MISS_TOOLS, match="evidence"))
    feeds = _stored_feeds(store)
    assert feeds[("symbol_lookup", "get_quote")]["evidence"].startswith("name")
    for dst in ("get_balance", "transfer_money"):
        assert feeds[("authenticate", dst)]["evidence"] == "credential"
        assert feeds[("authenticate", dst)]["to_param"] == "access_token"
    assert ("authenticate", "weather") not in feeds
    edge = feeds[("get_ticket", "close_ticket")]
    assert (edge["from_field"], edge["to_param"], edge["evidence"].split("+")[0]) == ("id", "ticket_id", "entity_id")
    edge = feeds[("list_payments", "get_receiver")]
    assert (edge["from_field"], edge["to_param"]) == ("results[].receiver_id", "receiver_id")
    assert ("submit_order", "list_orders") not in feeds
    assert ("get_position", "send_payment") not in feeds
    # The reason is visible through `graph neighbors` too.
    rows = store.neighbors("t:desk/get_ticket", ["FEEDS"])
    assert any(r["name"] == "close_ticket" and r["evidence"].startswith("entity_id") for r in rows)


def test_paper_rule_misses_them(store):
    """The ablation: the paper's cosine rule finds none of the flows above (why the evidence rule exists)."""
    store.write_graph(real_graph(MISS_TOOLS, match="paper"))
    feeds = _stored_feeds(store)
    for pair in [("authenticate", "get_balance"), ("get_ticket", "close_ticket"), ("list_payments", "get_receiver")]:
        assert pair not in feeds
    assert all(r["evidence"] == "embedding" for r in feeds.values())


def test_openapi_links_become_feeds_edges_on_both_stores(store, tmp_path):
    spec = tmp_path / "kennel.json"
    spec.write_text(json.dumps(LINK_SPEC))
    tools = load_tools([spec]).tools
    (dog,) = [t for t in tools if t.name == "registerDog"]
    assert [(link.operation_id, link.param, link.from_field) for link in dog.links] == [("walkDog", "leash", "tag")]
    store.write_graph(real_graph(tools, match="evidence"))
    edge = _stored_feeds(store)[("registerDog", "walkDog")]
    assert (edge["from_field"], edge["to_param"], edge["evidence"], edge["score"]) == ("tag", "leash", "link", 1.0)


def test_graph_build_match_option_on_both_stores(store, tmp_path):
    """`graph build --match paper` reproduces the paper's rule; the default records evidence on every edge."""
    from click.testing import CliRunner

    from toolflow.engine.cli import main

    src = tmp_path / "tools.jsonl"
    src.write_text("\n".join(json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters,
                                         "returns": t.returns}) for t in MISS_TOOLS) + "\n")
    spec = str(store.path) if store.dialect == "ladybug" else store.uri
    store.close()
    runner = CliRunner()
    for match in ("paper", "evidence"):
        res = runner.invoke(main, ["graph", "build", str(src), "--store", spec, "--match", match,
                                   "--cache-dir", str(tmp_path / "cache"), "--embedder", "hashing"])
        assert res.exit_code == 0, res.output
        rows = json.loads(runner.invoke(main, ["graph", "query", "MATCH (a:Tool)-[f:FEEDS]->(b:Tool) RETURN "
                                               "a.name AS a, b.name AS b, f.evidence AS ev", "--store", spec,
                                               "--json"]).output)
        kinds = {r["ev"] for r in rows}
        if match == "paper":
            assert kinds <= {"embedding"}
            assert ("authenticate", "get_balance") not in {(r["a"], r["b"]) for r in rows}
        else:
            assert {"credential", "entity_id"} <= {k.split("+")[0] for k in kinds}
    bad = runner.invoke(main, ["graph", "build", str(src), "--store", spec, "--match", "cosine"])
    assert bad.exit_code != 0 and "--match" in bad.output
