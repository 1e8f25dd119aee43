"""JSON-or-raw-text: the one parse for strings that usually hold JSON (tool-call arguments, tool results).

``strict=False`` because models emit raw control characters inside strings; text that is not JSON is kept
as it is rather than lost, so a record always round-trips.
"""

from __future__ import annotations

import json
from typing import Any


def loads_or_text(text: str) -> Any:
    """The JSON value of `text`, or `text` itself when it is not JSON."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return text


def leaves(value: Any) -> list[Any]:
    """The scalar leaves of a JSON value (dict values and list items, recursively) in document order, without
    booleans and nulls: the values a tool call passes or a result carries."""
    stack, out = [value], []
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))
        elif not isinstance(v, bool) and v is not None:
            out.append(v)
    return out


def compact_json(value: Any) -> str:
    """One-line JSON without the spaces after ``,`` and ``:``: what prompts show of values and schemas
    (the spaces are a tenth of the characters of a typical tool result and cost tokens in every request)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
