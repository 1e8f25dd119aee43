"""Which loader a file needs, told from its parsed content (extensions lie: BFCL ships JSON lines as .json).

Rules go from the most specific shape to the least, and look at a sample of records so that a listing
whose first entries happen to lack a schema still gets recognised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolflow.loaders import bfcl, mcp, openai_tools, openapi, toolbench, toolflow_jsonl
from toolflow.loaders.errors import LoadError
from toolflow.loaders.sources import Record

#: How many leading records detection looks at.
SAMPLE = 20


def detect_format(path: Path, records: list[Record]) -> str:
    """The format name for these records (the first `SAMPLE` suffice), or a `LoadError` if it can't be told."""
    values = [r.value for r in records[:SAMPLE]]
    if not values:
        raise LoadError("can't tell the format: the file holds no records", file=path)
    first = values[0]
    if len(records) == 1 and openapi.is_document(first):
        return openapi.FORMAT
    if toolbench.is_record(first):
        return toolbench.FORMAT
    if toolflow_jsonl.is_record(first):
        return toolflow_jsonl.FORMAT
    if any(
        mcp.is_tool(v) or mcp.is_wrapper(v) or _is_mcp_server_record(v) for v in values
    ) or mcp.is_bare_listing(values):
        return mcp.FORMAT
    if any(bfcl.is_entry(v) and not openai_tools.is_row(v) for v in values) or any(
        bfcl.is_declaration(v) and bfcl.has_loose_types(v) and "type" not in v for v in values
    ):
        return bfcl.FORMAT
    if any(openai_tools.is_row(v) or openai_tools.is_tool(v) for v in values):
        return openai_tools.FORMAT
    raise LoadError(
        "can't tell the format (not toolflow JSONL, OpenAI tools, BFCL, ToolBench, OpenAPI or MCP); "
        "pass format= to choose one",
        file=path,
    )


def _is_mcp_server_record(value: Any) -> bool:
    """LiveMCPBench's `{name, config, tools: {<server>: {tools: [...]}}}` (tools lists may be empty)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("tools"), dict)
        and all(
            isinstance(inner, dict) and isinstance(inner.get("tools"), list)
            for inner in value["tools"].values()
        )
    )
