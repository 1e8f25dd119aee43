"""The batch Philox streams draw exactly what numpy's per-sample Generators draw, word for word."""

from __future__ import annotations

import numpy as np
import pytest

from toolflow.engine.sampling.records import sample_rng, strategy_salt
from toolflow.engine.sampling.streams import batch_streams, philox_block, philox_blocks


@pytest.mark.parametrize("seed", [0, 1, 7, 2**40 + 3, 2**64 - 1])
def test_blocks_match_numpy_raw_words(seed):
    salt = strategy_salt("walk")
    key0 = np.array([(salt << 32) | i for i in (0, 1, 2, 999, 2**32 - 1)], dtype=np.uint64)
    words = philox_blocks(key0, seed, 3)
    for row, k0 in zip(words.tolist(), key0.tolist(), strict=True):
        want = np.random.Philox(key=(seed << 64) | k0).random_raw(12).tolist()
        assert row == want
        assert [w for b in range(3) for w in philox_block(b, k0, seed)] == want


def test_mixed_draws_match_numpy_generators():
    """Long interleavings of random(), integers(n) and integers(lo, hi), past the precomputed blocks."""
    script_rng = np.random.default_rng(5)
    for seed in (0, 3, 2**63 + 1):
        streams = batch_streams(seed, strategy_salt("walk"), range(40, 80), blocks=1)
        for index, s in zip(range(40, 80), streams, strict=True):
            ref = sample_rng(seed, "walk", index)
            for _ in range(60):
                op = int(script_rng.integers(4))
                if op == 0:
                    assert s.random() == ref.random()
                elif op == 1:
                    n = int(script_rng.choice([1, 2, 3, 5, 200, 47_000, 2**31 + 11, 2**32]))
                    assert s.integers(n) == int(ref.integers(n))
                elif op == 2:
                    lo = int(script_rng.integers(0, 5))
                    hi = lo + int(script_rng.integers(1, 6))
                    assert s.integers(lo, hi) == int(ref.integers(lo, hi))
                else:  # a rejection-heavy range: Lemire's threshold loop
                    n = 3 * 2**30
                    assert s.integers(n) == int(ref.integers(n))
