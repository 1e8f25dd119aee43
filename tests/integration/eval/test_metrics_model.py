"""Semantic similarity with the project's embedding model (all-MiniLM-L6-v2): a follow-up ranks above a topic
switch."""

from __future__ import annotations

import pytest

from toolflow.engine.eval.evaluate import semantic_similarity


@pytest.mark.slow
def test_semantic_similarity_with_the_project_model_ranks_a_follow_up_above_a_topic_switch() -> None:
    """The real all-MiniLM-L6-v2 through the disk cache: a round about the same trip scores higher than a
    round about something else, and an identical round scores 1."""
    from toolflow.engine.eval.evaluate import project_embedder

    embed = project_embedder()
    hotel = "Find me a hotel in Lisbon for three nights\nI found Casa Azul at 90 euros a night."
    follow = "Book Casa Azul in Lisbon for two guests\nYour room at Casa Azul is booked."
    switch = "What is the capital of Mongolia?\nUlaanbaatar."
    same = semantic_similarity([(hotel, hotel, "")], embed)
    near = semantic_similarity([(hotel, follow, "")], embed)
    far = semantic_similarity([(hotel, switch, "")], embed)
    assert same == pytest.approx(1.0, abs=1e-5)
    assert near is not None and far is not None and near > far + 0.2
