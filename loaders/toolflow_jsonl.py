"""ToolFlow's normalized JSONL (`shared/data/*_tools.jsonl[.gz]`): one tool per line.

The schemas are already JSON Schema; what this adds is the id (`<source>:<source_id>`), valid names,
and return schemas inferred from `extra.response_example` where the source had none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolflow.loaders.build import FileContext
from toolflow.loaders.returns import infer_returns
from toolflow.loaders.sources import Record

FORMAT = "toolflow"
REQUIRED_KEYS = ("name", "source", "source_id")


def is_record(value: Any) -> bool:
    return isinstance(value, dict) and all(k in value for k in REQUIRED_KEYS) and "parameters" in value


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    for rec in records:
        row = rec.value
        if not isinstance(row, dict):
            ctx.error(f"expected a JSON object, got {type(row).__name__}", line=rec.line, pointer=rec.pointer)
            continue
        missing = next((k for k in REQUIRED_KEYS if not isinstance(row.get(k), str) or not row[k]), None)
        if missing:
            ctx.error("missing or empty", line=rec.line, pointer=rec.pointer, field=missing)
            continue
        extra = row.get("extra") or {}
        if not isinstance(extra, dict):
            ctx.error("must be an object", line=rec.line, pointer=rec.pointer, field="extra")
            continue
        returns = row.get("returns")
        inferred = False
        # The example was cut at 1,500 characters when the flag is set: its shape is unknowable.
        if returns is None and "response_example" in extra and not extra.get("response_example_truncated"):
            returns = infer_returns(extra["response_example"])
            inferred = returns is not None
        tool = ctx.make(
            id=f"{row['source']}:{row['source_id']}",
            name=row["name"],
            description=row.get("description"),
            parameters=row.get("parameters"),
            returns=returns,
            returns_inferred=inferred,
            category=row.get("category"),
            source=row["source"],
            extra=extra,
            line=rec.line,
            pointer=rec.pointer or None,
            returns_at=f"{rec.pointer}/extra/response_example" if inferred else None,
        )
        ctx.add(tool, line=rec.line, pointer=rec.pointer or None, key_field="source_id")
