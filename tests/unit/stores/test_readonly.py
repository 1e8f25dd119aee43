"""The read-only guard's tokenizer reads Cypher strings, quoted names and comments as Cypher does (the
stores' and the CLI's refusals of the issue-12 bypasses run against both stores in
tests/integration/stores/test_faults.py)."""

from __future__ import annotations

import pytest

from toolflow.engine.stores import ReadOnlyViolation
from toolflow.engine.stores.readonly import tokenize


def test_tokenizer_reads_strings_names_and_comments_like_cypher():
    toks = tokenize("MATCH (`a``b`) // it's\nRETURN 'x\\' // y' AS `s` /* ' */")
    assert [(t.kind, t.text) for t in toks] == [
        ("word", "MATCH"), ("punct", "("), ("name", "a`b"), ("punct", ")"), ("word", "RETURN"),
        ("string", "'x\\' // y'"), ("word", "AS"), ("name", "s")]
    for broken in ("RETURN 'a", "RETURN `a", "RETURN 1 /* x"):
        with pytest.raises(ReadOnlyViolation, match="not closed"):
            tokenize(broken)
