"""The paper's text metrics and our structural metrics on hand-made dialogues (tests/support/eval_dialogues.py).

Every expected number is worked out by hand in the comments, from the definitions in the issue:
tokens = re.findall(r"\\w+", text.lower()); H = entropy in bits of pooled unigrams; Distinct-3 = distinct /
total trigrams taken within each user message, pooled.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from eval_dialogues import d1, d2, reject, toy_embed

from toolflow.engine.eval.evaluate import semantic_similarity
from toolflow.engine.eval.metrics import (
    consecutive_pairs,
    distinct_n,
    entropy,
    mean_pair_cosine,
    rounds,
    tokens,
    user_messages,
)
from toolflow.engine.eval.ours import (
    arg_sourcing,
    clarification_rounds,
    followup_grounding,
    longest_feeds_chain,
    ours_metrics,
)


def users() -> list[str]:
    return [u for d in (d1(), d2()) for u in user_messages(d)]


def test_tokens_follow_the_issue_definition() -> None:
    assert tokens("Book Le-Petit, for 2 (two)!") == ["book", "le", "petit", "for", "2", "two"]
    assert users() == ["Find a hotel in Paris", "Book Le Petit for two", "Hotel in Paris please", "May first"]


def test_entropy_by_hand() -> None:
    # 16 tokens: hotel, in, paris twice each; find, a, book, le, petit, for, two, please, may, first once.
    # H = 3 * (2/16) * log2(16/2) + 10 * (1/16) * log2(16) = 3 * 0.125 * 3 + 10 * 0.0625 * 4 = 1.125 + 2.5
    assert entropy(users()) == pytest.approx(3.625, abs=1e-12)
    assert entropy(["a a a a"]) == 0.0  # one word: no uncertainty
    assert entropy(["a b"]) == pytest.approx(1.0)
    assert entropy([]) == 0.0


def test_distinct3_by_hand_and_within_messages() -> None:
    # trigrams: "find a hotel", "a hotel in", "hotel in paris" | "book le petit", "le petit for", "petit for two"
    # | "hotel in paris" (again), "in paris please" | "may first" has none. 8 in all, 7 distinct.
    assert distinct_n(users(), 3) == pytest.approx(7 / 8, abs=1e-12)
    # trigrams never span two messages: pooled as one text "a b c a b" would have 3 trigrams, 3 distinct
    assert distinct_n(["a b", "c a b"], 3) == pytest.approx(1.0)  # only "c a b"
    assert distinct_n(["a b c", "a b c"], 3) == pytest.approx(0.5)
    assert distinct_n(["too short"], 3) == 0.0


def test_independent_recomputation_agrees_to_1e6() -> None:
    """The issue's definitions, written out again from scratch, give the same numbers on messier text."""
    import re
    from collections import Counter

    texts = ["Héllo, World! hello_world 42", "It's 9:30 — café?", "the the the the", "x", "", *users()]
    toks = [re.findall(r"\w+", t.lower()) for t in texts]
    counts = Counter(w for ts in toks for w in ts)
    n = sum(counts.values())
    h = -sum(c / n * math.log2(c / n) for c in counts.values())
    tri = [tuple(ts[i:i + 3]) for ts in toks for i in range(len(ts) - 2)]
    assert abs(entropy(texts) - h) < 1e-6
    assert abs(distinct_n(texts, 3) - len(set(tri)) / len(tri)) < 1e-6


def test_rounds_and_pairs() -> None:
    assert rounds(d2()) == [("Hotel in Paris please", "Which dates?"), ("May first", "Done.")]
    assert consecutive_pairs([d1(), d2()]) == [
        ("Find a hotel in Paris\nI found Le Petit for 120.", "Book Le Petit for two\nBooked: B-1.",
         "Book Le Petit for two"),
        ("Hotel in Paris please\nWhich dates?", "May first\nDone.", "May first"),
    ]


