"""Everything random in a job is a pure function of (seed, item key, purpose): same inputs, same stream and
ids on every rerun, shard and worker; another purpose or strategy, another stream."""

from __future__ import annotations

import re

import pytest

from toolflow.engine.seeds import call_id, dialogue_id, rng_for, sample_rng


def test_dialogue_ids_are_stable_and_distinct() -> None:
    assert dialogue_id(7, 3) == dialogue_id(7, 3)
    ids = {dialogue_id(seed, i) for seed in (1, 2) for i in range(500)}
    assert len(ids) == 1000 and all(re.fullmatch(r"dlg-[0-9a-f]{16}", i) for i in ids)


def test_call_ids_are_nine_alphanumerics() -> None:
    ids = [call_id("dlg-x", k) for k in range(50)]
    assert len(set(ids)) == 50 and all(re.fullmatch(r"[0-9a-z]{9}", i) for i in ids)
    assert call_id("dlg-x", 4) == ids[4]


def test_purposes_never_share_a_stream() -> None:
    draws = [rng_for(1, "k", p).random() for p in ("turns", "sample", "turns")]
    assert draws[0] == draws[2] != draws[1]


def test_sample_streams_are_keyed_by_seed_strategy_and_index() -> None:
    first = sample_rng(5, "walk", 0).integers(0, 2**31, 8).tolist()
    assert first == sample_rng(5, "walk", 0).integers(0, 2**31, 8).tolist()
    for other in (sample_rng(6, "walk", 0), sample_rng(5, "random", 0), sample_rng(5, "walk", 1)):
        assert other.integers(0, 2**31, 8).tolist() != first


@pytest.mark.parametrize(("seed", "index"), [(-1, 0), (2**64, 0), (0, 2**32), (0, -1)])
def test_out_of_range_keys_are_refused(seed: int, index: int) -> None:
    with pytest.raises(ValueError, match="out of range|must be in"):
        sample_rng(seed, "walk", index)
