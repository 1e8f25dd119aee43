"""embed_texts: texts of about one length share a batch (little padding), vectors still come back in input order."""

from __future__ import annotations

import numpy as np

from toolflow.engine.graph.embedding import EmbeddingCache, HashingEmbedder, embed_texts


class Recording(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return super()._encode(texts)


def test_batches_go_longest_first_and_results_keep_input_order(tmp_path):
    rng = np.random.default_rng(0)
    texts = sorted({" ".join(f"w{int(x)}" for x in rng.integers(0, 50, size=int(n))) for n in rng.integers(1, 40, size=700)})
    emb = Recording()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vecs, embedded = embed_texts(texts, lambda: emb, cache, emb.name)
    assert embedded == len(texts)
    lengths = [len(t) for batch in emb.batches for t in batch]
    assert lengths == sorted(lengths, reverse=True)
    assert np.allclose(vecs, HashingEmbedder().embed(texts))  # row i is still texts[i]'s vector
    again, embedded = embed_texts(texts, lambda: emb, cache, emb.name)
    assert embedded == 0 and np.array_equal(again, vecs)
    cache.close()
