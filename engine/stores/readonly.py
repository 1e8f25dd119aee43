"""Is a user's Cypher text read-only? A tokenizer and allowlists, no regex over raw text.

``toolflow graph query`` runs text typed by a user. The stores' own guards do not suffice: Neo4j's
read-access transactions still run ``CALL dbms.listConfig``, ``db.clearQueryCaches`` and ``TERMINATE
TRANSACTIONS``, and Ladybug's read-only mode still runs ``CHECKPOINT`` (which then breaks every later read
until a rebuild), ``COPY … TO`` (writes a file), ``EXPORT DATABASE`` and ``LOAD FROM`` (reads any file).
The regex this replaces was fooled by an apostrophe inside a ``//`` comment, which hid the rest of the query.

So the text is first split into tokens the way a Cypher parser does: strings with backslash escapes,
backticked names (```` `` ```` escapes a backtick), ``//`` and ``/* */`` comments, parameters, words and
punctuation. Wherever a parser could read the text two ways (line ends, nested comments), the tokenizer
takes the reading that leaves more text as code, so an ambiguity can only refuse a query, never let one
through; unterminated strings, names and comments are refused outright. Then every statement must start
with a read clause, no word in a keyword position may name a write or admin clause, and ``CALL`` may only
name a procedure from a small allowlist of schema and label listings. A keyword word used as a name
(``t.set``, ``AS set``, ``:Set``, ``{set: 1}``) is a name, so ``RETURN x AS set`` passes.
Pure functions: no store, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["word", "name", "string", "number", "param", "punct"]

# `//` comments end at the first of these: ending early leaves more text as code (safe side).
_LINE_ENDS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
_PUNCT2 = ("<>", "<=", ">=", "=~", "+=", "->", "<-", "..", "::", "||")


class ReadOnlyViolation(ValueError):
    """The query is not provably read-only; the message names what was refused."""


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # words: as written; names: unescaped backticked text; strings: the raw literal
    pos: int


def _fail(what: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(
        f"`graph query` is read-only: {what}. Use `toolflow graph build` to change the graph."
    )


def tokenize(text: str) -> list[Token]:
    """Tokens of `text` with comments and whitespace dropped; raises ReadOnlyViolation when unterminated."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] not in _LINE_ENDS:
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)  # not nested: a nested reading would hide more text
            if end < 0:
                raise _fail(f"the comment opened at character {i} is not closed")
            i = end + 2
        elif c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _fail(f"the string opened at character {i} is not closed")
            out.append(Token("string", text[i : j + 1], i))
            i = j + 1
        elif c == "`":
            j, name = i + 1, []
            while True:
                k = text.find("`", j)
                if k < 0:
                    raise _fail(f"the backticked name opened at character {i} is not closed")
                name.append(text[j:k])
                if text.startswith("``", k):  # a doubled backtick is one backtick in the name
                    name.append("`")
                    j = k + 2
                    continue
                break
            out.append(Token("name", "".join(name), i))
            i = k + 1
        elif c == "$":
            j = i + 1
            if j < n and text[j] == "`":
                k = text.find("`", j + 1)
                if k < 0:
                    raise _fail(f"the parameter name at character {i} is not closed")
                j = k + 1
            else:
                while j < n and (text[j].isalnum() or text[j] == "_"):
                    j += 1
            out.append(Token("param", text[i:j], i))
            i = j
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            out.append(Token("word", text[i:j], i))
            i = j
        elif c.isdigit():
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_" or (text[j] == "." and j + 1 < n and text[j + 1].isdigit())):
                j += 1
            out.append(Token("number", text[i:j], i))
            i = j
        else:
            two = text[i : i + 2]
            size = 2 if two in _PUNCT2 else 1
            out.append(Token("punct", text[i : i + size], i))
            i += size
    return out


#: Clauses a statement may start with (after an optional EXPLAIN / PROFILE).
READ_STARTERS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL", "SHOW"})

#: Words that open a write, admin or file clause in Neo4j or Ladybug. In a keyword position any of these
#: refuses the query; the same word as a property, alias, label, type, map key or parameter is a name.
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

