"""What a field is, for matching: its words, the entity an identifier names, credential kinds, the API a
tool belongs to, value formats. Pure functions over FieldNode and Tool; the scoring rule that uses these
facts is in :mod:`toolflow.engine.graph.matching` (its docstring gives the rule, docs/graph.md the measurements).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from toolflow.engine.models import FieldNode, Tool

#: Names that control paging, output shape or transport: never evidence of a data flow by name.
GENERIC = frozenset(
    ["page", "page_no", "page_number", "pageno", "per_page", "perpage", "page_size", "pagesize", "limit", "offset", "skip", "start", "count", "size", "max_results", "maxresults", "cursor", "next_token", "next_cursor", "format", "output_format", "response_format", "callback", "jsonp", "pretty", "sort", "sort_by", "sortby", "order", "order_by", "orderby", "field", "fl", "version", "api_version", "v", "debug", "raw", "lang", "language", "locale",
     # configuration and routing words: a value of them says how, not about what
     "parameter", "param", "args", "arg", "argument", "option", "setting", "config", "configuration", "mode",
     "method", "action", "unit", "to", "from", "source", "direction", "comment", "callback_url", "webhook"]
)
#: Response envelope leaves and statuses: a call's outcome, not a value the next call takes.
ENVELOPE = frozenset(
    ["status", "status_code", "statuscode", "code", "message", "msg", "success", "ok", "error", "errors", "error_code", "errorcode", "detail", "details", "total", "total_count", "totalcount", "has_more", "hasmore", "next", "previous", "prev", "timestamp", "took", "request_id", "service", "operation"]
)
#: Bare names that say nothing on their own (``name`` of what?): no name evidence unless described.
BARE = frozenset(["id", "key", "name", "value", "type", "data", "item", "result", "object", "text", "description", "title"])
#: Path keys that wrap a payload rather than name an entity.
WRAPPERS = frozenset(["data", "result", "results", "items", "item", "records", "record", "response", "body", "payload", "content", "list", "hits", "value", "values", "entries", "entry", "rows", "row", "objects", "object", "output"])
_VERBS = frozenset(
    ["get", "list", "all", "one", "find", "search", "query", "fetch", "retrieve", "read", "show", "view", "lookup", "add", "create", "new", "post", "put", "patch", "update", "modify", "edit", "set", "delete", "remove", "destroy", "cancel", "close", "by", "for", "with", "from", "to", "of", "the", "a", "an", "api", "v1", "v2", "info", "detail", "details", "my", "this"]
)
_CREDENTIAL = re.compile(
    r"(api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth|token|secret|password|passwd|client[_-]?id|"
    r"session|x-rapidapi)",
    re.IGNORECASE,
)
_ID_TOKENS = frozenset(["id", "ids", "uuid", "guid"])
_CAMEL1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")
_TRAIL_DIGITS = re.compile(r"\d+$")
_DELETE = frozenset(["delete", "remove", "destroy", "purge"])
_VERSION = re.compile(r"^(v?\d+(\.\d+)*|api)$", re.IGNORECASE)
_OWNER_ALIAS = (
    re.compile(r"\b([a-z]+) (?:who|that) owns\b"),
    re.compile(r"\b(?:id|identifier|identification) (?:of|for) (?:the |a |an )?(?:related )?([a-z]+)\b"),
    re.compile(r"\bthe ([a-z]+) related to\b"),
)
#: "Station ID", "id of the station": a description that names the entity of an identifier outright.
_DESC_ENTITY = (
    re.compile(r"^(?:the |a |an )?([a-z]+)[ _-]?(?:id|identifier|uuid)\b"),
    re.compile(r"^(?:the |a |an )?(?:unique )?(?:id|identifier) (?:of|for) (?:the |a |an )?([a-z]+(?: [a-z]+)?)\b"),
)
_NOT_ENTITY = frozenset(["the", "a", "an", "unique", "internal", "external", "numeric", "record", "object", "item", "resource", "entity", "string", "integer", "primary", "secondary", "this", "its", "their", "to", "that", "which", "who", "in", "on", "with", "associated", "related", "query", "use"])
_SEM_FORMATS = {
    "date": "date", "date-time": "date", "datetime": "date", "time": "time", "email": "email", "uri": "url",
    "url": "url", "uri-reference": "url", "hostname": "url", "uuid": "uuid", "ipv4": "ip", "ipv6": "ip",
    "phone": "phone",
}
_SEM_NAMES = (
    (re.compile(r"(^|_)(email|e_mail)(_address)?$"), "email"),
    (re.compile(r"(^|_)(url|uri|link|href|website)$"), "url"),
    (re.compile(r"(^|_)(date|day|dt|created_at|updated_at|at|since|until|birthday)$"), "date"),
    (re.compile(r"(^|_)(phone|phone_number|mobile|tel)$"), "phone"),
    (re.compile(r"(^|_)time$"), "time"),
)
#: Free text: what a text-processing parameter (translate, summarize, send) takes from any text output.
_TEXT_OUT = frozenset(["text", "content", "summary", "transcription", "transcript", "translation", "translated", "answer", "definition", "body", "article", "abstract", "paragraph", "passage", "document", "description"])
_TEXT_IN = frozenset(["text", "content", "document", "body", "message"])


@lru_cache(maxsize=1 << 18)
def split_words(name: str) -> tuple[str, ...]:
    """camelCase / snake_case / kebab-case / dotted names into lower-case words (cached: names repeat)."""
    name = _CAMEL1.sub(r"\1 \2", name)
    name = _CAMEL2.sub(r"\1 \2", name)
    return tuple(w for w in _NON_WORD.split(name.lower()) if w)


def singular(word: str) -> str:
    """A plural English noun to its singular form (rules, not a dictionary; good enough for API nouns)."""
    if word == "ids":
        return "id"
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 18)
def name_tokens(name: str) -> tuple[str, ...]:
    """Normalized tokens: split, singular, digits dropped from words (``isbn13`` → ``isbn``)."""
    out = []
    for w in split_words(name):
        stripped = _TRAIL_DIGITS.sub("", w) or w
        out.append(singular(stripped))
    return tuple(out)


def _ent(tokens: Sequence[str]) -> str:
    return "_".join(tokens)


def tool_entity(tool: Tool) -> str | None:
    """The resource a tool acts on: from its HTTP path when it has one, else from its name."""
    path = tool.extra.get("path") if isinstance(tool.extra, dict) else None
    if isinstance(path, str) and path.strip("/"):
        literal = []
        for seg in path.strip("/").split("/"):
            if seg.startswith("{") or not seg:
                continue
            seg = re.sub(r"\{[^}]*\}", "", seg)  # '/profiles{mediaTypeExtension}', '/pets.{format}'
            seg = re.sub(r"\.[A-Za-z]*$", "", seg)  # 'history.json'

            if seg and not _VERSION.match(seg):
                literal.append(seg)
        if literal:
            plural = [s for s in literal if split_words(s) and split_words(s)[-1].endswith("s")]
            pick = (plural or literal)[-1]
            toks = name_tokens(pick)
            if toks:
                return _ent(toks)
    words = split_words(tool.original_name or tool.name)
    for cut in ("by", "for", "with"):
        if cut in words[1:]:
            words = words[: words.index(cut, 1)]
    nouns = [singular(w) for w in words if w not in _VERBS and not w.isdigit()]
    return nouns[-1] if nouns else None


def path_param_entity(tool: Tool, param: str) -> str | None:
    """The entity a path parameter names: the literal segment before ``{param}`` (``/pets/{id}`` → pet)."""
    path = tool.extra.get("path") if isinstance(tool.extra, dict) else None
    if not isinstance(path, str) or f"{{{param}}}" not in path:
        return None
    before = path.split(f"{{{param}}}")[0].strip("/").split("/")
    for seg in reversed(before):
        if seg and not seg.startswith("{") and not _VERSION.match(seg):
            toks = name_tokens(seg)
            return _ent(toks) if toks else None
    return None


def is_delete(tool: Tool) -> bool:
    method = tool.extra.get("method") if isinstance(tool.extra, dict) else None
    if isinstance(method, str) and method.upper() == "DELETE":
        return True
    return bool(set(split_words(tool.original_name or tool.name)) & _DELETE)


def is_write(tool: Tool) -> bool:
    method = tool.extra.get("method") if isinstance(tool.extra, dict) else None
    return isinstance(method, str) and method.upper() in ("POST", "PUT", "PATCH")


_RECORD_VERBS = frozenset(["add", "create", "new", "insert", "modify", "update", "edit", "register", "book", "set", "schedule"])


def writes_record(tool: Tool) -> bool:
    """A create/update of a stored record: HTTP POST/PUT/PATCH, or (no HTTP method) a name that starts with
    a record verb (``AddReminder``, ``ModifyMeeting``). Sending or transforming text is not one."""
    method = tool.extra.get("method") if isinstance(tool.extra, dict) else None
    if isinstance(method, str):
        return method.upper() in ("POST", "PUT", "PATCH") and not is_delete(tool)
    words = split_words(tool.original_name or tool.name)
    return bool(words) and words[0] in _RECORD_VERBS


def _gets_by_id(tool: Tool) -> bool:
    path = tool.extra.get("path") if isinstance(tool.extra, dict) else None
    return isinstance(path, str) and path.rstrip("/").endswith("}") and not is_write(tool)


def api_of(tool_id: str) -> str:
    """The API a tool belongs to, from its id alone: without the last '/' part (``openapi:CRM API``), else the
    source prefix (``api_bank``)."""
    if "/" in tool_id:
        return tool_id.rsplit("/", 1)[0]
    return tool_id.split(":", 1)[0]


def tool_api(tool: Tool) -> str:
    """The API a tool belongs to: the RapidAPI tool for ToolBench endpoints (whose names may hold '/'), else
    `api_of` its id. Names, entities and credentials mean one thing within one API."""
    extra = tool.extra if isinstance(tool.extra, dict) else {}
    stem = extra.get("tool_standardized_name")
    if isinstance(stem, str) and stem:
        return f"{tool.source}:{tool.category}/{stem}"
    return api_of(tool.id)


@dataclass(frozen=True)
class Facts:
    """What the rule needs to know about one field (derived once per field)."""

    key: str
    head: str
    ident: bool
    entities: frozenset[str]
    foreign: bool
    credential: str | None
    sem: str | None
    enum: frozenset[str] | None
    numeric: bool
    named: bool  # carries name evidence (not generic, not envelope, not an undescribed bare name)
    attribute: bool  # a parameter that writes a record's attribute (body of a create/update)
    header: bool  # a header parameter (tenant, connection, routing): not where data flows
    nested: bool  # a parameter inside a request-body object or array (not a top-level or filter value)
    text: bool  # free text (returns: a text output; params: a text to process or send)
    resource: bool  # an identifier of something the API serves (one of its tools' entities)
    owner: str | None  # the record the value belongs to (parent object, else the tool's resource)


def _credential_kind(name: str) -> str | None:
    if not _CREDENTIAL.search(name):
        return None
    toks = name_tokens(name)
    for kind in ("token", "key", "secret", "password", "session"):
        if kind in toks or any(t.endswith(kind) for t in toks):
            return kind
    return toks[-1] if toks else None


def _semantic(f: FieldNode, tokens: Sequence[str]) -> str | None:
    fmt = f.facets.get("format")
    if isinstance(fmt, str) and fmt.lower() in _SEM_FORMATS:
        return _SEM_FORMATS[fmt.lower()]
    joined = "_".join(tokens)
    for rx, sem in _SEM_NAMES:
        if rx.search(joined):
            return sem
    return None


@lru_cache(maxsize=4096)
def _tails(entities: frozenset[str]) -> frozenset[str]:
    return frozenset(e.split("_")[-1] for e in entities)


def _identity(f: FieldNode, tool: Tool, toks: list[str], keys: list[str], parent: str | None,
              tool_ent: str | None) -> tuple[bool, set[str], bool]:
    """(is an identifier, its entities, is a foreign key) from the name, the path and the tool."""
    ident = bool(toks) and toks[-1] in _ID_TOKENS
    entities: set[str] = set()
    foreign = False
    if ident:
        own = toks[:-1]
        if own:
            entities.add(_ent(own))
            foreign = True
        else:
            ent = path_param_entity(tool, f.name) if f.role == "param" and len(keys) == 1 else None
            if ent:
                entities.add(ent)
            elif parent:
                entities.add(parent)
                foreign = parent != tool_ent
            elif tool_ent:
                entities.add(tool_ent)
    elif ((f.path or "").endswith("[]") and f.role == "return" and f.type is None and len(keys) == 1
          and f.name.lower() not in WRAPPERS):
        # A top-level list of untyped records (API-Bank ``reminders[]``): each element carries its record's id.
        ident = bool(toks)
        if toks:
            entities.add(_ent(toks))
    return ident, entities, foreign


def _described_entities(description: str, api_entities: frozenset[str]) -> set[str]:
    """Entities an identifier's description names ("Station ID"), and owner aliases of the API's entities."""
    desc = description.lower()
    out: set[str] = set()
    for rx in _DESC_ENTITY:
        m = rx.match(desc)
        words = m.group(1).split() if m else []
        if words and words[0] in _NOT_ENTITY:
            continue
        if len(words) == 2 and words[1] in _NOT_ENTITY:
            words = words[:1]
        if words and words[-1] not in WRAPPERS:
            out.add(_ent([singular(w) for w in words]))
    for rx in _OWNER_ALIAS:
        for m in rx.finditer(desc):
            word = singular(m.group(1))
            if word in api_entities:
                out.add(word)
    return out


def _is_named(f: FieldNode, toks: list[str]) -> bool:
    """Does the field's name carry evidence (not generic, bare only when described, not a keyword)?"""
    lname = f.name.lower()
    named = bool(toks) and lname not in GENERIC and _ent(toks) not in GENERIC and (
        f.described or lname not in BARE
    ) and not f.name.startswith(("$", "@"))  # schema / JSON-LD keywords ($comment, @type), not data
    return named and not (f.role == "return" and (lname in ENVELOPE or _ent(toks) in ENVELOPE))


