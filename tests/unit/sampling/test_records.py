"""Sample records: deterministic ids, JSONL round trip, readable errors."""

from __future__ import annotations

import pytest

from toolflow.engine.models import EdgeTaken, Sample
from toolflow.engine.sampling import read_samples, sample_id, sample_rng, write_samples


def test_ids_and_streams_are_deterministic():
    assert sample_id("walk", 7, 3) == "walk-7-000003"
    assert sample_rng(7, "walk", 3).random() == sample_rng(7, "walk", 3).random()
    assert sample_rng(7, "walk", 3).random() != sample_rng(7, "walk", 4).random()
    assert sample_rng(7, "walk", 3).random() != sample_rng(7, "random", 3).random()
    with pytest.raises(ValueError):
        sample_rng(-1, "walk", 0)


def test_jsonl_round_trip(tmp_path):
    samples = [
        Sample(
            id=sample_id("walk", 1, i),
            tool_ids=["a", "b"],
            path=["a", "b"],
            edges=[EdgeTaken(source="a", target="b", type="FEEDS", score=0.9, fields=["city", "city_name"])],
            strategy="walk",
            seed=1,
        )
        for i in range(3)
    ]
    path = tmp_path / "s.jsonl"
    assert write_samples(path, samples) == 3
    assert len(path.read_text().splitlines()) == 3
    assert read_samples(path) == samples


def test_bad_line_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "tool_ids": [], "strategy": "walk"}\n\n{"id": 1}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:3"):
        read_samples(path)
