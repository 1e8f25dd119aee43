"""JSON to and from bytes for the LLM layer's hot paths (request bodies, replies, the response cache):
orjson, with the standard library for the values orjson refuses, so nothing that encoded before fails now."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """`value` as UTF-8 JSON: orjson, or the standard library for what orjson refuses (integers beyond
    64 bits, NaN it would turn into null); a value neither can encode raises TypeError, as the SDK did."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """A JSON document: orjson, or the standard library for what orjson refuses (NaN, huge integers);
    ValueError when neither can read it."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
