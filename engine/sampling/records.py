"""Sample records: deterministic ids and JSONL in/out.

Every sample draws from its own generator (`toolflow.engine.seeds.sample_rng`, keyed by seed, strategy and
index), so sample i is the same whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from toolflow.engine.jsonl import write_jsonl
from toolflow.engine.models import Sample
from toolflow.engine.seeds import sample_rng, strategy_salt

__all__ = ["iter_samples", "read_samples", "sample_id", "sample_rng", "strategy_salt", "write_samples"]


def sample_id(strategy: str, seed: int, index: int) -> str:
    """Readable and deterministic: the same run gives the same ids, so JSONL files diff cleanly."""
    return f"{strategy}-{seed}-{index:06d}"


def write_samples(path: str | Path, samples: Iterable[Sample]) -> int:
    """Write one JSON object per line, atomically; returns the number written."""
    return write_jsonl(Path(path), samples)


def iter_samples(path: str | Path) -> Iterator[Sample]:
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield Sample.model_validate_json(line)
            except ValidationError as exc:  # one line: the CLI shows it as is
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}"
                                     for e in exc.errors(include_url=False)[:3])
                raise ValueError(f"{path}:{lineno}: not a sample record: {problems}") from exc


def read_samples(path: str | Path) -> list[Sample]:
    return list(iter_samples(path))
