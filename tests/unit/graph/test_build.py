"""Graph construction: fields, matching, hub damping, type compatibility, determinism."""

from __future__ import annotations

from graph_helpers import example_tools, hashing_graph

from toolflow.engine.graph.build import build_graph, is_matchable, types_compatible
from toolflow.engine.graph.embedding import HashingEmbedder
from toolflow.engine.graph.fields import param_fields, return_fields
from toolflow.engine.models import FieldNode, Tool


def _tool(name: str, params: dict, returns: dict | None = None, required: list[str] | None = None) -> Tool:
    return Tool(
        id=f"t:{name}",
        name=name,
        description=f"{name} tool",
        parameters={"type": "object", "properties": params, "required": required or []},
        returns=returns,
        source="t",
    )


def _s(desc: str, t: str = "string") -> dict:
    return {"type": t, "description": desc}


def test_return_fields_walk_objects_and_arrays():
    tool = _tool(
        "search",
        {"q": _s("query")},
        {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "hotel_id": _s("id of the hotel"), "geo": {"type": "object", "properties": {"lat": _s("latitude", "number")}}}}}}},
    )
    names = {f.id.split("#r:")[1]: f for f in return_fields(tool)}
    assert set(names) == {"items[].hotel_id", "items[].geo.lat"}
    assert names["items[].geo.lat"].type == "number"
    assert names["items[].hotel_id"].name == "hotel_id"


def test_empty_descriptions_are_enriched_with_the_endpoint_not_the_tool_description():
    tool = _tool("get_city_weather", {"city": {"type": "string"}})
    (f,) = param_fields(tool)
    assert not f.described
    assert f.text == "city: city, in get city weather"


def test_hub_rule_excludes_generic_and_credential_fields():
    def field(name: str, role: str = "param", described: bool = True) -> FieldNode:
        return FieldNode(id=name, tool_id="t", name=name, role=role, described=described)

    assert not is_matchable(field("page"))
    assert not is_matchable(field("api_key"))
    assert not is_matchable(field("X-RapidAPI-Key"))
    assert not is_matchable(field("id", described=False))
    assert is_matchable(field("id", described=True))
    assert not is_matchable(field("status", role="return"))
    assert is_matchable(field("city"))


def test_types_compatible():
    assert types_compatible("string", "integer")
    assert types_compatible(None, "object")
    assert not types_compatible("object", "string")
    assert not types_compatible("boolean", "string")


def test_feeds_edge_from_return_to_param_and_no_self_edges():
    tools = [
        _tool("find_hotels", {"city": _s("city name")}, {"type": "object", "properties": {"hotel_id": _s("unique hotel identifier")}}),
        _tool("book_hotel", {"hotel_id": _s("unique hotel identifier")}, {"type": "object", "properties": {"ok": _s("x", "boolean")}}),
        _tool("weather", {"city": _s("city name")}),
    ]
    data = hashing_graph(tools)
    feeds = {(e["src"], e["dst"]) for e in data.feeds}
    assert ("t:find_hotels", "t:book_hotel") in feeds
    shares = {(e["src"], e["dst"]) for e in data.shares}
    assert ("t:find_hotels", "t:weather") in shares
    for e in data.feeds + data.shares + data.similar:
        assert e["src"] != e["dst"]
    assert all(e["score"] >= 0.82 for e in data.feeds + data.shares)
    assert len(data.matches) == len(data.feeds) + len(data.shares)


def test_type_incompatible_pairs_are_not_linked():
    tools = [
        _tool("a", {"x": _s("q")}, {"type": "object", "properties": {"hotel": {"type": "object", "description": "the hotel record", "properties": {}}}}),
        _tool("b", {"hotel": _s("the hotel record")}),
    ]
    assert hashing_graph(tools).feeds == []


def test_fanout_caps_partners_of_a_shared_text():
    # 30 tools all take the identical parameter: without damping each field would link 29 tools.
    tools = [_tool(f"t{i}", {"city": _s("name of the city")}) for i in range(30)]
    data, rep = build_graph(tools, HashingEmbedder, HashingEmbedder().name, fanout=3)
    assert rep.max_field_degree_before["P-P"] == 30
    assert rep.max_field_degree_after["P-P"] == 3
    assert rep.pairs_after["P-P"] == 30 * 3
    degree: dict[str, int] = {}
    for e in data.shares:
        degree[e["src"]] = degree.get(e["src"], 0) + 1
        degree[e["dst"]] = degree.get(e["dst"], 0) + 1
    # spread by rotation: no tool becomes everybody's neighbour
    assert max(degree.values()) <= 12


def test_build_is_deterministic():
    tools = example_tools()
    a, b = hashing_graph(tools), hashing_graph(list(reversed(tools)))
    assert a.feeds == b.feeds and a.shares == b.shares and a.similar == b.similar
