"""Cypher queries as files, loaded by name.

A query lives in ``<dialect>/<name>.cypher`` when Neo4j and Ladybug need different text, otherwise in
``common/<name>.cypher``. Python never assembles Cypher from strings; values always go in as parameters.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

DIALECTS = ("neo4j", "ladybug")


@cache
def load(name: str, dialect: str) -> str:
    """Return the text of query `name` for `dialect` (its own file first, then the common one)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown Cypher dialect {dialect!r}; expected one of {DIALECTS}")
    root = files(__name__)
    for folder in (dialect, "common"):
        path = root / folder / f"{name}.cypher"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise KeyError(f"no Cypher query named {name!r} for {dialect} (looked in cypher/{dialect}/ and cypher/common/)")


def load_statements(name: str, dialect: str) -> list[str]:
    """Split a multi-statement file (schema setup) on ';' lines."""
    text = "\n".join(line for line in load(name, dialect).splitlines() if not line.lstrip().startswith("//"))
    return [s.strip() for s in text.split(";") if s.strip()]
