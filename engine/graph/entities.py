"""Entity references: a record handle that an inferred return carries, matched to the parameters that name
the same entity, whatever the parameter is called.

A tool that returns a repository (inferred from ``search_repositories``) passes it on by its handles — id,
number, name (files and folders: path, name). A parameter names an entity by ``<entity>_<handle>``
(``issue_number`` → issue, number), by the bare entity noun when some tool of the API serves that entity
(``repo`` → repository), or by a path (``path`` → file). A return handle of entity E feeds a parameter of
entity Q in the same API when Q is E or E's head noun (``pull_request_file`` → ``file``), or, when Q is not an
entity of its own, the first word of a two-word E (``pull_number`` → pull request); the handle kinds agree,
and a bare entity parameter takes any handle. Only inferred returns go through here: declared schemas keep
the evidence rule of `toolflow.engine.graph.matching`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from toolflow.engine.graph.facts import (
    GENERIC,
    WRAPPERS,
    is_write,
    name_tokens,
    singular,
    split_words,
    tool_api,
)
from toolflow.engine.graph.matching import Match, types_compatible
from toolflow.engine.graph.returns import PATH_ENTITIES, expand, name_shape
from toolflow.engine.models import FieldNode, Tool

#: Where an inferred return field came from (``FieldNode.source``).
INFERRED_SOURCES = frozenset(["description", "name"])
ENTITY_REF_SCORE = 0.9
_KINDS = {"id": "id", "ids": "id", "uuid": "id", "key": "id", "number": "number", "num": "number",
          "no": "number", "name": "name", "path": "path", "filename": "path"}


def _entity_tokens(f: FieldNode, tool: Tool) -> tuple[str, ...]:
    """The entity an inferred handle belongs to; for a declared ``name``/``number``/``path`` leaf, the record
    that holds it (``entities[].name`` → entity), or for a top-level one the record the tool's name says it
    returns (``[].name`` of ``list_files`` → file). Declared ids keep the evidence rule of `matching`."""
    ent = f.facets.get("x-entity")
    if isinstance(ent, str) and ent:
        return tuple(ent.split("_"))
    if _is_element(f):
        return tuple(expand(t) for t in name_tokens(f.name))
    if f.source in INFERRED_SOURCES or _KINDS.get(f.name.lower()) not in ("name", "number", "path"):
        return ()
    keys = [k for k in re.split(r"\.|\[\]", f.path or "") if k]
    parents = [k for k in keys[:-1] if k.lower() not in WRAPPERS]
    if parents:
        return tuple(expand(t) for t in name_tokens(parents[-1]))
    shape, noun = name_shape(tool)
    if shape == "list" and noun and noun[-1] in _DIRECTORY_WORDS:
        return ("path",)  # listing a directory gives its entries: files and folders alike
    return tuple(noun) if shape in ("list", "one") and noun else ()


#: Plural nouns that say how a list's elements identify something, not what they identify (``ids[]``).
_ANONYMOUS = frozenset(["id", "uuid", "name", "number", "num", "no", "path", "filename", "value", "item"])


def _is_element(f: FieldNode) -> bool:
    """A scalar element of a declared list named by a plural noun (``keys[]``, ``observations[]``): the
    element is itself the handle of that entity."""
    if f.source in INFERRED_SOURCES or not (f.path or "").endswith("[]") or f.type not in ("string", "integer"):
        return False
    words = split_words(f.name)
    return bool(words) and singular(words[-1]) != words[-1] and singular(words[-1]) not in _ANONYMOUS


def param_handle(p: FieldNode, entities: frozenset[tuple[str, ...]], tool_name: str = ""
                 ) -> tuple[tuple[str, ...], str | None] | None:
    """(entity words, handle kind or None for any) a parameter names, or None when it names no entity."""
    leaf = re.split(r"\.|\[\]", p.path or p.name)
    leaf = [k for k in leaf if k]
    toks = tuple(expand(t) for t in name_tokens(leaf[-1] if leaf else p.name))
    if not toks:
        return None
    kind = _KINDS.get(toks[-1])
    if kind and len(toks) > 1:
        return toks[:-1], kind
    if kind == "path" or toks == ("file", "path"):
        return (_path_entity(tool_name),), "path"
    heads = {e[-1] for e in entities}
    if len(toks) == 1 and toks[0] in heads and toks[0] not in GENERIC:
        return toks, None
    return None


_DIRECTORY_WORDS = frozenset(["directory", "folder", "dir"])


def _path_entity(tool_name: str) -> str:
    """What a path parameter names, from its tool's name: a directory (``list_directory``), a file
    (``read_text_file``), or either (``path``) when the name says neither."""
    words = set(name_tokens(tool_name))
    if words & _DIRECTORY_WORDS:
        return "directory"
    return "file" if "file" in words else "path"


def _path_kind(e: str) -> str:
    return "directory" if e in _DIRECTORY_WORDS else e


def _agree(src: tuple[str, ...], dst: tuple[str, ...], entities: frozenset[tuple[str, ...]]) -> bool:
    if src == dst or src[-len(dst):] == dst:
        return True
    if dst[-1] in PATH_ENTITIES and src[-1] in PATH_ENTITIES:
        a, b = _path_kind(src[-1]), _path_kind(dst[-1])
        return a == b or "path" in (a, b)  # a directory path is not where a file path goes
    return len(src) == 2 and dst == src[:1] and dst not in entities


def _kinds_agree(src_kind: str, dst_kind: str | None, src: tuple[str, ...]) -> bool:
    """Handle kinds agree; a file's or folder's name and its path name the same entry (a listing's names)."""
    if dst_kind is None or src_kind == dst_kind:
        return True
    return src[-1] in PATH_ENTITIES and {src_kind, dst_kind} == {"name", "path"}


def _writes_attribute(p: FieldNode, tool: Tool) -> bool:
    """A body field of a create/update call: copying a record's name into a new record is no data flow."""
    root = re.split(r"\.|\[\]", p.path or p.name)[0]
    prop = tool.parameters.get("properties", {}).get(root)
    return isinstance(prop, dict) and prop.get("x-in") == "body" and is_write(tool)


def entity_ref_matches(tools: Sequence[Tool], returns: Sequence[FieldNode], params: Sequence[FieldNode],
                       deletes: set[str]):
    """Matches (as `matching.Match`) from inferred return handles to the parameters naming their entity."""
    by_id = {t.id: t for t in tools}
    apis = {t.id: tool_api(t) for t in tools}
    ents: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    src_ents = [_entity_tokens(r, by_id[r.tool_id]) for r in returns]
    for r, e in zip(returns, src_ents, strict=True):
        if e:
            ents[apis[r.tool_id]].add(e)
    handles: dict[str, list[tuple[int, tuple[str, ...], str | None]]] = defaultdict(list)
    for j, p in enumerate(params):
        api = apis[p.tool_id]
        t = by_id[p.tool_id]
        h = None if _writes_attribute(p, t) else param_handle(p, frozenset(ents.get(api, ())), t.original_name or t.name)
        if h:
            handles[api].append((j, *h))
    best: dict[tuple[str, str], object] = {}
    for i, r in enumerate(returns):
        src = src_ents[i]
        if not src or r.tool_id in deletes:
            continue
        inferred = r.source in INFERRED_SOURCES
        element = _is_element(r)
        api = apis[r.tool_id]
        for j, dst, kind in handles.get(api, []):
            p = params[j]
            if p.tool_id == r.tool_id or not (element or _kinds_agree(r.name, kind, src)) or not types_compatible(r.type, p.type):
                continue
            same = dst == src or (dst[-1] in PATH_ENTITIES and src[-1] in PATH_ENTITIES)
            if not inferred and ((kind is None and not element) or not same):
                continue  # declared records: only a parameter that names the same entity and handle
            if not _agree(src, dst, frozenset(ents[api])):
                continue
            key = (r.tool_id, p.tool_id)
            if key not in best:
                evidence = ("entity_ref", f"from_{r.source}") if inferred else ("entity_ref",)
                best[key] = Match(i, j, ENTITY_REF_SCORE, None, evidence)
    return list(best.values())
