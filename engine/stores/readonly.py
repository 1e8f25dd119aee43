"""Is a user's Cypher text read-only? Size limits, a tokenizer (cypher_tokens.py) and a clause parser.

``toolflow graph query`` runs text typed by a user. The stores' own guards do not suffice: Neo4j's
read-access transactions still run ``CALL dbms.listConfig``, ``LOAD CSV`` (reads host files) and
``TERMINATE TRANSACTIONS``, and Ladybug's read-only mode still runs ``CHECKPOINT`` (which then breaks every
later read until a rebuild), ``COPY … TO`` (writes a file), ``EXPORT DATABASE`` and ``LOAD FROM`` (reads any
file). A guard that looks for bad words in "keyword positions" lost its place on ``WITH 1 AS AS LOAD CSV …``
(an alias spelled like a keyword) and on ``LIMIT 1LOAD FROM …`` (a number glued to a keyword).

So the guard parses, and refuses whatever it cannot place (fail closed):

1. Size first: at most MAX_QUERY_CHARS characters and MAX_NESTING levels of ``( [ {`` (deep nesting crashes
   the embedded store and takes minutes on Neo4j), before any store sees the text.
2. Tokens by Cypher's lexical rules (cypher_tokens.py).
3. Each statement is a sequence of read clauses, recognized by position: MATCH, OPTIONAL MATCH, WHERE, WITH,
   UNWIND, RETURN, ORDER BY, SKIP/OFFSET, LIMIT, UNION [ALL|DISTINCT], CALL of an allowlisted procedure
   (then YIELD), CALL { subquery }, and SHOW INDEXES/CONSTRAINTS. Between clause keywords, expression tokens
   are scanned with brackets balanced and an operand/operator state: a word where an operand is expected is
   a name (``RETURN x AS set`` passes), a word after a complete operand must be an operator word (AND, IN,
   AS, STARTS WITH, …) or the next read clause, and anything else is refused. Subqueries (``EXISTS {}``,
   ``COUNT {}``, ``COLLECT {}``, ``CALL {}``) are parsed with the same rules.
Pure functions: no store, no I/O.
"""

from __future__ import annotations

from toolflow.engine.stores.cypher_tokens import ReadOnlyViolation, Token, refuse, tokenize

#: Longest query text `graph query` accepts, in characters.
MAX_QUERY_CHARS = 20_000
#: Deepest nesting of ( [ { `graph query` accepts.
MAX_NESTING = 64

#: Words that open a write, admin or file clause in Neo4j or Ladybug. No grammar position admits them as a
#: clause (the parser allows read clauses only); the list names them in the error message.
WRITE_WORDS = frozenset({
    "CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "DROP", "FOREACH", "INSERT", "UPDATE",
    "COPY", "LOAD", "IMPORT", "EXPORT", "INSTALL", "UNINSTALL", "ATTACH", "USE", "CHECKPOINT",
    "ALTER", "RENAME", "COMMENT", "MACRO", "GRANT", "DENY", "REVOKE", "START", "STOP", "ENABLE",
    "TERMINATE", "TRANSACTION", "TRANSACTIONS", "BEGIN", "COMMIT", "ROLLBACK",
})

#: Procedures `CALL` may name: schema and label listings only (lower-cased, dotted).
READ_PROCEDURES: dict[str, frozenset[str]] = {
    "neo4j": frozenset({
        "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
        "db.schema.nodetypeproperties", "db.schema.reltypeproperties",
    }),
    "ladybug": frozenset({"show_tables", "table_info", "show_connection", "show_indexes"}),
}

#: Clause keywords of a read query; each is followed by an expression body (CALL and OPTIONAL are special).
READ_CLAUSES = frozenset({"MATCH", "OPTIONAL", "WHERE", "WITH", "UNWIND", "RETURN", "ORDER", "SKIP", "OFFSET",
                          "LIMIT", "CALL"})
#: Clauses after SHOW INDEXES / SHOW CONSTRAINTS.
_SHOW_CLAUSES = frozenset({"YIELD", "WHERE", "RETURN", "ORDER", "SKIP", "OFFSET", "LIMIT"})
#: Words that end an expression body at the top of a clause: the next clause.
_CLAUSE_WORDS = READ_CLAUSES | {"UNION", "YIELD"}
#: Words that may stand between two operands.
_INFIX_WORDS = frozenset({"AND", "OR", "XOR", "IN", "IS", "CONTAINS", "AS", "WHEN", "THEN", "ELSE"})
#: Words that may follow a complete operand and leave it complete.
_POSTFIX_WORDS = frozenset({"END", "ASC", "DESC", "ASCENDING", "DESCENDING"})
#: Words that may stand before an operand.
_PREFIX_WORDS = frozenset({"NOT", "CASE", "WHEN", "DISTINCT"})
#: Words that open a subquery when a brace follows.
_SUBQUERY_WORDS = frozenset({"EXISTS", "COUNT", "COLLECT"})
#: Words a SHOW statement may hold before its clauses: index and constraint listings only.
_SHOW_WORDS = frozenset({
    "ALL", "RANGE", "TEXT", "POINT", "LOOKUP", "FULLTEXT", "VECTOR", "NODE", "RELATIONSHIP", "REL",
    "UNIQUE", "UNIQUENESS", "KEY", "EXIST", "EXISTENCE", "PROPERTY", "TYPE", "INDEX", "INDEXES",
    "CONSTRAINT", "CONSTRAINTS",
})
_CLOSER = {"(": ")", "[": "]", "{": "}"}
_OPERAND, _OPERATOR, _EITHER = "operand", "operator", "either"


