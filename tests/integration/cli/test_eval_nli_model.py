"""`eval` and `eval ablate` with a local NLI model (a tiny BERT written by the test; torch and transformers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_dialogues import d1, d2, tiny_nli_model, toy_embed, write_jsonl
from fake_llm import AutoLLM, fixture_tools
from graph_helpers import hashing_graph

from tests.unit.cli.test_eval import run
from toolflow.engine.api import evaluate as api_eval
from toolflow.engine.api import llm as api_llm
from toolflow.engine.eval.metrics import distinct_n, entropy, user_messages
from toolflow.engine.stores import open_store
from toolflow.engine.synth.jsonl import read_records


def test_eval_with_a_local_nli_model_needs_no_llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_llm(options: dict):  # noqa: ANN202
        raise AssertionError("no LLM should be opened")

    monkeypatch.setattr(api_llm, "LLM_FACTORY", no_llm)
    monkeypatch.setattr(api_eval, "EMBED_FACTORY", lambda: toy_embed)
    path = tmp_path / "d.jsonl"
    write_jsonl(path, [d1(), d2()])
    model = tiny_nli_model(tmp_path / "nli", {0: "contradiction", 1: "entailment", 2: "neutral"}, "entailment")
    res = run("eval", str(path), "--json", "--no-judge", "--nli-model", str(model))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["enr"], out["enr_method"], out["enr_model"]) == (1.0, "cross-encoder", str(model))


def test_ablate_runs_four_settings_writes_outputs_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "graph"
    with open_store(str(store)) as s:
        s.write_graph(hashing_graph(fixture_tools()))
    llms: list[AutoLLM] = []

    def factory(options: dict) -> AutoLLM:
        llms.append(AutoLLM(fixture_tools(), seed=1))
        return llms[-1]

    monkeypatch.setattr(api_llm, "LLM_FACTORY", factory)
    monkeypatch.setattr(api_eval, "EMBED_FACTORY", lambda: toy_embed)
    model = tiny_nli_model(tmp_path / "nli", {0: "entailment", 1: "neutral", 2: "contradiction"}, "neutral")
    out = tmp_path / "abl"
    args = ["ablate", "-n", "3", "--seed", "5", "--out", str(out), "--store", str(store), "--no-judge",
            "--nli-model", str(model), "--turns", "2"]
    res = run(*args)
    assert res.exit_code == 0, res.output
    assert "Graph+Plan" in res.stdout and "−Both" in res.stdout and "paper" in res.stdout
    assert llms[0].requests > 0
    table = json.loads((out / "table.json").read_text(encoding="utf-8"))
    assert [r["setting"] for r in table["rows"]] == ["graph_plan", "no_plan", "no_graph", "no_both"]
    strategies = {}
    for row in table["rows"]:
        records = read_records(out / row["setting"] / "dialogues.jsonl")
        rejects = read_records(out / row["setting"] / "dialogues.rejects.jsonl")
        assert len(records) + len(rejects) == 3 and row["kept"] == len(records)
        strategies[row["setting"]] = {r["meta"]["strategy"] for r in records + rejects}
        assert {r["meta"]["plan"] for r in records + rejects} == {row["plan"]}
        users = [u for r in records for u in user_messages(r)]
        if not records:  # the fake's improvised (−Plan) calls invent values: rejected as argument_not_sourced
            assert not row["plan"] and row["metrics"]["entropy"] is None
            continue
        assert abs(row["metrics"]["entropy"] - entropy(users)) < 1e-6
        assert abs(row["metrics"]["distinct3"] - distinct_n(users, 3)) < 1e-6
        assert row["metrics"]["enr"] in (0.0, None)  # the pinned model says neutral; None: no round pairs
        assert row["enr_method"] == "cross-encoder"
    assert any(row["metrics"]["enr"] == 0.0 for row in table["rows"])
    assert strategies == {"graph_plan": {"walk"}, "no_plan": {"walk"}, "no_graph": {"random"},
                          "no_both": {"random"}}
    assert table["rows"][0]["kept"] > 0
    assert table["rows"][0]["paper"]["ss"] == 63.36 and table["rows"][1]["paper"] is None
    md = (out / "table.md").read_text(encoding="utf-8")
    assert md.count("| ours |") == 4 and md.count("| paper |") == 2 and "direction" in md
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = run(*args)  # resumed: every dialogue is already done, nothing is asked of the LLM
    assert again.exit_code == 0, again.output
    assert llms[1].requests == 0
    assert json.loads((out / "table.json").read_text(encoding="utf-8"))["rows"] == table["rows"]
