"""Local `$ref`s: resolution for OpenAPI/Swagger documents, and the dangling-ref check of every loader.

A tool's parameters and return schema must be self-contained (they are sent to a model on their
own), so refs are inlined. Recursive schemas (a tree node whose children are tree nodes) would inline
forever: a ref already being expanded, or one nested deeper than `max_depth`, is cut to
`{"type": "object"}` with the ref noted in `x-ref`. Expansions that were never cut don't depend on
where they occur, so they are cached (and cloned on reuse, so no two tools share a dict): OpenAI's
spec (2,811 refs) resolves in about a second.

The other formats keep a tool's schemas as they are, refs included; `check_refs` makes a ref that
points at nothing the same located error there as in OpenAPI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from toolflow.engine.schema_norm import SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_ONE, subschemas
from toolflow.loaders.errors import LoadError, json_pointer

#: How many `$ref`s deep a schema is inlined before the rest is cut to `{"type": "object"}`.
MAX_REF_DEPTH = 6


class RefResolver:
    """Resolves `#/...` refs within one parsed document. Raises `LoadError` for dangling or external refs."""

    def __init__(self, document: Any, *, max_depth: int = MAX_REF_DEPTH) -> None:
        self.document = document
        self.max_depth = max_depth
        self._complete: dict[str, Any] = {}

    def lookup(self, ref: Any, *, pointer: str) -> Any:
        """The value a ref points at; `pointer` is where the ref itself sits (for the error message)."""
        if not isinstance(ref, str):
            raise LoadError(f"$ref must be a string, got {type(ref).__name__}", pointer=pointer, field="$ref")
        if not ref.startswith("#"):
            raise LoadError(
                f"external $ref {ref!r} is not supported (only '#/...' refs)", pointer=pointer, field="$ref"
            )
        node = self.document
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise LoadError(
                    f"dangling $ref {ref!r}: nothing at {ref[1:] or '/'}", pointer=pointer, field="$ref"
                )
        return node

    def deref(self, node: Any, *, pointer: str) -> tuple[Any, str]:
        """Follow a chain of refs at the top of `node` (a parameter, body or response object).

        Returns the target and the pointer it came from, so later errors point into the real object.
        """
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise LoadError(
                    f"$ref must be a string, got {type(ref).__name__}", pointer=pointer, field="$ref"
                )
            if ref in seen:
                raise LoadError(f"$ref cycle through {ref!r}", pointer=pointer, field="$ref")
            seen.add(ref)
            node = self.lookup(ref, pointer=pointer)
            pointer = ref[1:]
        return node, pointer

    def expand(self, schema: Any, *, pointer: str) -> Any:
        """`schema` with every local ref inlined (copies; the document is not modified)."""
        value, _ = self._expand(schema, pointer, ())
        return value

    def _expand(self, node: Any, pointer: str, stack: tuple[str, ...]) -> tuple[Any, bool]:
        """(expanded node, whether anything inside was cut). Only uncut expansions are cached."""
        if isinstance(node, list):
            items, cut = [], False
            for i, sub in enumerate(node):
                value, sub_cut = self._expand(sub, f"{pointer}/{i}", stack)
                items.append(value)
                cut = cut or sub_cut
            return items, cut
        if not isinstance(node, dict):
            return node, False
        if "$ref" in node:
            return self._expand_ref(node, pointer, stack)
        out: dict[str, Any] = {}
        cut = False
        for key, sub in node.items():
            if isinstance(sub, dict | list):
                value, sub_cut = self._expand(
                    sub, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}", stack
                )
                out[key] = value
                cut = cut or sub_cut
            else:
                out[key] = sub
        return out, cut

    def _expand_ref(self, node: dict[str, Any], pointer: str, stack: tuple[str, ...]) -> tuple[Any, bool]:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise LoadError(f"$ref must be a string, got {type(ref).__name__}", pointer=pointer, field="$ref")
        # OpenAPI 3.1 allows keywords beside a $ref (e.g. a description); they override the target's.
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if ref in self._complete:
            target, cut = _clone(self._complete[ref]), False
        elif ref in stack or len(stack) >= self.max_depth:
            target = self.lookup(ref, pointer=pointer)
            placeholder: dict[str, Any] = {"type": "object", "x-ref": ref}
            if isinstance(target, dict) and isinstance(target.get("description"), str):
                placeholder["description"] = target["description"]
            return {**placeholder, **siblings}, True
        else:
            target = self.lookup(ref, pointer=pointer)
            target, cut = self._expand(target, ref[1:], (*stack, ref))
            if not cut:
                self._complete[ref] = target
        if not siblings:
            return target, cut
        if not isinstance(target, dict):
            return siblings, cut
        extra, sib_cut = self._expand(siblings, pointer, stack)
        return {**target, **extra}, cut or sib_cut


def check_refs(schema: Any, *, pointer: str) -> None:
    """Raise `LoadError` at the first `$ref` in `schema` that does not resolve within `schema` itself.

    The one check every loader runs on a tool's parameter and return schemas. A tool's schema travels
    alone (to a model, into the graph), so its refs may only point inside it (`#/$defs/...`, or a
    recursive `#/properties/children/items`). OpenAPI documents are different: `RefResolver` inlines
    their refs against the whole document first, and nothing is left to check. `pointer` is where
    `schema` sits in the file; the error names the pointer of the object holding the bad `$ref`.
    """
    if not _has_ref(schema):  # the common case, walked without building pointers
        return
    resolver: RefResolver | None = None
    for ref, at in _refs(schema, pointer):
        resolver = resolver or RefResolver(schema)
        resolver.lookup(ref, pointer=at)


def _has_ref(node: Any) -> bool:
    """Whether a `$ref` sits anywhere `_refs` would find one (same positions, no pointers)."""
    if not isinstance(node, dict):
        return False
    if "$ref" in node:
        return True
    for key, value in node.items():
        if key in SCHEMA_MAPS:
            if isinstance(value, dict) and any(_has_ref(sub) for sub in value.values()):
                return True
        elif isinstance(value, list):
            if (key in SCHEMA_LISTS or key == "items") and any(_has_ref(sub) for sub in value):
                return True
        elif key in SCHEMA_ONE and _has_ref(value):
            return True
    return False


def _refs(schema: Any, pointer: str) -> Iterator[tuple[Any, str]]:
    """(ref, pointer of the schema holding it) for every `$ref` in schema positions, depth first."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(schema, ())]
    while stack:
        node, parts = stack.pop()
        if not isinstance(node, dict):
            continue
        if "$ref" in node:
            yield node["$ref"], pointer + json_pointer(*parts)
        subs = [(sub, parts + path) for path, sub in subschemas(node)]
        stack.extend(reversed(subs))


def _clone(value: Any) -> Any:
    """A deep copy of a JSON value (much faster than `copy.deepcopy` for plain dicts and lists)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value
