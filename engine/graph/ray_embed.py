"""`graph build --executor ray`: the distinct texts embedded with Ray Data, one model per worker.

`RayDataEmbedder` is an `Embedder`, so the build is unchanged around it: `embed_texts` still reads the
embedding cache first, hands it only the missing texts and writes the new vectors into the same cache,
in the driver. `map_batches` runs a pool of `workers` actors, each building its embedder once (the
model loads once per worker per call); rows carry their position, so the vectors come back in input
order whatever order the batches finish in. Ray is imported only when a batch is embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from toolflow.engine.graph.embedding import DIM, Embedder

#: Texts per `embed` call: a Ray Data job (and a model load per worker) per call, so larger than the
#: local chunk; the cache still gets each call's vectors before the next starts.
RAY_CHUNK = 50_000


class _EmbedBatch:
    """One worker's model, applied batch by batch (a Ray Data callable class)."""

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self.embedder = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"i": batch["i"], "vec": self.embedder.embed([str(t) for t in batch["text"]])}


class RayDataEmbedder(Embedder):
    """Embeds with `factory`'s model on `workers` Ray workers of the current Ray session."""

    chunk = RAY_CHUNK

    def __init__(self, factory: Callable[[], Embedder], name: str, *, workers: int = 2, batch_size: int = 256,
                 dim: int = DIM) -> None:
        self.factory, self.name, self.workers, self.batch_size, self.dim = factory, name, workers, batch_size, dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: Sequence[str], batch_size: int = 256,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        import ray.data

        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        mapped = ds.map_batches(_EmbedBatch, fn_constructor_args=(self.factory,), batch_size=self.batch_size,
                                concurrency=self.workers, batch_format="numpy")
        out: np.ndarray | None = None
        for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
            vecs = np.asarray(batch["vec"], dtype=np.float32)
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[np.asarray(batch["i"], dtype=np.int64)] = vecs
            if on_batch:
                on_batch(len(vecs))
        return out if out is not None else np.zeros((0, self.dim), dtype=np.float32)
