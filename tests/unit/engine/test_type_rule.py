"""One type vocabulary and one compatibility rule (schema_norm) serve the graph, the blueprint and user values."""

from toolflow.engine.schema_norm import canonical_type, is_subtype, types_compatible, value_fits
from toolflow.engine.synth.user_values import param_type


def test_loose_names_map_to_json_types_everywhere() -> None:
    for loose, json_name in (("int", "integer"), ("Long", "integer"), ("double", "number"), ("str", "string"),
                             ("bool", "boolean"), ("dict", "object"), ("list", "array"), ("any", "any")):
        assert canonical_type(loose) == json_name
        assert param_type({"type": loose}) == json_name
    assert param_type({"type": ["null", "int"]}) == "integer"


def test_integer_widens_to_number_only() -> None:
    assert is_subtype("integer", "number") and not is_subtype("number", "integer")
    assert value_fits(3, "number") and not value_fits(3.5, "integer") and value_fits({}, None)
    assert types_compatible("string", "integer") and not types_compatible("boolean", "string")
    assert types_compatible(None, "object") and not types_compatible("object", "array")
