"""Cypher text as tokens, by the language's lexical rules, for the read-only guard (readonly.py).

The guard is only as good as its reading of the text: wherever it reads a token differently from the store,
a clause can hide. So the tokenizer follows Cypher's lexical rules (openCypher, Neo4j 5, Ladybug):
strings with backslash escapes, backticked names (```` `` ```` is one backtick), ``//`` and ``/* */``
comments, parameters, identifiers, numbers (decimal, hex ``0x``, octal ``0o``, floats, exponents) and
punctuation. Where the stores' rules differ or are unclear, the text is refused rather than guessed:

- a number or numbered parameter must end at a word boundary (``1LOAD``, ``$1LOAD`` and ``1.LOAD`` are
  refused: a store reads ``1`` or ``$1``, then ``LOAD``);
- a unicode escape (``\\u0027``) anywhere, strings included, is refused: Neo4j decodes them before it reads
  the query (as Java source does), so ``'x\\u0027 LOAD CSV …'`` is one string to a tokenizer and a closed
  string plus a clause to Neo4j, while Ladybug decodes them inside strings only;
- a backslash outside a string and any character that is no Cypher punctuation, whitespace or identifier
  character are refused;
- ``//`` comments end at the first of any line end a store might use, and ``/* */`` comments do not nest,
  so an ambiguity leaves more text as code, where the guard sees it;
- unterminated strings, names and comments are refused.

Pure functions: no store, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from toolflow.engine.errors import InputError

TokenKind = Literal["word", "name", "string", "number", "param", "punct"]

_LINE_ENDS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")
_PUNCT2 = frozenset({"<>", "<=", ">=", "=~", "+=", "->", "<-", "..", "::", "||", "!="})
_PUNCT1 = frozenset("()[]{},.:;=<>+-*/%^|!&?")
_DIGITS = frozenset("0123456789")
_HEX = _DIGITS | frozenset("abcdefABCDEF")
_OCTAL = frozenset("01234567")
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
# Non-ASCII identifier characters: letters, marks, decimal digits, connectors (no symbols, no format characters
# such as a zero-width joiner, which a store might read as a word break).
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Nd", "Pc"})


class ReadOnlyViolation(ValueError, InputError):
    """The query is not provably read-only; the message names what was refused."""


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # words: as written; names: unescaped backticked text; strings: the raw literal
    pos: int


def refuse(what: str) -> ReadOnlyViolation:
    """The one-line error for a refused query (raised by the caller)."""
    return ReadOnlyViolation(
        f"`graph query` is read-only: {what}. Use `toolflow graph build` to change the graph."
    )


def is_word_start(c: str) -> bool:
    return c in _ASCII_WORD or (not c.isascii() and c.isidentifier() and unicodedata.category(c) in _WORD_CATEGORIES)


def is_word_part(c: str) -> bool:
    if c in _ASCII_WORD or c in _DIGITS:
        return True
    return not c.isascii() and f"a{c}".isidentifier() and unicodedata.category(c) in _WORD_CATEGORIES


def _run(text: str, j: int, chars: frozenset[str]) -> int:
    """End of the run of `chars` (and `_` separators) starting at j."""
    while j < len(text) and (text[j] in chars or text[j] == "_"):
        j += 1
    return j


def _number_end(text: str, i: int) -> int:
    """End of the number literal at i; a number running into a word is refused (``1LOAD``, ``0x1FG``)."""
    n = len(text)
    if text.startswith(("0x", "0X"), i):
        j = _run(text, i + 2, _HEX)
    elif text.startswith(("0o", "0O"), i):
        j = _run(text, i + 2, _OCTAL)
    else:
        j = _run(text, i, _DIGITS)
        if text.startswith(".", j) and j + 1 < n and text[j + 1] in _DIGITS:
            j = _run(text, j + 1, _DIGITS)
        if j < n and text[j] in "eE":
            k = j + 2 if j + 1 < n and text[j + 1] in "+-" else j + 1
            if k < n and text[k] in _DIGITS:
                j = _run(text, k, _DIGITS)
    if j < n and (is_word_part(text[j]) or text[j].isalnum()):
        raise refuse(f"the number at character {i} runs into a word ({text[i : j + 1]!r}); put a space after it")
    if text.startswith(".", j) and j + 1 < n and is_word_start(text[j + 1]):  # Ladybug runs `1.CHECKPOINT`
        raise refuse(f"the number at character {i} runs into a word ({text[i : j + 2]!r})")
    return j


def _string_end(text: str, i: int) -> int:
    quote, j, n = text[i], i + 1, len(text)
    while j < n and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    if j >= n:
        raise refuse(f"the string opened at character {i} is not closed")
    return j + 1


def _backticked(text: str, i: int) -> tuple[str, int]:
    """The unescaped name of the backticked identifier at i, and the index after it."""
    j, parts = i + 1, []
    while True:
        k = text.find("`", j)
        if k < 0:
            raise refuse(f"the backticked name opened at character {i} is not closed")
        parts.append(text[j:k])
        if not text.startswith("``", k):
            return "".join(parts), k + 1
        parts.append("`")  # a doubled backtick is one backtick in the name
        j = k + 2


def _word_end(text: str, j: int) -> int:
    while j < len(text) and is_word_part(text[j]):
        j += 1
    return j


def _comment_end(text: str, i: int) -> int | None:
    """End of the comment at i, or None when no comment starts there."""
    if text.startswith("//", i):
        while i < len(text) and text[i] not in _LINE_ENDS:
            i += 1
        return i
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)  # not nested: a nested reading would hide more text
        if end < 0:
            raise refuse(f"the comment opened at character {i} is not closed")
        return end + 2
    return None


def _param(text: str, i: int) -> int:
    """End of the parameter at i: ``$name``, ``$`name` `` or ``$0``. Ladybug reads ``$1LOAD`` as ``$1`` then
    ``LOAD``, so a numbered parameter must end at a word boundary like a number."""
    j = i + 1
    if text.startswith("`", j):
        return _backticked(text, j)[1]
    if j < len(text) and text[j] in _DIGITS:
        end = _run(text, j, _DIGITS)
        if end < len(text) and (is_word_part(text[end]) or text[end].isalnum()):
            raise refuse(f"the parameter at character {i} runs into a word ({text[i : end + 1]!r})")
        return end
    if j >= len(text) or not is_word_start(text[j]):
        raise refuse(f"the parameter at character {i} has no name right after the $")
    return _word_end(text, j + 1)


def _punct(text: str, i: int) -> str:
    two = text[i : i + 2]
    if two in _PUNCT2:
        return two
    if text[i] in _PUNCT1:
        return text[i]
    what = "a backslash outside a string" if text[i] == "\\" else f"the character {text[i]!r} (U+{ord(text[i]):04X})"
    raise refuse(f"{what} at character {i} is not Cypher the guard can read")


def tokenize(text: str) -> list[Token]:
    """Tokens of `text` with comments and whitespace dropped; raises ReadOnlyViolation on what it cannot read."""
    escape = min((k for k in (text.find("\\u"), text.find("\\U")) if k >= 0), default=-1)
    if escape >= 0:
        raise refuse(f"a unicode escape at character {escape} (Neo4j decodes it before reading the query, so it can "
                     "end a string); type the character itself")
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif (end := _comment_end(text, i)) is not None:
            i = end
        elif c in "'\"":
            end = _string_end(text, i)
            out.append(Token("string", text[i:end], i))
            i = end
        elif c == "`":
            name, end = _backticked(text, i)
            out.append(Token("name", name, i))
            i = end
        elif c == "$":
            end = _param(text, i)
            out.append(Token("param", text[i:end], i))
            i = end
        elif is_word_start(c):
            end = _word_end(text, i + 1)
            out.append(Token("word", text[i:end], i))
            i = end
        elif c in _DIGITS:
            end = _number_end(text, i)
            out.append(Token("number", text[i:end], i))
            i = end
        else:
            p = _punct(text, i)
            out.append(Token("punct", p, i))
            i += len(p)
    return out
