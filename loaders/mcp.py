"""MCP `tools/list` results, in the wrappers real projects commit them in.

A Tool object has `name`, `description`, `inputSchema` and optionally `outputSchema` (the return
schema). Seen around it: a single object (GitHub's `.snap` files), a bare array, `{"tools": [...]}`
with `server_info`/`server`, a JSON-RPC `result`, LiveMCPBench server records with
`tools: {<server>: {tools: [...]}}`, Anthropic-style `input_schema`, and Docker's catalog shape
`arguments: [{name, type, desc}]`. The server name becomes the category and part of the id.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from toolflow.engine.models import ToolHints
from toolflow.loaders.build import FileContext
from toolflow.loaders.errors import json_pointer
from toolflow.loaders.functions import file_stem
from toolflow.loaders.sources import DATA_SUFFIXES, Record, data_suffix

FORMAT = "mcp"
SOURCE = "mcp"
SCHEMA_KEYS = ("inputSchema", "input_schema", "arguments")
_TOOL_KEYS = frozenset(
    {
        "name",
        "description",
        "inputSchema",
        "input_schema",
        "arguments",
        "outputSchema",
        "output_schema",
        "mcp_server",
    }
)


def is_tool(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("name"), str)
        and any(k in value for k in SCHEMA_KEYS)
    )


def is_bare_listing(values: list[Any]) -> bool:
    """A list of `{name, description}` only (Docker's zscaler listing): MCP tools with no arguments.

    OpenAI functions always carry `parameters`, so a list with no schema key at all is not theirs.
    """
    return bool(values) and all(
        isinstance(v, dict)
        and isinstance(v.get("name"), str)
        and "description" in v
        and not any(k in v for k in ("parameters", "type", "function", *SCHEMA_KEYS))
        for v in values
    )


def _server_record_lists(value: dict[str, Any]) -> list[tuple[str | None, Any, str, str | None]]:
    """(server, tools list, pointer, server version) inside one wrapper object, or [] if it is not one."""
    if isinstance(value.get("result"), dict):  # a JSON-RPC response
        return [(server, tools, "/result" + p, v) for server, tools, p, v in _server_record_lists(value["result"])]
    tools = value.get("tools")
    if isinstance(tools, list):
        info = value.get("server_info") or value.get("serverInfo") or {}
        server = (
            (info.get("name") if isinstance(info, dict) else None)
            or value.get("server")
            or value.get("server_name")
        )
        version = info.get("version") if isinstance(info, dict) else None
        return [(server if isinstance(server, str) else None, tools, "/tools",
                 version if isinstance(version, str) and version else None)]
    if isinstance(tools, dict):  # LiveMCPBench: {<server>: {server_name, version, tools: [...]}}
        out = []
        for key, inner in tools.items():
            if isinstance(inner, dict) and isinstance(inner.get("tools"), list):
                server = inner.get("server_name") if isinstance(inner.get("server_name"), str) else key
                out.append((server, inner["tools"], json_pointer("tools", key, "tools"), None))
        return out
    return []


def is_wrapper(value: Any) -> bool:
    """A tools/list-style wrapper whose (non-empty) tool lists hold MCP tools."""
    if not isinstance(value, dict):
        return False
    lists = [tools for _, tools, _, _ in _server_record_lists(value) if tools]
    return bool(lists) and all(all(is_tool(t) for t in tools[:3]) for tools in lists)


def default_server(path: Path, *, listing: bool = True) -> str:
    """Server name when the file doesn't say.

    Docker's `<server>.tools.json` names it. A file holding a single tool (GitHub's one-tool `.snap`
    files) belongs to its folder. A listing alone in its folder (`sentry-mcp/toolDefinitions.json`)
    is named after the folder; listings side by side in one folder are different servers, each named
    after its file, so `github.json` and `slack.json` both listing `search` get distinct ids.
    """
    if path.name.endswith(".tools.json"):
        return path.name[: -len(".tools.json")]
    folder = path.resolve().parent
    if listing and _data_files(folder) > 1:
        return file_stem(path)
    return folder.name or file_stem(path)


def _data_files(folder: Path) -> int:
    return sum(
        1
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and data_suffix(p) in DATA_SUFFIXES
    )


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    fallbacks: dict[bool, str] = {}

    def fallback(listing: bool) -> str:
        if listing not in fallbacks:
            fallbacks[listing] = default_server(ctx.path, listing=listing)
        return fallbacks[listing]

    for rec in records:
        value = rec.value
        if isinstance(value, dict) and _server_record_lists(value):
            meta = {k: value[k] for k in ("category", "description", "web") if isinstance(value.get(k), str)}
            if isinstance(value.get("name"), str) and isinstance(value.get("tools"), dict):
                meta["server_title"] = value["name"]
            for server, tools, sub, version in _server_record_lists(value):
                # a server that reports its version (a live `initialize`'s serverInfo) is the tools' source
                source = f"{SOURCE}:{server}@{version}" if server and version else SOURCE
                for j, tool in enumerate(tools):
                    pointer = f"{rec.pointer}{sub}{json_pointer(j)}"
                    _add(ctx, tool, server or fallback(True), meta, line=rec.line, pointer=pointer, source=source)
        elif isinstance(value, dict):
            # one tool object as the whole file (a `.snap`) vs. an element of an array or a JSON line
            listing = rec.line is not None or rec.pointer != ""
            _add(ctx, value, fallback(listing), {}, line=rec.line, pointer=rec.pointer)
        else:
            ctx.error(
                f"expected an MCP tool or a tools/list result, got {type(value).__name__}",
                line=rec.line,
                pointer=rec.pointer,
            )


def _add(
    ctx: FileContext, tool: Any, server: str, meta: dict[str, Any], *, line: int | None, pointer: str,
    source: str = SOURCE,
) -> None:
    if not isinstance(tool, dict):
        ctx.error(f"MCP tool must be an object, got {type(tool).__name__}", line=line, pointer=pointer)
        return
    if isinstance(tool.get("mcp_server"), str):  # MCPToolBench++ tags each tool with its server
        server = tool["mcp_server"]
    parameters = _input_schema(ctx, tool, line=line, pointer=pointer)
    if parameters is False:
        return
    schema_key = next((k for k in SCHEMA_KEYS if k in tool), "inputSchema")
    returns_key = "outputSchema" if "outputSchema" in tool else "output_schema"
    extra = {k: v for k, v in tool.items() if k not in _TOOL_KEYS and v is not None}
    if meta:
        extra["server_meta"] = meta
    made = ctx.make(
        id=f"{SOURCE}:{server}/{tool.get('name')}",
        name=tool.get("name"),
        description=tool.get("description"),
        parameters=parameters,
        returns=tool.get("outputSchema", tool.get("output_schema")),
        category=server,
        source=source,
        hints=ToolHints.from_mcp(tool.get("annotations")),
        extra=extra,
        line=line,
        pointer=pointer,
        parameters_at=f"{pointer}{json_pointer(schema_key)}",
        returns_at=f"{pointer}{json_pointer(returns_key)}",
    )
    ctx.add(made, line=line, pointer=pointer)


def _input_schema(ctx: FileContext, tool: dict[str, Any], *, line: int | None, pointer: str) -> Any:
    """The parameters schema (None for none), or False after reporting a malformed `arguments` list."""
    for key in ("inputSchema", "input_schema"):
        if key in tool:
            return tool[key]
    arguments = tool.get("arguments")
    if arguments is None:
        return None
    if not isinstance(arguments, list):
        ctx.error("must be a list of {name, type, desc}", line=line, pointer=pointer, field="arguments")
        return False
    properties: dict[str, Any] = {}
    required: list[str] = []
    for i, arg in enumerate(arguments):
        if not isinstance(arg, dict) or not isinstance(arg.get("name"), str):
            ctx.error(
                "argument has no name",
                line=line,
                pointer=f"{pointer}{json_pointer('arguments', i)}",
                field="name",
            )
            return False
        prop = {k: v for k, v in arg.items() if k not in ("name", "desc", "optional", "required")}
        if "desc" in arg:
            prop["description"] = arg["desc"]
        properties[arg["name"]] = prop
        # Docker's catalog marks optional arguments; everything else is required.
        if not arg.get("optional") and arg.get("required", True) is not False:
            required.append(arg["name"])
    return {"type": "object", "properties": properties, "required": required}
