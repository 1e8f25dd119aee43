"""Fuzzing the read-only guard with mutated attacks, on both stores (issue 20).

Known attack strings (file reads, writes, admin and file-writing clauses) are put behind prefixes that fooled
earlier guards (an alias spelled like a keyword, a number glued to the keyword, comments, a statement break)
or inside a string whose quotes are unicode escapes (Neo4j decodes them before it reads the query), and
mutated: keyword case, backticks, unicode escapes and look-alike letters, whitespace and comment variants. Each query goes through ``store.query`` on the embedded store and on a real Neo4j. The guard may
refuse it, or the store may run or reject it, but no write, file read or admin clause may take effect: the
graph stays as it was, no file appears, and neither the canary file's content nor server settings show up in
a result. Fixed seed and a bounded example count, so it runs the same in CI.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from graph_helpers import example_tools, hashing_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolflow.engine.stores import QueryTimeout, ReadOnlyViolation, open_store

EXAMPLES = 200  # per store

PREFIXES = [
    "WITH 1 AS AS ", "", "WITH 1 AS x ", "WITH 1 AS x, 2 AS as ", "UNWIND [1] AS AS ", "WITH * ",
    "MATCH (t:Tool) RETURN t.name AS n LIMIT 1", "RETURN 1 AS x SKIP 0", "RETURN 1 AS x LIMIT 1", "RETURN 1 AS x;",
    "RETURN 1 AS `AS` ",
    "RETURN 1 AS x // it's\n", "RETURN 1 AS x /* ' */ ", "CALL { RETURN 1 AS y } ", "MATCH (t:Tool) WITH t AS AS ",
]
SEPARATORS = [" ", "", "\t", "\n", "\r", "\r\n", "\u2028", "\u00a0", "\u3000", "/**/", "/* x */", "//c\n"]
GLUED = ["", "1", "0x1", "0o7", "1e3", "1.5", "007"]
LOOKALIKES = {"S": "\u017f", "K": "\u212a", "I": "\u0131", "A": "\u0430", "E": "\u0435"}

NEO4J_ATTACKS = [
    "LOAD CSV FROM 'file://{canary}' AS r RETURN r",
    "CALL dbms.listConfig() YIELD name, value RETURN name, value",
    "CALL dbms.showCurrentUser()",
    "SHOW TRANSACTIONS",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "CALL db.clearQueryCaches()",
    "CREATE (:Tool {{id: 'fuzz'}})",
    "MERGE (t:Tool {{id: 'fuzz'}}) RETURN t",
    "MATCH (t:Tool) SET t.name = 'fuzz'",
    "MATCH (t:Tool) DETACH DELETE t",
    "FOREACH (x IN [1] | CREATE (:Tool {{id: 'fuzz'}}))",
    "MATCH (t:Tool) CALL {{ WITH t SET t.name = 'fuzz' }} IN TRANSACTIONS",
]
LADYBUG_ATTACKS = [
    "LOAD FROM '{canary}' RETURN *",
    "COPY (MATCH (t:Tool) RETURN t.name) TO '{out}/copied.csv'",
    "EXPORT DATABASE '{out}/exported'",
    "CHECKPOINT",
    "INSTALL json",
    "LOAD EXTENSION json",
    "ATTACH '{out}/other.lbug' AS other (dbtype lbug)",
    "CREATE (:Tool {{id: 'fuzz'}})",
    "MATCH (t:Tool) SET t.name = 'fuzz'",
    "MATCH (t:Tool) DETACH DELETE t",
    "CALL threads=1",
]


def _mutate_word(word: str, how: str, flips: list[bool]) -> str:
    """One keyword of an attack, disguised."""
    if how == "case":
        return "".join(c.lower() if f else c.upper() for c, f in zip(word, flips * len(word), strict=False))
    if how == "backticks":
        return f"`{word}`"
    if how == "escape":  # a unicode escape for the first letter, outside any string
        return f"\\u{ord(word[0]):04X}{word[1:]}"
    if how == "lookalike":
        return "".join(LOOKALIKES.get(c, c) for c in word)
    return word


@st.composite
def attacks(draw: st.DrawFn, templates: list[str], canary: Path, out: Path) -> str:
    """A prefix, maybe a glued number, a separator, and the attack with one keyword disguised.

    The first choice of each list is the plainest, so Hypothesis starts from the known holes and mutates
    from there."""
    words = draw(st.sampled_from(templates)).format(canary=canary, out=out).split(" ")
    keywords = [i for i, w in enumerate(words) if w.isalpha() and w.isupper()]
    how = draw(st.sampled_from(["keep", "case", "backticks", "escape", "lookalike"]))
    at = draw(st.sampled_from(keywords))
    words[at] = _mutate_word(words[at], how, draw(st.lists(st.booleans(), min_size=1, max_size=4)))
    gap = draw(st.sampled_from(SEPARATORS[:1] + SEPARATORS[2:]))
    attack = gap.join(words)
    if draw(st.booleans()):  # inside a string whose quotes are unicode escapes: Neo4j decodes them first
        return "WITH 'x\\u0027 AS a " + attack.replace("'", "\\u0027") + " //' AS y RETURN y"
    prefix = draw(st.sampled_from(PREFIXES))
    glue = draw(st.sampled_from(GLUED)) if prefix and not prefix.endswith((" ", "\n", ";")) else ""
    return prefix + glue + draw(st.sampled_from(SEPARATORS)) + attack


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def fuzz_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fuzz")
    spec = str(root / "graph") if request.param == "ladybug" else request.getfixturevalue("neo4j_uri")
    with open_store(spec) as store:
        store.write_graph(hashing_graph(example_tools()))
    secret = f"toolflowcanary{uuid.uuid4().hex}"
    canary = root / "canary.csv"
    canary.write_text(f"{secret}\n{secret}\n")
    out = root / "out"
    out.mkdir()
    store = open_store(spec, read_only=True)
    yield store, secret, canary, out
    store.close()


def _snapshot(store) -> tuple[Any, ...]:
    return store.counts(), store.run("tool_catalog")


def test_mutated_attacks_never_take_effect(fuzz_target):
    store, secret, canary, out = fuzz_target
    before = _snapshot(store)
    templates = NEO4J_ATTACKS if store.dialect == "neo4j" else LADYBUG_ATTACKS
    outcomes = {"refused": 0, "store error": 0, "ran": 0}

    @settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(attacks(templates, canary, out))
    def one(cypher: str) -> None:
        try:
            rows = store.query(cypher, timeout=5)
        except ReadOnlyViolation:
            outcomes["refused"] += 1
            return
        except QueryTimeout:
            raise
        except Exception:  # the store's own refusal (syntax, access mode): what matters is the state below
            outcomes["store error"] += 1
        else:
            outcomes["ran"] += 1
            shown = json.dumps(rows, default=str)
            assert secret not in shown, f"file content read by {cypher!r}"
            assert "dbms." not in shown and "server." not in shown, f"settings listed by {cypher!r}"
        assert _snapshot(store) == before, f"the graph changed after {cypher!r}"
        assert list(out.iterdir()) == [], f"a file was written by {cypher!r}"

    one()
    assert _snapshot(store) == before
    assert list(out.iterdir()) == []
    assert outcomes["refused"] > EXAMPLES // 2, outcomes  # the guard, not the store, stops most of them
