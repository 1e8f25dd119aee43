"""ToolBench / StableToolBench RapidAPI tool files: `<Category>/<tool>.json` with an `api_list`.

One file is one RapidAPI tool; each endpoint in `api_list` becomes a Tool named the way ToolBench
names functions (`<api>_for_<tool>`), so tools loaded here match the names in ToolBench trajectories.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from toolflow.loaders.build import FileContext
from toolflow.loaders.errors import json_pointer
from toolflow.loaders.returns import infer_returns
from toolflow.loaders.sources import Record

FORMAT = "toolbench"
SOURCE = "toolbench"

#: ToolBench renames API names that are Python keywords or awkward identifiers this way.
_RESERVED = frozenset({"from", "class", "return", "false", "true", "id", "and"})
#: ToolBench keeps ASCII letters, digits, '_' and CJK ideographs; everything else becomes '_'.
_NON_WORD = re.compile(r"[^a-zA-Z0-9_\u4e00-\u9fa5]")
_SCHEMA_KEYS = frozenset(
    {"type", "properties", "items", "$ref", "allOf", "anyOf", "oneOf", "enum", "$schema"}
)


def is_record(value: Any) -> bool:
    """A tool file: `api_list` of endpoints with a `name` (ToolBench's query files have `api_list` too)."""
    if not isinstance(value, dict) or not isinstance(value.get("api_list"), list):
        return False
    apis = value["api_list"]
    return ("tool_name" in value and not apis) or any(isinstance(a, dict) and "name" in a for a in apis[:5])


def standardize(text: str) -> str:
    """ToolBench's identifier form: non-word runs to one '_', lower-case, no leading/trailing '_'."""
    return re.sub(r"_+", "_", _NON_WORD.sub("_", text)).lower().strip("_")


def function_name(api_name: str, tool_stem: str) -> str:
    """`<api>_for_<tool>`, last 64 characters, as ToolBench builds it (a leading digit gets 'get_')."""
    api = standardize(api_name)
    if api in _RESERVED:
        api = f"is_{api}"
    tool = standardize(tool_stem)
    if tool[:1].isdigit():
        tool = f"get_{tool}"
    return f"{api}_for_{tool}"[-64:]


def tool_stem(path: Path) -> str:
    return path.name.split(".json")[0]


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    for rec in records:
        doc = rec.value
        if not is_record(doc):
            ctx.error(
                "expected a ToolBench tool object with an 'api_list' array",
                pointer=rec.pointer,
                field="api_list",
            )
            continue
        _load_tool(ctx, doc, rec.pointer)


def _load_tool(ctx: FileContext, doc: dict[str, Any], base: str) -> None:
    category = ctx.path.resolve().parent.name or None
    stem = tool_stem(ctx.path)
    tool_info = {
        "tool_name": doc.get("tool_name"),
        "tool_standardized_name": stem,
        "tool_description": doc.get("tool_description"),
        "host": doc.get("host"),
    }
    for index, api in enumerate(doc["api_list"]):
        pointer = f"{base}{json_pointer('api_list', index)}"
        if not isinstance(api, dict) or not isinstance(api.get("name"), str):
            ctx.error("API entry has no name", pointer=pointer, field="name")
            continue
        parameters = _parameters(ctx, api, pointer)
        if parameters is None:
            continue
        returns, inferred = _returns(api)
        tool = ctx.make(
            id=f"{SOURCE}:{category}/{stem}/{api['name']}",
            name=function_name(api["name"], stem),
            original_name=api["name"],
            description=api.get("description") or "",
            parameters=parameters,
            returns=returns,
            returns_inferred=inferred,
            category=category,
            source=SOURCE,
            extra={**tool_info, "api_name": api["name"], "method": api.get("method"), "url": api.get("url")},
            pointer=pointer,
            returns_at=f"{pointer}/body" if inferred else f"{pointer}/schema",
        )
        ctx.add(tool, pointer=pointer)


def _parameters(ctx: FileContext, api: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key in ("required_parameters", "optional_parameters"):
        params = api.get(key) or []
        if not isinstance(params, list):
            ctx.error("must be a list of parameters", pointer=pointer, field=key)
            return None
        for i, param in enumerate(params):
            if not isinstance(param, dict) or not isinstance(param.get("name"), str) or not param["name"]:
                ctx.error("parameter has no name", pointer=f"{pointer}{json_pointer(key, i)}", field="name")
                return None
            name = param["name"]
            if name in properties:  # listed twice (required and optional): the first listing wins
                continue
            prop: dict[str, Any] = {"type": param["type"]} if isinstance(param.get("type"), str) else {}
            prop["description"] = param.get("description") or ""
            default = param.get("default")
            if default not in (None, ""):  # RapidAPI's 'default' is an example value, not a server default
                prop["examples"] = [default]
            properties[name] = prop
            if key == "required_parameters":
                required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _returns(api: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """(schema, inferred): the response `schema` if it is one, else a schema inferred from a 200 `body`."""
    schema = api.get("schema")
    if isinstance(schema, str) and schema.strip():
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError:
            schema = None
    if isinstance(schema, dict) and _SCHEMA_KEYS.intersection(schema):
        return schema, False
    if api.get("statuscode") == 200:
        inferred = infer_returns(api.get("body"))
        if inferred is not None:
            return inferred, True
    return None, False
