"""The lexical analyzer shared by both stores' BM25.

Both first stages must see the same tokens, or the two stores would rank differently: Neo4j's full-text
index (Lucene) and `bm25s` on the embedded store tokenize, stem and drop stop words each in their own way.
So the analysis happens here, once, in Python: a tool's ``search_text`` is stored already analyzed (lowercase
stems separated by single spaces), Neo4j indexes it with Lucene's ``whitespace`` analyzer, and `bm25s` gets
the same token lists. A query goes through the same function.

What the analyzer does, and why:
- identifiers are split (``getWeatherForecast``, ``get_weather``, ``hotel-id`` → get weather forecast …),
  because tool and parameter names carry most of a tool's vocabulary and users never type them joined;
- lowercase, letters and digits only (no character is a Lucene query operator after this);
- Lucene's English stop words are dropped (the same 33 words as Lucene's ``EnglishAnalyzer``);
- words are stemmed with Snowball English (PyStemmer), so "forecasts" finds "forecast";
- one-character tokens are dropped (possessive "s", stray letters).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from toolflow.engine.models import Tool

#: Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET.
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with"]
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: Snowball stemmers in C, the stemmer bm25s recommends

    return Stemmer.Stemmer("english")


def analyze(text: str) -> list[str]:
    """Text → stemmed, lowercase tokens (stop words and one-character tokens dropped)."""
    words = [w.lower() for w in _WORD.findall(_CAMEL.sub(" ", text or ""))]
    words = [w for w in words if len(w) > 1 and w not in STOP_WORDS]
    return _stemmer().stemWords(words) if words else []


def query_terms(text: str) -> list[str]:
    """Distinct query tokens in first-seen order.

    Repeated words would count twice in Lucene's boolean query but once in a bm25s token set; de-duplicating
    here keeps both stores on the same score.
    """
    return list(dict.fromkeys(analyze(text)))


def tool_document(tool: Tool) -> str:
    """The raw text BM25 sees for a tool: name (and the source's spelling), description, parameters."""
    parts = [tool.name]
    if tool.original_name and tool.original_name != tool.name:
        parts.append(tool.original_name)
    parts.append(tool.description)
    for pname, schema in (tool.parameters.get("properties") or {}).items():
        parts.append(str(pname))
        desc = schema.get("description") if isinstance(schema, dict) else None
        if desc:
            parts.append(str(desc))
    return "\n".join(p for p in parts if p)


def search_text(tool: Tool) -> str:
    """The analyzed document stored as ``Tool.search_text`` (what both BM25 implementations index)."""
    return " ".join(analyze(tool_document(tool)))


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)")
MIN_PART_WORDS = 3


def query_parts(query: str) -> list[str]:
    """The request itself, then its sentences when it has more than one.

    A multi-step request spells out one task per sentence ("Find X. Then book Y. Finally email Z."); one
    vector for the whole message sits between the tasks and matches none of them well. The dense stage
    searches with every part and keeps each tool's best cosine (max-sim). Sentences shorter than
    ``MIN_PART_WORDS`` words are joined to the one before (a "Thanks!" is not a task).
    """
    sentences: list[str] = []
    for s in _SENTENCE_END.split(query.strip()):
        if sentences and len(s.split()) < MIN_PART_WORDS:
            sentences[-1] = f"{sentences[-1]} {s}"
        elif s:
            sentences.append(s)
    if len(sentences) > 1 and len(sentences[0].split()) < MIN_PART_WORDS:
        sentences[:2] = [f"{sentences[0]} {sentences[1]}"]
    return [query] + sentences if len(sentences) > 1 else [query]
