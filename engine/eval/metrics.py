"""The paper's text metrics as pure functions over dialogue records (dicts as `synth` writes them).

Definitions are fixed so that anyone can recompute them from the JSONL alone:

- tokens of a user message: ``re.findall(r"\\w+", text.lower())``;
- **H**: Shannon entropy in bits of the unigram counts pooled over every user message of the file;
- **Distinct-3**: distinct trigrams / total trigrams, trigrams taken within each user message (never across
  two messages) and pooled over the file; 0.0 when there are no trigrams;
- a **round** starts at each user message and runs to the next one; its text is the request plus the
  assistant's text replies in it (tool calls and tool results left out: the paper compares what people read);
- **SS**: mean cosine between consecutive rounds of a dialogue, pooled over all consecutive pairs of the file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

TOKEN_RE = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """The tokenization every text metric uses."""
    return TOKEN_RE.findall(text.lower())


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


def user_messages(dialogue: dict[str, Any]) -> list[str]:
    """The user turns of a dialogue, in order."""
    return [_text(m) for m in dialogue.get("messages", []) if m.get("role") == "user"]


def entropy(texts: Iterable[str]) -> float:
    """Shannon entropy (bits) of the pooled unigram distribution of `texts`; 0.0 for no tokens."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokens(text))
    total = sum(counts.values())
    if not total:
        return 0.0
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def distinct_n(texts: Iterable[str], n: int = 3) -> float:
    """Distinct n-grams / total n-grams, n-grams within each text, pooled; 0.0 when there are none."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        toks = tokens(text)
        grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def rounds(dialogue: dict[str, Any]) -> list[tuple[str, str]]:
    """(request, response) per round: each user message and the assistant text that follows it."""
    out: list[tuple[str, list[str]]] = []
    for m in dialogue.get("messages", []):
        role = m.get("role")
        if role == "user":
            out.append((_text(m), []))
        elif role == "assistant" and out and _text(m).strip():
            out[-1][1].append(_text(m).strip())
    return [(req, "\n".join(resp)) for req, resp in out]


def round_text(request: str, response: str) -> str:
    """What a round is embedded as (and the NLI premise): request, then response."""
    return f"{request}\n{response}".strip()


def consecutive_pairs(dialogues: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(previous round text, current round text, current request) for every consecutive round pair."""
    pairs = []
    for d in dialogues:
        rs = rounds(d)
        for prev, cur in zip(rs, rs[1:], strict=False):
            pairs.append((round_text(*prev), round_text(*cur), cur[0]))
    return pairs


def mean_pair_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean row-wise cosine of two equally shaped matrices (rows need not be normalized); nan when empty."""
    if len(a) == 0:
        return float("nan")
    na = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    nb = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.sum(na * nb, axis=1)))
