"""The read-only query guard parses (issue 20): its holes, the size and nesting limits, and the query timeout.

Each case of the issue runs through ``store.query`` and ``toolflow graph query`` on both stores (the embedded
Ladybug store in a tmp dir and a real Neo4j) and must be refused with nothing read, written or changed.
The fuzz test beside this file (test_query_guard_fuzz.py) mutates the same attacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import neo4j
import pytest
from click.testing import CliRunner
from graph_helpers import example_tools, hashing_graph

from toolflow.engine.cli import main
from toolflow.engine.stores import QueryTimeout, QueryTooLarge, ReadOnlyViolation, open_store
from toolflow.engine.stores.readonly import MAX_NESTING, MAX_QUERY_CHARS, check_read_only, tokenize

TOOLFLOW = Path(sys.executable).with_name("toolflow")

# ---- the issue's cases, refused by the guard itself ----------------------------------------------------

ALIAS_LIKE_A_KEYWORD = [  # `AS AS`: an alias named like a keyword made the old tokenizer lose its place
    "WITH 1 AS AS LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
    "WITH 1 AS AS CALL dbms.listConfig() YIELD name RETURN name",
    "WITH 1 AS AS LOAD FROM '/etc/passwd' RETURN *",
    "MATCH (t:Tool) WITH t AS as COPY (RETURN 1) TO 'victim.csv'",
    "WITH 1 AS x, 2 AS AS CHECKPOINT",
    "UNWIND [1] AS as LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
]
GLUED_NUMBERS = [  # a number glued to a keyword hid the keyword inside the "number"
    "MATCH (t:Tool) RETURN t.name AS n LIMIT 1LOAD FROM '/etc/passwd' RETURN *",
    "RETURN 1 AS x LIMIT 1LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
    "RETURN 1 AS x SKIP 0x1FLOAD FROM '/etc/passwd' RETURN *",
    "RETURN 1 AS x LIMIT 1e3COPY (RETURN 1) TO 'victim.csv'",
    "RETURN 1 AS x LIMIT 0o7CALL dbms.listConfig() YIELD name RETURN name",
    "RETURN 1.5CHECKPOINT",
    "RETURN 1 AS x LIMIT $1LOAD FROM '/etc/passwd' RETURN *",  # Ladybug reads `$1` then `LOAD`
    "WITH 1 AS x LIMIT 1.CHECKPOINT RETURN x",  # Ladybug runs it (a property of a number)
    "RETURN $ x AS y",  # Neo4j allows a space after `$`: a parameter the guard would not see as one
]
SMUGGLED_BY_ESCAPES = [  # Neo4j decodes \u escapes before it reads the text: \u0027 ends the string, \u0060 the name
    "WITH 'x\\u0027 AS a LOAD CSV FROM \\u0027file:///etc/passwd\\u0027 AS r RETURN r //' AS y RETURN y",
    "WITH 'x\\u0027 AS a CALL dbms.listConfig() YIELD name RETURN name //' AS y RETURN y",
    "WITH 1 AS `a\\u0060 LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r //` RETURN 1",
]
COPY_ANYWHERE = [  # `COPY` must stay forbidden wherever it stands (a breakage that dropped it went unseen)
    "COPY (MATCH (t:Tool) RETURN t.name) TO 'victim.csv'",
    "copy (RETURN 1) TO 'victim.csv'",
    "RETURN 1 AS x; COPY Tool FROM 'tools.csv'",
    "MATCH (t:Tool) RETURN t.name AS n COPY (RETURN 1) TO 'victim.csv'",
    "CALL { COPY (RETURN 1) TO 'victim.csv' } RETURN 1 AS x",
    "WITH 1 AS AS COPY (RETURN 1) TO 'victim.csv'",
]
LEGIT = [  # read queries, some with keyword words as names, that the guard must let through
    "RETURN x AS set",
    "MATCH (t:Tool) WHERE t.name = 'x' RETURN t.name AS load, {set: 1, copy: 2} AS copy, t.create AS c",
    "MATCH (a:Tool)-[f:FEEDS*1..2]->(b:Tool) WHERE NOT (a)-->(b) AND a.x IS NOT NULL RETURN DISTINCT b.name AS n "
    "ORDER BY n DESC SKIP 1 LIMIT 5",
    "RETURN CASE WHEN 1 > 0 THEN 'a' ELSE 'b' END AS c, [x IN range(1, 3) WHERE x > 1 | x * 2] AS l",
    "MATCH (n:Tool) WHERE n.name STARTS WITH 'a' OR n.name ENDS WITH 'b' RETURN n {.name, .id} AS m",
    "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WHERE m.x = 1 } RETURN COUNT { (n)-->() } AS c",
    "UNWIND [1, 2.5, 0x1F, 1e3, 0o7, 1_000] AS x RETURN x UNION ALL RETURN 2 AS x",
    "CALL { MATCH (t:Tool) RETURN count(t) AS n } RETURN n; RETURN 1 AS y;",
    "WITH * MATCH (n) RETURN count(*) AS c",
    "CALL db.labels() YIELD label AS l WHERE l <> 'x' RETURN l",
    "SHOW INDEXES YIELD name WHERE name = $n RETURN name",
    "RETURN [1, 2, 3][0..2] AS s, 'LOAD FROM x' AS t // COPY",
]


@pytest.mark.parametrize("cypher", ALIAS_LIKE_A_KEYWORD + GLUED_NUMBERS + SMUGGLED_BY_ESCAPES)
@pytest.mark.parametrize("dialect", ["neo4j", "ladybug", None])
def test_issue_cases_are_refused_by_the_guard(cypher, dialect):
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        check_read_only(cypher, dialect)


@pytest.mark.parametrize("cypher", COPY_ANYWHERE)
def test_copy_is_refused_and_named_wherever_it_stands(cypher):
    with pytest.raises(ReadOnlyViolation, match="contains the clause 'COPY'"):
        check_read_only(cypher, "ladybug")


@pytest.mark.parametrize("cypher", LEGIT)
def test_read_queries_pass(cypher):
    check_read_only(cypher)


def test_numbers_are_read_by_the_cypher_rules():
    toks = tokenize("RETURN 0x1F, 0o17, 1.5e-3, 12e3, 1_000, [1..3], .5")
    assert [t.text for t in toks if t.kind == "number"] == ["0x1F", "0o17", "1.5e-3", "12e3", "1_000", "1", "3", "5"]
    assert [t.text for t in toks if t.kind == "punct"].count("..") == 1


@pytest.mark.parametrize("text", ["RETURN \\u0041 AS x", "RETURN 1 AS x \u200bLOAD", "RETURN $ AS x", "RETURN 1 # x",
                                  "RETURN 1 AS x\u200cCHECKPOINT", "RETURN 1 AS x\u00b7CHECKPOINT"])
def test_what_the_tokenizer_cannot_read_is_refused(text):
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        check_read_only(text)


def test_unplaceable_words_are_refused():
    """Fail closed: a word after a complete operand must be an operator or a read clause."""
    for text in ("RETURN 1 AS x FOO", "MATCH (n) RETURN n LIMIT 1 foo RETURN 1", "WITH * LOAD CSV FROM 'x' AS r",
                 "MATCH (t) CALL { WITH t SET t.x = 1 } IN TRANSACTIONS", "RETURN 1 AS x )", "RETURN (1 AS x"):
        with pytest.raises(ReadOnlyViolation, match="read-only"):
            check_read_only(text)


def test_write_words_shaped_like_clauses_inside_expressions_are_refused():
    """A store with one more subquery keyword than the guard knows would run these; the guard refuses them."""
    for text in ("RETURN foo { CREATE (n) } AS x", "RETURN FOREACH (x IN [1] | CREATE (n)) AS x",
                 "RETURN 1 AS x, set(1) AS y", "MATCH (n) WHERE load CSV RETURN n"):
        with pytest.raises(ReadOnlyViolation, match="contains the clause"):
            check_read_only(text)
    check_read_only("MATCH (t:Tool) RETURN t.set AS s, t.create(1) AS c, {set: 1} AS copy")


# ---- size and nesting limits, before anything reaches a store ------------------------------------------

def test_limits_are_refused_in_one_line():
    with pytest.raises(QueryTooLarge, match=f"over the limit of {MAX_QUERY_CHARS:,}"):
        check_read_only("RETURN 1 AS x" + " " * MAX_QUERY_CHARS)
    with pytest.raises(QueryTooLarge, match=f"deeper than {MAX_NESTING}"):
        check_read_only("RETURN " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1))
    check_read_only("RETURN " + "[" * MAX_NESTING + "1" + "]" * MAX_NESTING + " AS x")


@pytest.fixture(scope="module", params=["ladybug", "neo4j"])
def built_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    spec = (str(tmp_path_factory.mktemp("guard") / "graph") if request.param == "ladybug"
            else request.getfixturevalue("neo4j_uri"))
    with open_store(spec) as store:
        store.write_graph(hashing_graph(example_tools()))
    with open_store(spec, read_only=True) as store:
        return spec, _snapshot(store)


def _snapshot(store) -> tuple[Any, ...]:
    return store.counts(), store.run("tool_catalog")


NESTED = {
    "10,000 balanced": "RETURN " + "(" * 10_000 + "1" + ")" * 10_000 + " AS x",
    "10,000 open": "RETURN " + "(" * 10_000 + "1",
    "100 balanced": "RETURN " + "(" * 100 + "1" + ")" * 100 + " AS x",
}


@pytest.mark.parametrize("case", list(NESTED))
def test_deep_nesting_is_refused_before_the_store(built_store, case, tmp_path):
    """The embedded store crashed (SIGSEGV) on 10,000 nested parentheses; Neo4j ran a 100 KB one for minutes."""
    spec, before = built_store
    proc = subprocess.run([str(TOOLFLOW), "graph", "query", NESTED[case], "--store", spec],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-500:])
    assert "refuses the query" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    with open_store(spec, read_only=True) as store:
        assert _snapshot(store) == before


# ---- the issue's cases through both stores and the CLI --------------------------------------------------

def test_issue_cases_are_refused_by_both_stores_and_the_cli(built_store, tmp_path, monkeypatch):
    spec, before = built_store
    monkeypatch.chdir(tmp_path)  # COPY … TO / EXPORT would write here
    runner = CliRunner()
    for cypher in ALIAS_LIKE_A_KEYWORD + GLUED_NUMBERS + SMUGGLED_BY_ESCAPES + COPY_ANYWHERE:
        with open_store(spec, read_only=True) as store, pytest.raises(ReadOnlyViolation, match="read-only"):
            store.query(cypher)
        res = runner.invoke(main, ["graph", "query", cypher, "--store", spec])
        assert res.exit_code == 1 and "read-only" in res.output, (cypher, res.output)
        assert "root:" not in res.output and "Traceback" not in res.output, res.output  # no /etc/passwd line
    assert list(tmp_path.iterdir()) == []
    with open_store(spec, read_only=True) as store:
        assert _snapshot(store) == before


def test_keyword_names_still_run_on_both_stores(built_store):
    spec, _ = built_store
    with open_store(spec, read_only=True) as store:
        assert store.query("WITH 1 AS x RETURN x AS set", timeout=5) == [{"set": 1}]
        rows = store.query("MATCH (t:Tool) WHERE t.name STARTS WITH 'book_f' RETURN t.name AS load LIMIT 1")
        assert rows == [{"load": "book_flight"}]


# ---- the query timeout: server-side on Neo4j, the connection's on Ladybug; no retry ---------------------

SLOW = ("UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b UNWIND range(1, 3000) AS c "
        "WITH a + b + c AS s WHERE s = 1 RETURN count(*) AS n")  # 2.7e10 rows: hours without a timeout


def test_a_slow_query_stops_at_the_timeout(built_store):
    spec, before = built_store
    with open_store(spec, read_only=True) as store:
        with pytest.raises(QueryTimeout, match="longer than 1 s"):
            store.query(SLOW, timeout=1)
        assert _snapshot(store) == before  # the store's own reads run on, without the user's timeout
        assert store.query("RETURN 1 AS x", timeout=1) == [{"x": 1}]


def test_graph_query_timeout_is_one_line_naming_the_option(built_store):
    spec, _ = built_store
    res = CliRunner().invoke(main, ["graph", "query", SLOW, "--store", spec, "--timeout", "1"])
    assert res.exit_code == 1, res.output
    assert "--timeout" in res.output and "longer than 1 s" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    ok = CliRunner().invoke(main, ["graph", "query", "RETURN 1 AS x", "--store", spec, "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout) == [{"x": 1}], ok.output


@pytest.mark.neo4j
def test_neo4j_user_queries_are_not_retried_by_the_driver(neo4j_uri, monkeypatch):
    """`execute_read` retries on transient errors, so a slow query ran again; a user's query runs once."""
    def no_retrying_reads(*args, **kwargs):
        raise AssertionError("a user's query went through execute_read (retried by the driver)")

    with open_store(neo4j_uri, read_only=True) as store:
        monkeypatch.setattr(neo4j.Session, "execute_read", no_retrying_reads)
        assert store.query("RETURN 1 AS x") == [{"x": 1}]
        assert store.query("RETURN 2 AS x", timeout=2) == [{"x": 2}]


def test_a_store_error_is_one_line(built_store):
    """A query the guard accepts and the store rejects: Neo4j's message spans lines (the query, a caret)."""
    spec, _ = built_store
    res = CliRunner().invoke(main, ["graph", "query", "MATCH (t:Tool) RETURN t.name AS n LIMIT 'x'", "--store", spec])
    assert res.exit_code == 1 and "query failed" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