def _param_place(f: FieldNode, tool: Tool, keys: list[str]) -> tuple[bool, bool, bool]:
    """(body attribute of a write, header or get-by-id filter, nested) for a parameter; all False for returns."""
    if f.role != "param":
        return False, False, False
    root = keys[0] if keys else f.name
    prop = tool.parameters.get("properties", {}).get(root)
    where = prop.get("x-in") if isinstance(prop, dict) else None
    attribute = where == "body" and is_write(tool)
    # Headers pick tenants and connections; list filters on a get-by-id call (it has its resource's id in
    # the path) select nothing. Neither is where data flows.
    header = where == "header" or (root.lower() == "filter" and _gets_by_id(tool))
    nested = len(keys) > 1 and where not in ("query", "path") and keys[0].lower() != "filter"
    return attribute, header, nested


def field_facts(f: FieldNode, tool: Tool, tool_ent: str | None, api_entities: frozenset[str]) -> Facts:
    """Derive the rule's view of one field from its name, path, schema facets and tool."""
    toks = name_tokens(f.name)
    keys = [k for k in re.split(r"\.|\[\]", f.path or f.name) if k]
    parents = [k for k in keys[:-1] if k.lower() not in WRAPPERS and k.lower() != "filter"]
    parent = _ent(name_tokens(parents[-1])) if parents and name_tokens(parents[-1]) else None
    ident, entities, foreign = _identity(f, tool, toks, keys, parent, tool_ent)
    if ident and f.described:
        entities |= _described_entities(f.description, api_entities)
    enum = f.facets.get("enum")
    enum_set = frozenset(str(x) for x in enum) if isinstance(enum, list) and enum else None
    attribute, header, nested = _param_place(f, tool, keys)
    text_words = _TEXT_OUT if f.role == "return" else _TEXT_IN
    text = f.type in ("string", None) and not ident and bool(set(toks) & text_words) and not enum_set
    if f.role == "param" and writes_record(tool):
        text = False  # a record's note or content field is an attribute, not text to process or send
    resource = bool(entities) and any(e in api_entities or e.split("_")[-1] in _tails(api_entities) for e in entities)
    return Facts(
        key=_ent(toks),
        head=toks[-1] if toks else "",
        ident=ident,
        entities=frozenset(entities),
        foreign=foreign,
        credential=_credential_kind(f.name),
        sem=_semantic(f, toks),
        enum=enum_set,
        numeric=f.type in ("number", "integer") and not ident,
        named=_is_named(f, toks),
        attribute=attribute,
        header=header,
        nested=nested,
        text=text,
        resource=resource,
        owner=parent or tool_ent,
    )


