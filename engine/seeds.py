"""The one place that turns a job seed into per-item randomness and ids.

Everything random in a job is a pure function of (seed, item key, purpose), so item i is the same on every
rerun, shard and worker, and two purposes never share a stream.
"""

from __future__ import annotations

import hashlib
import random
import zlib

import numpy as np


def rng_for(seed: int, key: object, purpose: str) -> random.Random:
    """A `random.Random` for one purpose ("turns", "sample", "skeleton", …) of item `key` of job `seed`."""
    return random.Random(f"{seed}:{key}:{purpose}")


def dialogue_id(seed: int, index: int) -> str:
    """Stable id of the index-th dialogue of a job: what makes reruns skip finished work."""
    return "dlg-" + hashlib.sha1(f"{seed}:{index}".encode()).hexdigest()[:16]


def call_id(key: str, k: int) -> str:
    """Deterministic id of the k-th tool call under `key` (a dialogue id, or a conversation digest); 9
    alphanumerics because some chat templates (Mistral) demand exactly that."""
    return hashlib.sha1(f"{key}:call:{k}".encode()).hexdigest()[:9]


def strategy_salt(strategy: str) -> int:
    return zlib.crc32(strategy.encode("utf-8"))


def sample_rng(seed: int, strategy: str, index: int) -> np.random.Generator:
    """A counter-based generator (Philox) keyed by (seed, strategy, index): independent streams, and half
    the set-up cost of ``default_rng``'s seed hashing, which shows at 10k samples."""
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    if not 0 <= index < 2**32:
        raise ValueError(f"sample index out of range: {index}")
    return np.random.Generator(np.random.Philox(key=(seed << 64) | (strategy_salt(strategy) << 32) | index))
