"""The LLM judge and the LLM entailment fallback with the scripted fake; the cross-encoder path on a tiny
randomly initialised BERT whose classifier is pinned, so the label mapping is what is tested."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_dialogues import d1, d2
from fake_llm import ScriptedLLM

from toolflow.engine.eval.entailment import NLI_PROMPT, entailment_index, llm_enr
from toolflow.engine.eval.judge import JUDGE_PROMPT, judge_dialogues, subsample, transcript
from toolflow.engine.eval.metrics import consecutive_pairs
from toolflow.engine.llm.repair import DEFAULT_REPAIRS


def nli_pairs() -> list[tuple[str, str]]:
    return [(prev, req) for prev, _, req in consecutive_pairs([d1(), d2()])]


async def test_llm_entailment_counts_entailed_pairs_and_leaves_out_unusable_answers() -> None:
    llm = ScriptedLLM({"judge": [{"label": "entailment"}, {"label": "neutral"}]})
    res = await llm_enr(llm, nli_pairs(), concurrency=1)
    # 1 of 2 pairs entailed
    assert (res.enr, res.pairs, res.entailed, res.failed, res.method) == (0.5, 2, 1, 0, "llm")
    first = llm.calls_for("judge")[0]
    assert first["messages"][0]["content"] == NLI_PROMPT.read_text(encoding="utf-8")
    assert "PREMISE:\nFind a hotel in Paris\nI found Le Petit for 120." in first["messages"][1]["content"]
    assert "HYPOTHESIS:\nBook Le Petit for two" in first["messages"][1]["content"]
    assert first["json_schema"]["properties"]["label"]["enum"] == ["entailment", "neutral", "contradiction"]

    # an invalid label is re-asked under the one repair policy; still invalid after the budget, it is a failure
    bad = ScriptedLLM({"judge": [{"label": "maybe"}] * (DEFAULT_REPAIRS + 1) + [{"label": "entailment"}]})
    res = await llm_enr(bad, nli_pairs(), concurrency=1)
    # the invalid label is a failure, not a "not entailed": 1 of the 1 usable answers
    assert (res.enr, res.entailed, res.failed) == (1.0, 1, 1)


async def test_judge_means_over_usable_answers() -> None:
    llm = ScriptedLLM({"judge": [
        {"naturalness": 4, "coherence": 3, "helpfulness": 5, "accuracy": 2},
        {"naturalness": 2, "coherence": 3, "helpfulness": 3, "accuracy": 4},
        *[{"naturalness": 6, "coherence": 3, "helpfulness": 3, "accuracy": 4}] * (DEFAULT_REPAIRS + 1),  # out of range
    ]})
    d3 = d1() | {"id": "d3"}
    res = await judge_dialogues(llm, [d1(), d2(), d3], concurrency=1)
    # means of the first two: (4+2)/2, (3+3)/2, (5+3)/2, (2+4)/2
    assert res.means == {"naturalness": 3.0, "coherence": 3.0, "helpfulness": 4.0, "accuracy": 3.0}
    assert (res.judged, res.failed) == (2, 1)
    assert set(res.scores) == {"d1", "d2"}
    call = llm.calls_for("judge")[0]
    assert call["messages"][0]["content"] == JUDGE_PROMPT.read_text(encoding="utf-8")
    schema = call["json_schema"]
    assert schema["required"] == ["naturalness", "coherence", "helpfulness", "accuracy"]
    assert schema["properties"]["coherence"] == {"type": "integer", "enum": [1, 2, 3, 4, 5]}


async def test_judge_rubric_is_an_editable_file(tmp_path: Path) -> None:
    rubric = tmp_path / "mine.md"
    rubric.write_text("Be generous.", encoding="utf-8")
    llm = ScriptedLLM({"judge": [{"naturalness": 5, "coherence": 5, "helpfulness": 5, "accuracy": 5}]})
    res = await judge_dialogues(llm, [d1()], rubric=rubric)
    assert llm.calls_for("judge")[0]["messages"][0]["content"] == "Be generous."
    assert res.rubric == str(rubric)


def test_transcript_shows_calls_results_and_tools() -> None:
    text = transcript(d1())
    assert "- search_hotels: Find hotels." in text
    assert "USER: Find a hotel in Paris" in text
    assert 'ASSISTANT calls book_hotel({"hotel_id": "h-77"})' in text
    assert 'TOOL book_hotel result: {"booking_id": "B-1"}' in text
    assert "s" not in text.split("DIALOGUE:")[1].splitlines()[1:2]  # no system prompt


def test_subsample_is_seeded_and_in_file_order() -> None:
    items = [{"id": str(i)} for i in range(50)]
    a, b = subsample(items, 10, seed=7), subsample(items, 10, seed=7)
    assert a == b and len(a) == 10
    assert [int(x["id"]) for x in a] == sorted(int(x["id"]) for x in a)
    assert subsample(items, 10, seed=8) != a
    assert subsample(items, 80, seed=7) == items


def test_entailment_index_reads_the_label_order() -> None:
    assert entailment_index({0: "contradiction", 1: "entailment", 2: "neutral"}) == 1
    assert entailment_index({"0": "ENTAILMENT", "1": "neutral", "2": "contradiction"}) == 0
    with pytest.raises(ValueError, match="no entailment label"):
        entailment_index({0: "LABEL_0", 1: "LABEL_1"})
