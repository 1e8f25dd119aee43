"""Embedding backends: the backend is part of the cache key, and the ONNX vectors match the torch ones."""

from __future__ import annotations

import numpy as np
import pytest

from toolflow.engine.graph.embedding import (
    MODEL,
    EmbeddingCache,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    embed_backend,
    embed_texts,
    model_key,
)

TEXTS = [
    "city: name of the city to get the weather for",
    "hotel_id: identifier of the hotel returned by the search",
    "Search flights between two airports on a date",
    "zip",
    "A much longer description of a parameter that says what the value means, which unit it is in, and "
    "which other endpoint returns it, so that the tokenizer sees more than a handful of word pieces.",
]


def test_each_backend_has_its_own_cache_key() -> None:
    keys = {b: model_key(b) for b in ("torch", "onnx", "onnx-int8")}
    assert keys["torch"] == MODEL  # caches written before backends existed stay valid for torch
    assert len(set(keys.values())) == 3


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLFLOW_EMBED_BACKEND", "Torch")
    assert embed_backend() == "torch"
    monkeypatch.setenv("TOOLFLOW_EMBED_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="TOOLFLOW_EMBED_BACKEND"):
        embed_backend()


def test_cache_key_must_match_the_embedder(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    emb = HashingEmbedder()
    with pytest.raises(ValueError, match="does not match"):
        embed_texts(["a b"], lambda: emb, cache, "all-MiniLM-L6-v2")
    assert cache.get_many("all-MiniLM-L6-v2", []) == {}
    cache.close()


@pytest.mark.slow
def test_onnx_vectors_match_torch(tmp_path) -> None:
    torch_vecs = SentenceTransformerEmbedder(backend="torch").embed(TEXTS)
    fp32 = SentenceTransformerEmbedder(backend="onnx", onnx_root=tmp_path)
    int8 = SentenceTransformerEmbedder(backend="onnx-int8", onnx_root=tmp_path)
    assert (fp32.name, int8.name) == (model_key("onnx"), model_key("onnx-int8"))
    fp32_cos = (fp32.embed(TEXTS) * torch_vecs).sum(axis=1)
    int8_vecs = int8.embed(TEXTS)
    int8_cos = (int8_vecs * torch_vecs).sum(axis=1)
    assert fp32_cos.min() > 0.9999
    assert int8_cos.min() > 0.97
    assert np.allclose(np.linalg.norm(int8_vecs, axis=1), 1.0, atol=1e-5)
    # Input order survives the length-sorted batching: each text is closest to its own torch vector.
    assert ((int8_vecs @ torch_vecs.T).argmax(axis=1) == np.arange(len(TEXTS))).all()
