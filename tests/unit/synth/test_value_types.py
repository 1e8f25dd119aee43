"""Loose real-world types along a blueprint: one conversion rule (`schema_norm.convert_value`), lossless only,
recorded in the argument's provenance; and blueprint result paths that read exactly the planned field.

The first case is the ToolBench Weather category's air_quality API: `Current Air Quality` types `lon` as
STRING (default "-73.00597"), `Air Quality History` as NUMBER. The user states one longitude; the plan of the
second call used to carry the string and was rejected (`blueprint_invalid: 'lon' value '-73.00597' is not
a number`).
"""

from __future__ import annotations

import pytest

from toolflow.engine.models import ArgSource, Plan, Sample, Tool
from toolflow.engine.schema_norm import convert_value, types_compatible
from toolflow.engine.synth.blueprint import (
    build_blueprint,
    referenced_paths,
    resolve_arguments,
    validate_blueprint,
    value_at,
)


def _tool(name: str, params: dict, returns: dict | None = None, required: list[str] | None = None) -> Tool:
    return Tool(id=f"t:{name}", name=name, description=f"{name} tool.",
                parameters={"type": "object", "properties": params, "required": required or list(params)},
                returns=returns)


def _plan(*turn_tools: str) -> Plan:
    return Plan.model_validate({"turns": [{"kind": "tool_call", "intent": f"Use {t}.", "tools": [t]}
                                          for t in turn_tools]})


def _sample(ts: list[Tool], edges: list[dict] | None = None) -> Sample:
    return Sample(id="s", tool_ids=[t.id for t in ts], path=[t.id for t in ts], strategy="walk", edges=edges or [])


@pytest.mark.parametrize(("value", "target", "expected", "how"), [
    ("-73.00597", "number", -73.00597, "string->number"),
    ("12", "integer", 12, "string->integer"),
    ("12", "number", 12, "string->number"),
    ("true", "boolean", True, "string->boolean"),
    (-73.00597, "string", "-73.00597", "number->string"),
    (4821, "string", "4821", "integer->string"),
    (False, "string", "false", "boolean->string"),
    (3.0, "integer", 3, "number->integer"),
])
def test_lossless_conversions_happen_and_are_named(value, target, expected, how) -> None:
    out, named = convert_value(value, target)
    assert (out, named) == (expected, how)
    assert type(out) is type(expected)


@pytest.mark.parametrize(("value", "target"), [
    ("007", "integer"),  # a code: the leading zeros would be lost
    ("0.10000000000000000001", "number"),  # more digits than a float keeps
    ("1e999", "number"),  # not finite
    ("yes", "boolean"),
    ("12 km", "number"),
    (3.5, "integer"),
    ({"a": 1}, "string"),
])
def test_lossy_conversions_leave_the_value_alone(value, target) -> None:
    assert convert_value(value, target) == (value, None)


def test_one_compatibility_rule_for_graph_and_blueprint() -> None:
    from toolflow.engine.graph import build, matching

    assert build.types_compatible is matching.types_compatible is types_compatible
    assert types_compatible("string", "number") and types_compatible("integer", "string")
    assert not types_compatible("boolean", "string") and not types_compatible("object", "array")


def test_a_stated_string_longitude_fills_a_number_parameter_converted() -> None:
    current = _tool("current_air_quality", {"lon": {"type": "string", "default": "-73.00597"},
                                            "lat": {"type": "string", "default": "40.71427"}})
    history = _tool("air_quality_history", {"lon": {"type": "number", "default": "-78.638"},
                                            "lat": {"type": "number", "default": "35.779"}})
    ts = [current, history]
    plan = build_blueprint(_plan(current.name, history.name), _sample(ts), ts, seed=3)
    assert validate_blueprint(plan, ts) == []
    first, second = plan.turns[0].calls[0].arguments, plan.turns[1].calls[0].arguments
    assert first["lon"] == ArgSource(source="user", value="-73.00597")
    # a NUMBER default written as a string: the number, and the conversion named
    assert second["lon"] == ArgSource(source="default", value=-78.638, converted="string->number")
    assert second["lon"].model_dump()["converted"] == "string->number"


def test_a_stated_string_value_fills_a_number_parameter_of_the_same_name_converted() -> None:
    current = _tool("current_air_quality", {"lon": {"type": "string", "default": "-73.00597"},
                                            "lat": {"type": "string", "default": "40.71427"}})
    history = _tool("air_quality_history", {"lon": {"type": "number"}, "lat": {"type": "number"}})
    ts = [current, history]
    plan = build_blueprint(_plan(current.name, history.name), _sample(ts), ts, seed=3)
    assert validate_blueprint(plan, ts) == []
    second = plan.turns[1].calls[0].arguments
    # one user, one longitude: the second call takes the stated one, as a number, and says so
    assert second["lon"] == ArgSource(source="user", value=-73.00597, converted="string->number")
    assert second["lat"] == ArgSource(source="user", value=40.71427, converted="string->number")


