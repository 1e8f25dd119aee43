"""Return schemas inferred from example responses, for sources that have an example but no schema.

The tool graph links one tool's outputs to another's inputs, so a tool without a return schema is a
dead end. RapidAPI often has an example body instead; genson turns it into a schema. An example that
is not JSON (plain text, an image, or JSON cut off at 1,500 characters) is not guessed at.
"""

from __future__ import annotations

import json
from typing import Any

from genson import SchemaBuilder

_NOTHING = object()


def parse_example(raw: Any) -> Any:
    """The example as a JSON value, or `_NOTHING` when it can't or shouldn't be used.

    Strings are parsed as JSON (a truncated or non-JSON string gives nothing); empty containers and
    null say nothing about the shape, so they give nothing too.
    """
    value = raw
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return _NOTHING
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return _NOTHING
    if value is None or (isinstance(value, dict | list) and not value):
        return _NOTHING
    return value


def infer_returns(raw_example: Any) -> dict[str, Any] | None:
    """A JSON Schema for the example response, or None when the example is unusable."""
    value = parse_example(raw_example)
    if value is _NOTHING:
        return None
    builder = SchemaBuilder(schema_uri=None)
    try:
        builder.add_object(value)
    except (RecursionError, TypeError, ValueError):
        return None
    schema = builder.to_schema()
    schema.pop("$schema", None)
    return schema
