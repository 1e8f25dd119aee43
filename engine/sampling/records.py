"""Sample records: deterministic ids and per-sample random streams, and JSONL in/out.

Every sample draws from its own generator seeded by (seed, strategy, index), so sample i is the same
whatever the batch size, and two strategies with one seed do not share a random stream.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..models import Sample


def sample_id(strategy: str, seed: int, index: int) -> str:
    """Readable and deterministic: the same run gives the same ids, so JSONL files diff cleanly."""
    return f"{strategy}-{seed}-{index:06d}"


def strategy_salt(strategy: str) -> int:
    return zlib.crc32(strategy.encode("utf-8"))


def sample_rng(seed: int, strategy: str, index: int) -> np.random.Generator:
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng([seed, strategy_salt(strategy), index])


def write_samples(path: str | Path, samples: Iterable[Sample]) -> int:
    """Write one JSON object per line; returns the number written."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for s in samples:
            fh.write(s.model_dump_json() + "\n")
            n += 1
    return n


def iter_samples(path: str | Path) -> Iterator[Sample]:
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield Sample.model_validate_json(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a sample record: {exc}") from exc


def read_samples(path: str | Path) -> list[Sample]:
    return list(iter_samples(path))