def _share_aliases(returns: Sequence[FieldNode], rfacts: list[Facts], params: Sequence[FieldNode],
                   pfacts: list[Facts], apis: dict[str, str]) -> None:
    """Within one API a reference name means one thing: an entity alias read from one field's description
    ("the user who owns the note") applies to every same-named reference of that API (``owner_id``)."""
    union: dict[tuple[str, str], set[str]] = defaultdict(set)
    fields = [*zip(returns, rfacts, strict=True), *zip(params, pfacts, strict=True)]
    for f, fa in fields:
        if fa.ident and fa.foreign and "_" in fa.key:
            union[(apis[f.tool_id], fa.key)] |= fa.entities
    for facts_list, field_list in ((rfacts, returns), (pfacts, params)):
        for k, (f, fa) in enumerate(zip(field_list, facts_list, strict=True)):
            extra = union.get((apis[f.tool_id], fa.key)) if fa.ident and fa.foreign else None
            if extra and not extra <= fa.entities:
                facts_list[k] = replace(fa, entities=fa.entities | frozenset(extra), resource=fa.resource or True)


def all_facts(tools: Sequence[Tool], returns: Sequence[FieldNode], params: Sequence[FieldNode],
               apis: dict[str, str]) -> tuple[list[Facts], list[Facts]]:
    """The derived facts of every return and parameter field, aliases shared within each API."""
    by_id = {t.id: t for t in tools}
    ents_by_api: dict[str, set[str]] = defaultdict(set)
    tool_ents: dict[str, str | None] = {}
    for t in tools:
        e = tool_entity(t)
        tool_ents[t.id] = e
        if e:
            ents_by_api[apis[t.id]].add(e)
    api_ents = {a: frozenset(s) for a, s in ents_by_api.items()}

    def facts(f: FieldNode) -> Facts:
        t = by_id[f.tool_id]
        return field_facts(f, t, tool_ents[t.id], api_ents.get(apis[t.id], frozenset()))

    rfacts = [facts(f) for f in returns]
    pfacts = [facts(f) for f in params]
    _share_aliases(returns, rfacts, params, pfacts, apis)
    return rfacts, pfacts