def test_semantic_similarity_by_hand() -> None:
    # toy vectors [#paris, #petit, 1]: d1 rounds (1,1,1) and (0,1,1): cos = 2 / (sqrt3 * sqrt2) = 0.8164966
    # d2 rounds (1,0,1) and (0,0,1): cos = 1 / sqrt2 = 0.7071068; SS = their mean = 0.7618017
    pairs = consecutive_pairs([d1(), d2()])
    assert semantic_similarity(pairs, toy_embed) == pytest.approx((2 / math.sqrt(6) + 1 / math.sqrt(2)) / 2,
                                                                  abs=1e-6)
    assert semantic_similarity([], toy_embed) is None
    assert mean_pair_cosine(np.array([[1.0, 0.0]]), np.array([[-2.0, 0.0]])) == pytest.approx(-1.0)


def test_argument_sourcing_by_hand() -> None:
    # d1: "Paris" is in the user's "Find a hotel in Paris"; "2025-05-01" is nowhere before; "h-77" matches the
    # result's "H-77" case-insensitively -> 2 of 3. d2: "paris" and "Paris" from the user, the date not -> 2 of 3.
    assert arg_sourcing(d1()) == (2, 3)
    assert arg_sourcing(d2()) == (2, 3)
    # only EARLIER messages count: a value that appears later is not sourced
    late = d1()
    late["messages"][1]["content"] = "Find a hotel"
    assert arg_sourcing(late) == (1, 3)


def test_followups_clarifications_and_chains_by_hand() -> None:
    # d1 round 2 calls book_hotel with h-77 from round 1's result: grounded. d2 round 2's values come from the user.
    assert followup_grounding(d1()) == (1, 1)
    assert followup_grounding(d2()) == (0, 1)
    # d2 opens with "Which dates?" and the user answers: one of its two rounds; d1 none
    assert clarification_rounds(d2()) == (1, 2)
    assert clarification_rounds(d1()) == (0, 2)
    # a -> b -> c is 2 edges; the cycle back b -> a does not make it longer; SIMILAR edges do not count
    edges = [{"source": "a", "target": "b", "type": "FEEDS"}, {"source": "b", "target": "a", "type": "FEEDS"},
             {"source": "b", "target": "c", "type": "FEEDS"}, {"source": "c", "target": "d", "type": "SIMILAR"}]
    assert longest_feeds_chain(edges) == 2
    assert longest_feeds_chain([]) == 0


def test_ours_metrics_by_hand() -> None:
    m = ours_metrics([d1(), d2()], [reject(["plan_not_covered: x", "tool_name_in_user: y"]),
                                    reject(["plan_not_covered: z"])])
    assert m.arg_sourced == pytest.approx(4 / 6) and m.arg_values == 6
    assert m.followup_grounded == pytest.approx(1 / 2) and m.followup_rounds == 2
    # sample edges: d1 FEEDS + SIMILAR, d2 FEEDS + FEEDS (a chain of 2) -> 3/4 FEEDS; both sets have one; 1 chain
    assert (m.feeds_edge_share, m.feeds_set_share, m.feeds_chain_share) == (0.75, 1.0, 0.5)
    assert (m.distinct_combinations, m.distinct_combination_share) == (2, 1.0)
    assert (m.tools_offered, m.tools_covered) == (3, 3)
    # 4 calls; d1's book_hotel lacks the required `guests`
    assert (m.calls, m.call_validity) == (4, 0.75)
    assert m.clarification_rate == pytest.approx(1 / 4)
    # call messages: d1 two with one call each, d2 one with two calls
    assert m.parallel_call_rate == pytest.approx(1 / 3)
    assert m.turns_per_dialogue == 2.0
    # d1: s(1) + find a hotel in paris(5) + hotels hotel_id h 77 name le petit(7) + i found le petit for 120(6)
    #     + book le petit for two(5) + booking_id b 1(3) + booked b 1(3) = 30
    # d2: s(1) + hotel in paris please(4) + which dates(2) + may first(2) + hotels(1) + forecast sun(2) + done(1) = 13
    assert m.tokens_per_dialogue == pytest.approx((30 + 13) / 2)
    assert m.llm_tokens_per_dialogue == pytest.approx((165 + 42) / 2)
    assert (m.kept, m.rejected, m.reject_rate) == (2, 2, 0.5)
    assert m.rejects_by_reason == {"plan_not_covered": 2, "tool_name_in_user": 1}


def test_empty_inputs_give_none_not_errors() -> None:
    m = ours_metrics([])
    assert m.arg_sourced is None and m.call_validity is None and m.turns_per_dialogue is None
    assert m.reject_rate is None and m.rejects_by_reason == {}
