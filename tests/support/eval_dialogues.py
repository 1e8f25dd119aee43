"""Hand-made dialogues for the eval tests; every expected value is derived by hand in the tests' comments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fake_llm import tool_call

SEARCH = {"type": "function", "function": {"name": "search_hotels", "description": "Find hotels.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "check_in": {"type": "string"}},
    "required": ["city", "check_in"]}}}
BOOK = {"type": "function", "function": {"name": "book_hotel", "description": "Book a hotel.", "parameters": {
    "type": "object", "properties": {"hotel_id": {"type": "string"}, "guests": {"type": "integer"}},
    "required": ["hotel_id", "guests"]}}}
FORECAST = {"type": "function", "function": {"name": "get_forecast", "description": "Weather.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def _tool(cid: str, name: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": cid, "name": name, "content": json.dumps(result)}


def d1() -> dict[str, Any]:
    """Two rounds; the second books the hotel id the first round's result gave (and forgets `guests`)."""
    return {
        "id": "d1", "tools": [SEARCH, BOOK],
        "sample": {"id": "s1", "tool_ids": ["t:search", "t:book"], "strategy": "walk",
                   "edges": [{"source": "t:search", "target": "t:book", "type": "FEEDS", "score": 0.9},
                             {"source": "t:search", "target": "t:book", "type": "SIMILAR", "score": 0.85}]},
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "Find a hotel in Paris"},
            {"role": "assistant", "content": None,
             "tool_calls": [tool_call("search_hotels", {"city": "Paris", "check_in": "2025-05-01"}, "c1")]},
            _tool("c1", "search_hotels", {"hotels": [{"hotel_id": "H-77", "name": "Le Petit"}]}),
            {"role": "assistant", "content": "I found Le Petit for 120."},
            {"role": "user", "content": "Book Le Petit for two"},
            {"role": "assistant", "content": None, "tool_calls": [tool_call("book_hotel", {"hotel_id": "h-77"}, "c2")]},
            _tool("c2", "book_hotel", {"booking_id": "B-1"}),
            {"role": "assistant", "content": "Booked: B-1."},
        ],
        "meta": {"tokens": {"user": {"prompt_tokens": 100, "completion_tokens": 10},
                            "assistant": {"prompt_tokens": 50, "completion_tokens": 5}}},
    }


def d2() -> dict[str, Any]:
    """A clarification round, then two calls in parallel."""
    return {
        "id": "d2", "tools": [SEARCH, BOOK, FORECAST],
        "sample": {"id": "s2", "tool_ids": ["t:search", "t:book", "t:forecast"], "strategy": "walk",
                   "edges": [{"source": "t:search", "target": "t:book", "type": "FEEDS", "score": 0.9},
                             {"source": "t:book", "target": "t:forecast", "type": "FEEDS", "score": 0.88}]},
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "Hotel in Paris please"},
            {"role": "assistant", "content": "Which dates?"},
            {"role": "user", "content": "May first"},
            {"role": "assistant", "content": None, "tool_calls": [
                tool_call("search_hotels", {"city": "paris", "check_in": "2025-05-01"}, "c3"),
                tool_call("get_forecast", {"city": "Paris"}, "c4")]},
            _tool("c3", "search_hotels", {"hotels": []}),
            _tool("c4", "get_forecast", {"forecast": ["sun"]}),
            {"role": "assistant", "content": "Done."},
        ],
        "meta": {"tokens": {"user": {"prompt_tokens": 40, "completion_tokens": 2}}},
    }


def reject(reasons: list[str]) -> dict[str, Any]:
    return {"id": "r", "tools": [], "messages": [], "sample": {"id": "x", "tool_ids": [], "strategy": "walk"},
            "checks": {"passed": False, "failed": reasons}}


def write_jsonl(path, records) -> None:  # noqa: ANN001
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def toy_embed(texts: list[str]):  # noqa: ANN201
    """[count of 'paris', count of 'petit', 1] per text: cosines that can be computed by hand."""
    import numpy as np

    from toolflow.engine.eval.metrics import tokens

    return np.array([[tokens(t).count("paris"), tokens(t).count("petit"), 1.0] for t in texts], dtype=np.float32)


def tiny_nli_model(path: Path, id2label: dict[int, str], winner: str) -> Path:
    """A 1-layer BERT cross-encoder whose classifier always outputs `winner` (weights zero, bias on it)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hotel", "paris", "book", "may", "first"]
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    config = BertConfig(vocab_size=len(words), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=64, num_labels=3, id2label=id2label,
                        label2id={v: k for k, v in id2label.items()})
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([5.0 if id2label[i] == winner else 0.0 for i in range(3)]))
    model.save_pretrained(path)
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    return path