#: Words a `SHOW` statement may hold before YIELD / WHERE / RETURN: index and constraint listings only.
_SHOW_WORDS = frozenset({
    "ALL", "RANGE", "TEXT", "POINT", "LOOKUP", "FULLTEXT", "VECTOR", "NODE", "RELATIONSHIP", "REL",
    "UNIQUE", "UNIQUENESS", "KEY", "EXIST", "EXISTENCE", "PROPERTY", "TYPE", "INDEX", "INDEXES",
    "CONSTRAINT", "CONSTRAINTS",
})


def _is_name_position(tokens: list[Token], i: int) -> bool:
    """A word right after `.`, `:`, `::` or AS, or right before `:`, is a name, never a clause keyword.

    Cypher's grammar allows only a name there (property, label, type, alias, map key, variable with label),
    so no clause can hide behind these positions.
    """
    prev = tokens[i - 1] if i else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if prev is not None and prev.kind == "punct" and prev.text in (".", ":", "::"):
        return True
    if prev is not None and prev.kind == "word" and prev.text.upper() == "AS":
        return True
    return nxt is not None and nxt.kind == "punct" and nxt.text == ":"


def _statements(tokens: list[Token]) -> list[list[Token]]:
    stmts: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind == "punct" and t.text == ";":
            stmts.append([])
        else:
            stmts[-1].append(t)
    return [s for s in stmts if s]


def _procedure_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """The dotted procedure name starting at tokens[i] (words or backticked parts), and the index after it."""
    parts: list[str] = []
    while i < len(tokens) and tokens[i].kind in ("word", "name"):
        parts.append(tokens[i].text)
        if i + 1 < len(tokens) and tokens[i + 1].kind == "punct" and tokens[i + 1].text == ".":
            i += 2
            continue
        i += 1
        break
    return ".".join(parts).lower(), i


def _check_show(stmt: list[Token]) -> None:
    listed = False
    for t in stmt[1:]:
        word = t.text.upper() if t.kind == "word" else None
        if word in ("YIELD", "WHERE", "RETURN"):
            break
        if word is None or word not in _SHOW_WORDS:
            raise _fail(f"only SHOW INDEXES and SHOW CONSTRAINTS are allowed, not SHOW … {t.text}")
        listed = listed or word.startswith(("INDEX", "CONSTRAINT"))
    if not listed:
        raise _fail("only SHOW INDEXES and SHOW CONSTRAINTS are allowed")


def check_read_only(cypher: str, dialect: str | None = None) -> None:
    """Raise ReadOnlyViolation unless every statement of `cypher` is made of read clauses only.

    `dialect` ("neo4j" / "ladybug") picks the procedure allowlist; None allows the union.
    """
    tokens = tokenize(cypher)
    stmts = _statements(tokens)
    if not stmts:
        raise _fail("the query is empty")
    allowed = READ_PROCEDURES.get(dialect or "", frozenset().union(*READ_PROCEDURES.values()))
    for stmt in stmts:
        start = 0
        while start < len(stmt) and stmt[start].kind == "word" and stmt[start].text.upper() in ("EXPLAIN", "PROFILE"):
            start += 1
        first = stmt[start] if start < len(stmt) else None
        if first is None or first.kind != "word" or first.text.upper() not in READ_STARTERS:
            shown = first.text if first is not None else "nothing"
            raise _fail(f"a statement starts with {shown!r}; it must start with one of {sorted(READ_STARTERS)}")
        if first.text.upper() == "SHOW":
            _check_show(stmt[start:])
            continue
        for i in range(start, len(stmt)):
            t = stmt[i]
            if t.kind != "word" or _is_name_position(stmt, i):
                continue
            word = t.text.upper()
            if word in WRITE_WORDS or (word == "SHOW" and i > start):
                raise _fail(f"the query contains the clause {word!r}")
            if word == "CALL":
                nxt = stmt[i + 1] if i + 1 < len(stmt) else None
                if nxt is not None and nxt.kind == "punct" and nxt.text in ("{", "("):
                    continue  # a subquery: its clauses are checked like the rest of the statement
                name, _ = _procedure_name(stmt, i + 1)
                if name not in allowed:
                    raise _fail(
                        f"the procedure {name or '(none)'!r} is not allowed; allowed: {', '.join(sorted(allowed))}"
                    )
