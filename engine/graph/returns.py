"""Returns for tools that declare none, read from the tool's description and name.

Most tool sets users bring (OpenAI function lists, MCP servers) say what a tool returns only in prose: "Search
for GitHub repositories", "Returns the list of files", "Creates an issue and returns it". Without a return
schema such a tool is never the source of a FEEDS edge. This module reads the returned *entity* (the noun
phrase after the verb, or the object of "returns …" in the description) and whether one record or a list
comes back (the verb: list/search/find give a list; get/read/create/update one record; delete nothing), and
writes a small schema of the entity's handles — ``id``, ``number``, ``name`` — each marked with where it
came from (``x-source``: ``description`` when the prose names the returned thing, else ``name``). Declared
schemas and schemas inferred from examples are never replaced. The lexicons are about English and API
conventions (verbs, abbreviations), not about any one API.
"""

from __future__ import annotations

import re
from typing import Any

from toolflow.engine.graph.facts import singular, split_words, tool_api
from toolflow.engine.graph.fields import schema_source
from toolflow.engine.models import Tool

#: Verbs whose call returns a list of the entity, one record of it, or nothing worth passing on.
LIST_VERBS = frozenset(["list", "search", "find", "query", "browse", "filter", "enumerate", "all"])
ONE_VERBS = frozenset(
    ["get", "read", "fetch", "retrieve", "show", "view", "describe", "open", "lookup", "load", "one", "check",
     "create", "add", "new", "insert", "register", "make", "fork", "post", "submit", "book", "reserve", "copy",
     "update", "edit", "modify", "patch", "rename", "upsert", "save", "put", "duplicate", "clone"]
)
NONE_VERBS = frozenset(["delete", "remove", "destroy", "purge", "clear", "cancel", "unsubscribe", "revoke", "drop"])
#: Words of a name that are not the returned thing ("by_id", "for_user", version tags).
_STOP = frozenset(["by", "for", "with", "in", "from", "of", "on", "to", "at", "into", "and", "or", "that", "which",
                   "who", "as", "if", "when", "where", "is", "are", "it", "them"])
_FILLER = frozenset(["a", "an", "the", "my", "all", "api", "v1", "v2", "v3", "single", "specific", "multiple", "new",
                     "existing", "current", "detail", "details", "info", "information", "data", "metadata", "content",
                     "contents", "status", "list", "full", "complete", "absolute", "relative", "detailed"])
#: A last name word that asks for an aspect of a record, not the record (``get_pull_request_status``): no handles.
_ASPECTS = frozenset(["status", "count", "stats", "statistics", "summary", "health", "diff", "size", "total",
                      "exists", "availability", "progress"])
#: Common abbreviations of entity nouns in parameter and tool names.
ABBREVIATIONS = {
    "repo": "repository", "org": "organization", "dir": "directory", "msg": "message", "img": "image",
    "doc": "document", "db": "database", "env": "environment", "acct": "account", "txn": "transaction",
    "pkg": "package", "app": "application", "addr": "address", "cat": "category", "prod": "product",
    "pr": "pull_request", "ws": "workspace", "conv": "conversation", "chan": "channel",
}
#: Descriptions that say a call returns nothing usable.
_RETURNS_NOTHING = re.compile(r"\b(returns? (nothing|no (data|content|value))|no return value|returns? (only )?"
                              r"(a |an )?(success|confirmation|status)( message)?)\b", re.IGNORECASE)
_RETURNS_LIST = re.compile(r"\breturns? (?:a |the )?(?:list|array|collection|set) of (?:all )?(?:the )?"
                           r"(?:matching )?([a-z]+(?: [a-z]+)?)", re.IGNORECASE)
_RETURNS_ONE = re.compile(r"\b(?:and )?returns? (?:the |a |an )?(?:new |created |updated )?([a-z]+(?: [a-z]+)?)",
                          re.IGNORECASE)
#: The handles a record of an entity is passed on by; each becomes one inferred return field. Files and
#: folders are passed on by their path.
HANDLES = ("name", "id", "number")
PATH_ENTITIES = frozenset(["file", "directory", "folder", "document", "path"])


def expand(word: str) -> str:
    """An abbreviation to its noun (``repo`` → ``repository``); other words unchanged."""
    return ABBREVIATIONS.get(word, word)


#: Head nouns of values rather than records ("returns the translated text"): no handles to pass on.
_NOT_RECORDS = frozenset(["text", "result", "response", "output", "value", "string", "json", "html", "xml",
                          "answer", "translation", "word", "sentence", "number", "amount", "total", "count"])


