"""`graph eval`: pair-level precision/recall against labelled flows, on a tiny set scored by hand, on both stores."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.engine.graph.evaluate import EdgeRow, LabelError, evaluate, load_labels

# Four tools A..D. Flows (pairs): A->B (two routes), A->C, B->D. Hard negative C->A. Ambiguous D->A.
LABELS = {
    "description": "tiny hand-made set",
    "sets": {
        "tiny.json": {
            "tools": ["A", "B", "C", "D"],
            "flows": [
                {"from": "A", "to": "B", "from_field": "id", "to_param": "a_id", "kind": "id"},
                {"from": "A", "to": "B", "from_field": "name", "to_param": "q", "kind": "lookup"},
                {"from": "A", "to": "C", "from_field": "id", "to_param": "a_id", "kind": "id"},
                {"from": "B", "to": "D", "from_field": "token", "to_param": "token", "kind": "token"},
            ],
            "hard_negatives": [{"from": "C", "to": "A", "why": "C returns only a status"}],
            "ambiguous": [{"from": "D", "to": "A", "from_field": "x", "to_param": "y", "why": "unclear"}],
        },
        "other.json": {"tools": ["X", "Y"], "flows": [{"from": "X", "to": "Y", "from_field": "a", "to_param": "b",
                                                        "kind": "id"}]},
    },
}
TOOLS = [(f"t:{n}", n) for n in "ABCD"]
# Predicted: A->B, A->C (true), C->A (false, a hard negative), D->A (ambiguous: ignored), B->C (false).
EDGES = [EdgeRow("t:A", "t:B", "id", "a_id"), EdgeRow("t:A", "t:B", "name", "q"), EdgeRow("t:A", "t:C"),
         EdgeRow("t:C", "t:A"), EdgeRow("t:D", "t:A"), EdgeRow("t:B", "t:C")]
# By hand: TP 2 (A->B, A->C), FP 2 (C->A, B->C), FN 1 (B->D), ambiguous 1.
# precision 2/4 = 0.5, recall 2/3, F1 = 2 * 0.5 * 0.6667 / (0.5 + 0.6667) = 0.5714.


@pytest.fixture
def labels_file(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(LABELS))
    return path


def test_pair_level_scores_computed_by_hand(labels_file):
    report = evaluate(load_labels(labels_file), TOOLS, EDGES)
    tiny, other = report.sets
    assert (tiny.scored, tiny.tp, tiny.fp, tiny.fn, tiny.ignored_ambiguous) == (True, 2, 2, 1, 1)
    assert tiny.precision == pytest.approx(0.5)
    assert tiny.recall == pytest.approx(2 / 3)
    assert tiny.f1 == pytest.approx(4 / 7)
    assert [(m["from"], m["to"]) for m in tiny.missed] == [("B", "D")]
    assert sorted((e["from"], e["to"]) for e in tiny.false_edges) == [("B", "C"), ("C", "A")]
    assert [(h["from"], h["to"]) for h in tiny.hard_negative_hits] == [("C", "A")]
    assert not other.scored and "not in the store" in other.reason
    overall = report.overall
    assert (overall.tp, overall.fp, overall.fn) == (2, 2, 1)


def test_sets_with_tool_ids_resolve_by_id_when_names_repeat():
    labels = load_labels_from({
        "sets": {"bank.jsonl": {
            "tools": ["Add", "Add", "Query"],
            "tool_ids": ["b:1", "b:2", "b:3"],
            "flows": [{"from": "Query", "to": "Add", "from_id": "b:3", "to_id": "b:2", "from_field": "x",
                       "to_param": "y", "kind": "id"}],
        }}
    })
    tools = [("b:1", "Add"), ("b:2", "Add"), ("b:3", "Query")]
    report = evaluate(labels, tools, [EdgeRow("b:3", "b:1"), EdgeRow("b:3", "b:2")])
    (s,) = report.sets
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)  # the level-1 Add is another tool: an edge to it is false


def test_shared_names_across_sets_are_flagged():
    labels = load_labels_from({"sets": {"s": {"tools": ["A", "B"], "flows": []}}})
    (s,) = evaluate(labels, [("x:A", "A"), ("y:A", "A"), ("x:B", "B")], []).sets
    assert s.scored and s.warnings and "one graph per set" in s.warnings[0]


def load_labels_from(obj):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(obj, fh)
    return load_labels(Path(fh.name))


def test_bad_label_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"sets": {"s": {"tools": ["A"], "flows": [{"to": "B"}]}}}')
    with pytest.raises(LabelError, match=r"bad\.json: field 'sets\.s\.flows\.0\.from'"):
        load_labels(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"sets": \n oops}')
    with pytest.raises(LabelError, match=r"broken\.json: line 2: not JSON"):
        load_labels(broken)
    result = CliRunner().invoke(main, ["graph", "eval", str(bad), "--store", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "Traceback" not in result.output and "bad.json" in result.output

