"""Cypher lives in files loaded by name: a dialect's own file first, then the common one; every shipped file
loads for the dialects it serves, and a missing name or dialect is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolflow.cypher as cypher
from toolflow.cypher import DIALECTS, load, load_statements

ROOT = Path(cypher.__file__).parent


def _names(folder: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / folder).glob("*.cypher"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_of_a_dialect_loads_its_own_text(dialect: str) -> None:
    names = _names(dialect)
    assert names
    for name in names:
        assert load(name, dialect) == (ROOT / dialect / f"{name}.cypher").read_text(encoding="utf-8").strip() != ""


def test_common_queries_serve_a_dialect_without_its_own_file() -> None:
    for name in _names("common"):
        for dialect in DIALECTS:
            own = ROOT / dialect / f"{name}.cypher"
            source = own if own.exists() else ROOT / "common" / f"{name}.cypher"
            assert load(name, dialect) == source.read_text(encoding="utf-8").strip()


def test_unknown_dialect_and_name_are_errors_that_say_where_they_looked() -> None:
    with pytest.raises(ValueError, match="unknown Cypher dialect 'sqlite'"):
        load("count_tools", "sqlite")
    with pytest.raises(KeyError, match=r"cypher/neo4j/ and cypher/common/"):
        load("no_such_query", "neo4j")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_schema_files_split_into_statements_without_comments(dialect: str) -> None:
    statements = load_statements("schema", dialect)
    assert len(statements) > 1
    for statement in statements:
        assert statement and not statement.endswith(";")
        assert not any(line.lstrip().startswith("//") for line in statement.splitlines())
