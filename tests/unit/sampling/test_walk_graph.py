"""walk_graph rows → arrays: keys of either kind, the pool and masses derived from the edges, bad rows refused."""

from __future__ import annotations

import math

import pytest

from toolflow.engine.sampling.walk_graph import over_pool, read_walk_graph


def rows(keys, ids, feeds=(), shares=()):
    """A tools row and one row per type, as walk_graph.cypher returns them."""
    out = [{"type": "", "keys": keys, "ids": ids, "src": [], "dst": [], "score": [], "field_a": [], "field_b": []}]
    for kind, edges in (("FEEDS", feeds), ("SHARES_INPUT", shares)):
        if edges:
            out.append({"type": kind, "keys": [], "ids": [], "src": [e[0] for e in edges], "dst": [e[1] for e in edges],
                        "score": [e[2] for e in edges], "field_a": ["fa"] * len(edges), "field_b": ["fb"] * len(edges)})
    return out


@pytest.mark.parametrize("keyed", ["ints", "strings"])
def test_edges_land_on_sorted_pool_positions(keyed):
    ids = ["d", "b", "a", "c", "e"]  # the store's order, not sorted; "e" has no edge
    keys = [90, 17, 40, 5, 61] if keyed == "ints" else ids
    k = dict(zip(ids, keys, strict=True))
    g = read_walk_graph(rows(keys, ids, feeds=[(k["d"], k["b"], 0.9)], shares=[(k["a"], k["c"], None), (k["b"], k["a"], 0.5)]))
    assert g.tool_ids == ["a", "b", "c", "d", "e"]
    assert g.pool == ["a", "b", "c", "d"]
    edges = [(g.pool[s], g.pool[d], float(x), kind) for s, d, x, kind in zip(g.src, g.dst, g.score, g.kind, strict=True)]
    assert edges == [("d", "b", 0.9, "FEEDS"), ("a", "c", 0.0, "SHARES_INPUT"), ("b", "a", 0.5, "SHARES_INPUT")]
    assert g.mass == {"FEEDS": 0.9, "SHARES_INPUT": 0.5}
    wide = over_pool(g, g.tool_ids)
    assert [(wide.pool[s], wide.pool[d]) for s, d in zip(wide.src, wide.dst, strict=True)] == [e[:2] for e in edges]


def test_mass_does_not_depend_on_edge_order():
    scores = [0.1, 0.7, 1e-9, 0.3, 0.2] * 50
    a = read_walk_graph(rows(list(range(6)), list("abcdef"), shares=[(i % 5, 5, s) for i, s in enumerate(scores)]))
    b = read_walk_graph(rows(list(range(6)), list("abcdef"), shares=[(i % 5, 5, s) for i, s in enumerate(scores[::-1])]))
    assert a.mass == b.mass == {"SHARES_INPUT": math.fsum(scores)}


def test_an_edge_to_an_unknown_tool_is_an_error_not_a_wrong_tool():
    with pytest.raises(RuntimeError, match="does not hold"):
        read_walk_graph(rows([1, 2], ["a", "b"], feeds=[(1, 3, 0.9)]))
    with pytest.raises(RuntimeError, match="does not hold"):
        read_walk_graph(rows(["a", "b"], ["a", "b"], feeds=[("a", "z", 0.9)]))


def test_lists_of_different_lengths_are_refused():
    bad = rows([1, 2], ["a", "b"], feeds=[(1, 2, 0.9)])
    bad[1]["score"].append(0.5)
    with pytest.raises(RuntimeError, match="different lengths"):
        read_walk_graph(bad)