def _noun_phrase(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if w in _STOP:
            break
        if w in _FILLER or w.isdigit():
            continue
        out.append(expand(singular(w)))
    return [] if out and out[-1] in _NOT_RECORDS else out


def name_shape(tool: Tool) -> tuple[str | None, list[str]]:
    """(``list`` | ``one`` | ``none`` | None, the entity's words) read from the tool's name."""
    words = list(split_words(tool.original_name or tool.name))
    for i, w in enumerate(words):
        if w in NONE_VERBS:
            return "none", []
        if w in LIST_VERBS or w in ONE_VERBS:
            shape = "list" if w in LIST_VERBS else "one"
            rest = words[i + 1:]
            while len(rest) > 1 and rest[0] in ("or", "and") and (rest[1] in ONE_VERBS or rest[1] in LIST_VERBS):
                rest = rest[2:]  # create_or_update_file: the file
            if rest and singular(rest[-1]) in _ASPECTS:
                return None, []
            noun = _noun_phrase(rest)
            plural = bool(rest) and singular(rest[-1]) != rest[-1]
            if shape == "one" and plural and w in ("get", "read", "fetch", "retrieve", "show", "view"):
                shape = "list"  # get_pull_request_files: a list of files
            return shape, noun
    return None, []


def description_shape(text: str) -> tuple[str | None, list[str]]:
    """What the prose says comes back: ``none`` on "returns only a success message", a list or one thing."""
    if _RETURNS_NOTHING.search(text):
        return "none", []
    m = _RETURNS_LIST.search(text)
    if m:
        return "list", _noun_phrase(list(split_words(m.group(1))))
    m = _RETURNS_ONE.search(text)
    if m:
        words = list(split_words(m.group(1)))
        if words and words[0] in ("it", "them"):
            return "one", []
        noun = _noun_phrase(words)
        plural = bool(words) and singular(words[-1]) != words[-1]
        return ("list" if plural else "one", noun) if noun else (None, [])
    return None, []


def entity_schema(entity: list[str], shape: str, source: str) -> dict[str, Any]:
    """The handles of one record of `entity` (a list of them when `shape` is ``list``), marked with `source`."""
    label = " ".join(entity)
    handles = ("path", "name") if entity[-1] in PATH_ENTITIES else HANDLES
    props = {
        h: {"type": "string", "description": f"{h} of the {label}", "x-source": source, "x-entity": "_".join(entity)}
        for h in handles
    }
    record = {"type": "object", "properties": props, "x-source": source}
    if shape == "list":
        return {"type": "array", "items": record, "x-source": source}
    return record


def infer_returns(tool: Tool) -> tuple[dict[str, Any] | None, str]:
    """(return schema, where it came from). Declared and example schemas stand as they are."""
    if tool.returns:
        return tool.returns, schema_source(tool)
    d_shape, d_noun = description_shape(" ".join(tool.description.split()))
    n_shape, n_noun = name_shape(tool)
    if d_shape == "none" or n_shape == "none":
        return None, "none"
    if d_shape and d_noun:
        return entity_schema(d_noun, n_shape or d_shape, "description"), "description"
    if n_shape and n_noun:
        return entity_schema(n_noun, n_shape, "name"), "name"
    return None, "none"


RETURNS_MODES = ("infer", "declared")


#: Leaves of a declared schema that hold only text whose meaning the description gives (MCP ``content``).
_OPAQUE_TEXT = frozenset(["content", "text", "result", "output", "message", "data"])


def _opaque_text_leaf(schema: dict[str, Any] | None) -> str | None:
    """The one string leaf of a declared ``{content: string}``-like schema, else None."""
    props = (schema or {}).get("properties")
    if not isinstance(props, dict) or len(props) != 1:
        return None
    (key, sub), = props.items()
    return key if key.lower() in _OPAQUE_TEXT and isinstance(sub, dict) and sub.get("type") == "string" else None


def described_text(tool: Tool) -> dict[str, Any] | None:
    """A declared text-only return read through the prose ("Returns full paths to all matching items"): the
    declared leaf stays, the handles the text carries are added next to it as ``<leaf>_items``."""
    leaf = _opaque_text_leaf(tool.returns)
    if leaf is None or tool.returns_inferred:
        return None
    shape, noun = description_shape(" ".join(tool.description.split()))
    if shape in (None, "none") or not noun:
        return None
    props = {**tool.returns["properties"], f"{leaf}_items": entity_schema(noun, "list", "description")}
    return {**tool.returns, "properties": props}


#: "Search for code across GitHub repositories": the hits come from many records of the plural noun.
_ACROSS = re.compile(r"\bacross (?:all |every |many |multiple )?(?:([a-z]+) )?([a-z]+)\b", re.IGNORECASE)


def _param_words(tool: Tool) -> set[str]:
    props = (tool.parameters or {}).get("properties") or {}
    return {expand(singular(w)) for name in props for w in split_words(name)}


def with_parents(tool: Tool, schema: dict[str, Any], api_words: set[str]) -> dict[str, Any]:
    """A search *across* records of a parent entity ("code across repositories") returns hits that say which
    parent each came from, when the hits are addressed only through it: no tool of the API takes the hit's
    own entity, the API's tools do take the parent, and this tool does not (it spans them). Each hit then
    also carries the parent's handles (``items[].repository.name``)."""
    m = _ACROSS.search(" ".join(tool.description.split()))
    items = schema.get("items") if schema.get("type") == "array" else None
    if m is None or not isinstance(items, dict):
        return schema
    word = m.group(2).lower()
    parent = expand(singular(word))
    hit = next((v.get("x-entity") for v in items.get("properties", {}).values()), None)
    if (singular(word) == word or not hit or parent not in api_words or parent in _param_words(tool)
            or hit.split("_")[-1] in api_words):
        return schema
    props = {**items["properties"], parent: entity_schema([parent], "one", "description")}
    return {**schema, "items": {**items, "properties": props}}


def field_tools(tools: list[Tool], mode: str = "infer") -> list[Tool]:
    """The tools to extract fields from: with ``infer``, a copy with the inferred schema for each tool that
    declares none, or whose declared text-only return the prose explains (the Tool itself, written to the
    store, keeps what its source declared)."""
    if mode not in RETURNS_MODES:
        raise ValueError(f"--returns must be one of {', '.join(RETURNS_MODES)}, got {mode!r}")
    if mode == "declared":
        return tools
    api_words: dict[str, set[str]] = {}
    for t in tools:
        api_words.setdefault(tool_api(t), set()).update(_param_words(t))
    out = []
    for t in tools:
        schema = described_text(t) if t.returns else infer_returns(t)[0]
        if schema is not None and not t.returns:
            schema = with_parents(t, schema, api_words[tool_api(t)])
        out.append(t if schema is None else t.model_copy(update={"returns": schema}))
    return out