def test_a_stated_value_that_cannot_convert_is_not_reused() -> None:
    named = _tool("lookup_by_name", {"station": {"type": "string", "default": "Central"}})
    numbered = _tool("lookup_by_number", {"station": {"type": "integer"}})
    ts = [named, numbered]
    plan = build_blueprint(_plan(named.name, numbered.name), _sample(ts), ts, seed=3)
    assert validate_blueprint(plan, ts) == []
    src = plan.turns[1].calls[0].arguments["station"]
    assert isinstance(src.value, int) and src.converted is None


def test_a_result_value_of_another_scalar_type_is_converted_with_provenance() -> None:
    search = _tool("find_place", {"query": {"type": "string"}},
                   returns={"type": "object", "properties": {"place_id": {"type": "integer"},
                                                             "lat": {"type": "string"}}})
    detail = _tool("place_detail", {"place_id": {"type": "string"}, "lat": {"type": "number"}})
    ts = [search, detail]
    plan = build_blueprint(_plan(search.name, detail.name), _sample(ts), ts, seed=1)
    assert validate_blueprint(plan, ts) == []
    call = plan.turns[1].calls[0]
    assert call.arguments["place_id"] == ArgSource(source="result", call=0, path="place_id",
                                                   converted="integer->string")
    assert call.arguments["lat"].converted == "string->number"
    assert resolve_arguments(call, {0: {"place_id": 4821, "lat": "-73.00597"}}, detail) == \
        {"place_id": "4821", "lat": -73.00597}
    # a value that does not convert losslessly reaches the call as it is (the checks then judge it)
    assert resolve_arguments(call, {0: {"place_id": 7, "lat": "north"}}, detail)["lat"] == "north"


def test_blueprint_reads_the_field_the_feeds_evidence_names_and_no_other() -> None:
    """A wrong field path must show: every candidate field of the result holds a different value."""
    search = _tool("search_rooms", {"city": {"type": "string"}}, returns={"type": "object", "properties": {
        "meta": {"type": "object", "properties": {"room_ref": {"type": "string"}}},
        "rooms": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "room_ref": {"type": "string"}}}}}})
    book = _tool("book_room", {"room_ref": {"type": "string"}})
    ts = [search, book]
    # FEEDS evidence: the list element's `code` feeds `room_ref` (a same-named field exists elsewhere)
    edges = [{"source": search.id, "target": book.id, "type": "FEEDS", "score": 0.9, "fields": ["code", "room_ref"]}]
    plan = build_blueprint(_plan(search.name, book.name), _sample(ts, edges), ts, seed=1)
    src = plan.turns[1].calls[0].arguments["room_ref"]
    assert src == ArgSource(source="result", call=0, path="rooms.0.code")
    assert referenced_paths(plan) == {0: {"rooms.0.code"}}
    result = {"meta": {"room_ref": "M-1"}, "rooms": [{"code": "C-10", "room_ref": "R-10"},
                                                     {"code": "C-11", "room_ref": "R-11"}]}
    assert resolve_arguments(plan.turns[1].calls[0], {0: result}, book) == {"room_ref": "C-10"}
    assert [value_at(result, p) for p in ("rooms.1.code", "rooms.1.room_ref", "meta.room_ref")] == ["C-11", "R-11", "M-1"]
    for missing in ("rooms.2.code", "rooms.x.code", "meta.code", "rooms.0.code.more"):
        with pytest.raises((KeyError, TypeError)):
            value_at(result, missing)
    # without evidence the same-named field is taken, shallow first
    by_name = build_blueprint(_plan(search.name, book.name), _sample(ts), ts, seed=1)
    assert by_name.turns[1].calls[0].arguments["room_ref"].path == "meta.room_ref"
    assert resolve_arguments(by_name.turns[1].calls[0], {0: result}, book) == {"room_ref": "M-1"}


def test_a_result_field_of_one_letter_codes_is_no_source_for_a_later_value() -> None:
    """ToolBench fairslator's /analyze returns `firstPerson.number` as "s" or "p"; a later `number`
    parameter (a card number) took it as its source, the tool agent could never give a usable value, and
    the dialogue was rejected (`tool_sim_failed: ... firstPerson.number`)."""
    analyze = _tool("analyze_text", {}, returns={"type": "object", "properties": {"firstPerson": {
        "type": "object", "properties": {"number": {"type": "string", "enum": ["s", "p"]},
                                          "gender": {"type": "string", "enum": ["m", "f"]}}}}})
    card = _tool("create_card", {"number": {"type": "string"}})
    coded = _tool("lookup_status", {"status": {"type": "string"}},
                  returns={"type": "object", "properties": {"status": {"type": "string", "enum": ["open", "closed"]}}})
    follow = _tool("close_ticket", {"status": {"type": "string"}})
    ts = [analyze, card, coded, follow]
    plan = build_blueprint(_plan(*(t.name for t in ts)), _sample(ts), ts, seed=1)
    assert validate_blueprint(plan, ts) == []
    assert plan.turns[1].calls[0].arguments["number"].source == "user"
    # an enum of real words still feeds a later call
    assert plan.turns[3].calls[0].arguments["status"] == ArgSource(source="result", call=2, path="status")