class QueryTooLarge(ReadOnlyViolation):
    """The query is longer or nested deeper than `graph query` accepts."""


def check_limits(cypher: str, tokens: list[Token] | None = None) -> None:
    """Refuse text over MAX_QUERY_CHARS, or (given its tokens) nested deeper than MAX_NESTING."""
    if len(cypher) > MAX_QUERY_CHARS:
        raise QueryTooLarge(f"`graph query` refuses the query: it is {len(cypher):,} characters long, "
                            f"over the limit of {MAX_QUERY_CHARS:,}")
    depth = 0
    for t in tokens or ():
        if t.kind == "punct" and t.text in _CLOSER:
            depth += 1
            if depth > MAX_NESTING:
                raise QueryTooLarge(f"`graph query` refuses the query: brackets nest deeper than {MAX_NESTING} "
                                    f"levels at character {t.pos}")
        elif t.kind == "punct" and t.text in (")", "]", "}"):
            depth -= 1


class _Parser:
    """A recursive-descent reader of read-only Cypher: each method consumes what it recognizes or refuses."""

    def __init__(self, tokens: list[Token], procedures: frozenset[str]) -> None:
        self.tokens = tokens
        self.i = 0
        self.procedures = procedures

    # --- looking at tokens ---------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, k: int = 0) -> str | None:
        t = self.peek(k)
        return t.text.upper() if t is not None and t.kind == "word" else None

    def punct(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "punct" and t.text == text

    def expect_word(self, word: str) -> None:
        if self.word() != word:
            raise self.misplaced(f"{word} was expected")
        self.i += 1

    def misplaced(self, why: str = "") -> ReadOnlyViolation:
        t = self.peek()
        if t is None:
            return refuse(f"the query ends early{'; ' + why if why else ''}")
        if t.kind == "word" and t.text.upper() in WRITE_WORDS:
            return refuse(f"the query contains the clause {t.text.upper()!r} (character {t.pos})")
        shown = f"`{t.text}`" if t.kind == "name" else t.text
        return refuse(f"{shown!r} at character {t.pos} is not part of a read clause{'; ' + why if why else ''}")

    # --- statements and clauses ----------------------------------------------------------------------
    def script(self) -> None:
        statements = 0
        while self.peek() is not None:
            if self.punct(";"):
                self.i += 1
                continue
            self.statement()
            statements += 1
            if self.peek() is not None and not self.punct(";"):
                raise self.misplaced()
        if not statements:
            raise refuse("the query is empty")

    def statement(self) -> None:
        while self.word() in ("EXPLAIN", "PROFILE"):
            self.i += 1
        if self.word() == "SHOW":
            self.show()
        else:
            self.query()

    def query(self) -> None:
        self.clauses(READ_CLAUSES)
        while self.word() == "UNION":
            self.i += 1
            if self.word() in ("ALL", "DISTINCT"):
                self.i += 1
            self.clauses(READ_CLAUSES)

    def clauses(self, allowed: frozenset[str]) -> None:
        """One or more clauses of `allowed`, up to the end of the statement, a UNION, or a closing brace."""
        count = 0
        while True:
            word = self.word()
            if word not in allowed:
                if count and (self.peek() is None or self.punct(";") or self.punct("}") or word == "UNION"):
                    return
                raise self.misplaced(f"a read clause ({', '.join(sorted(allowed))}) was expected")
            count += 1
            self.i += 1
            if word == "CALL":
                self.call()
                continue
            if word == "OPTIONAL":
                self.expect_word("MATCH")
            elif word == "ORDER":
                self.expect_word("BY")
            self.expression(top=True)

    def call(self) -> None:
        """After CALL: an allowlisted procedure (optional arguments, optional YIELD) or a subquery."""
        if self.punct("("):  # CALL (x) { … }: a scoped subquery
            self.group()
            if not self.punct("{"):
                raise self.misplaced("a subquery `{` was expected")
        if self.punct("{"):
            self.subquery()
            return
        name = self.procedure_name()
        if name not in self.procedures:
            allowed = ", ".join(sorted(self.procedures))
            raise refuse(f"the procedure {name or '(none)'!r} is not allowed; allowed: {allowed}")
        if self.punct("("):
            self.group()
        if self.word() == "YIELD":
            self.i += 1
            self.expression(top=True)

    def procedure_name(self) -> str:
        """The dotted procedure name at the cursor (words or backticked parts), lower-cased."""
        parts: list[str] = []
        while (t := self.peek()) is not None and t.kind in ("word", "name"):
            parts.append(t.text)
            self.i += 1
            if not (self.punct(".") and self.peek(1) is not None and self.peek(1).kind in ("word", "name")):
                break
            self.i += 1
        return ".".join(parts).lower()

    def show(self) -> None:
        self.i += 1
        listed = False
        while (word := self.word()) in _SHOW_WORDS:
            listed = listed or word.startswith(("INDEX", "CONSTRAINT"))
            self.i += 1
        if not listed:
            raise refuse("only SHOW INDEXES and SHOW CONSTRAINTS are allowed")
        if self.peek() is not None and not self.punct(";"):
            self.clauses(_SHOW_CLAUSES)

    # --- expressions ---------------------------------------------------------------------------------
    def expression(self, top: bool) -> None:
        """Expression tokens up to a closing bracket, `;`, the end, or (when `top`) the next clause keyword.

        The state says what may come next: after an operator an operand, after an operand an operator, after
        a `*` where an operand was expected (``RETURN *``, ``[*1..3]``, ``count(*)``) either.
        """
        state = _OPERAND
        while (t := self.peek()) is not None:
            if t.kind == "punct":
                if t.text in (")", "]", "}", ";"):
                    return
                if t.text in _CLOSER:
                    self.group()
                    state = _OPERATOR
                    continue
                state = _EITHER if t.text == "*" and state == _OPERAND else _OPERAND
                self.i += 1
            elif t.kind != "word":
                if state == _OPERATOR:
                    raise self.misplaced()
                state = _OPERATOR
                self.i += 1
            elif state == _OPERAND:
                state = self.operand_word(t.text.upper())
            elif top and t.text.upper() in _CLAUSE_WORDS:
                return
            else:
                state = self.operator_word(t.text.upper())

    def operand_word(self, word: str) -> str:
        """A word where an operand is expected: a name, a prefix keyword, or a subquery; the state after it.

        A write word standing as a name must look like one: not called or followed by a word or a brace
        (``set(…)``, ``create {…}``), unless it follows `.`, `:` or AS (``t.set``, ``:Set``, ``AS copy``).
        """
        before, after = self.peek(-1) if self.i else None, self.peek(1)
        if word in WRITE_WORDS and after is not None and (
                after.kind == "word" or (after.kind == "punct" and after.text in _CLOSER)):
            named = before is not None and (
                (before.kind == "punct" and before.text in (".", ":", "::"))
                or (before.kind == "word" and before.text.upper() == "AS"))
            if not named:
                raise self.misplaced()
        self.i += 1
        if word in _SUBQUERY_WORDS and self.punct("{"):
            self.subquery()
            return _OPERATOR
        return _OPERAND if word in _PREFIX_WORDS else _OPERATOR

    def operator_word(self, word: str) -> str:
        """A word after a complete operand must be an operator word; the state after it."""
        if word in ("STARTS", "ENDS"):
            self.i += 1
            self.expect_word("WITH")
            return _OPERAND
        if word in _INFIX_WORDS or word == "WHERE":  # WHERE inside brackets: comprehensions, node patterns
            self.i += 1
            return _OPERAND
        if word in _POSTFIX_WORDS:
            self.i += 1
            return _OPERATOR
        raise self.misplaced()

    def group(self) -> None:
        """A bracketed expression: ( … ), [ … ] or { … } (a map, a property filter, a quantifier)."""
        opener = self.peek()
        assert opener is not None
        self.i += 1
        self.expression(top=False)
        if not self.punct(_CLOSER[opener.text]):
            raise self.misplaced(f"the {opener.text!r} at character {opener.pos} is not closed here")
        self.i += 1

    def subquery(self) -> None:
        """``{ … }`` after CALL, EXISTS, COUNT or COLLECT: a query, or a bare pattern with an optional WHERE."""
        opener = self.peek()
        assert opener is not None
        self.i += 1
        if self.punct("("):
            self.expression(top=False)
        else:
            self.query()
        if not self.punct("}"):
            raise self.misplaced(f"the '{{' at character {opener.pos} is not closed here")
        self.i += 1


def check_read_only(cypher: str, dialect: str | None = None) -> None:
    """Raise ReadOnlyViolation unless every statement of `cypher` is made of read clauses only.

    `dialect` ("neo4j" / "ladybug") picks the procedure allowlist; None allows the union. QueryTooLarge
    (a ReadOnlyViolation) when the text is over the size or nesting limit.
    """
    check_limits(cypher)
    tokens = tokenize(cypher)
    check_limits(cypher, tokens)
    allowed = READ_PROCEDURES.get(dialect or "", frozenset().union(*READ_PROCEDURES.values()))
    _Parser(tokens, allowed).script()


__all__ = ["MAX_NESTING", "MAX_QUERY_CHARS", "QueryTooLarge", "ReadOnlyViolation", "Token", "check_read_only",
           "tokenize"]
