"""`toolflow eval` and `toolflow ablate` through click, with the fakes injected through the hooks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from eval_dialogues import d1, d2, reject, toy_embed, write_jsonl
from fake_llm import ScriptedLLM

from toolflow.engine.api import evaluate as api_eval
from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli import main


def answer(messages, schema):  # noqa: ANN001, ANN201
    """The judge role's scripted answer: NLI pairs about booking are entailed, every dialogue scores 4/3/5/2."""
    if "label" in schema["properties"]:
        return {"label": "entailment" if "HYPOTHESIS:\nBook" in messages[1]["content"] else "neutral"}
    return {"naturalness": 4, "coherence": 3, "helpfulness": 5, "accuracy": 2}


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    seen: list[dict] = []

    def factory(options: dict) -> ScriptedLLM:
        seen.append(options)
        return ScriptedLLM({"judge": [answer] * 20}, models={"judge": "fake-judge"})

    monkeypatch.setattr(api_llm, "LLM_FACTORY", factory)
    monkeypatch.setattr(api_eval, "EMBED_FACTORY", lambda: toy_embed)
    return seen


def run(*args: str):
    return CliRunner().invoke(main, [*args, "--no-progress"])


def test_eval_json_shape_and_values(tmp_path: Path, hooks: list[dict]) -> None:
    path = tmp_path / "d.jsonl"
    write_jsonl(path, [d1(), d2()])
    write_jsonl(tmp_path / "d.rejects.jsonl", [reject(["plan_not_covered: x"])])
    res = run("eval", str(path), "--json", "--sample", "1", "--judge-model", "jm")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    # values worked out in test_eval_metrics.py; EnR: the d1 pair ("Book ...") entailed, the d2 pair not
    assert out["dialogues"] == 2
    assert out["ss"] == pytest.approx((2 / math.sqrt(6) + 1 / math.sqrt(2)) / 2, abs=1e-6)
    assert (out["enr"], out["enr_method"], out["enr_pairs"]) == (0.5, "llm", 2)
    assert out["entropy"] == pytest.approx(3.625) and out["distinct3"] == pytest.approx(0.875)
    assert out["judge"] == {"naturalness": 4.0, "coherence": 3.0, "helpfulness": 5.0, "accuracy": 2.0}
    assert out["judge_judged"] == 1  # --sample 1
    assert out["ours"]["rejects_by_reason"] == {"plan_not_covered": 1} and out["ours"]["reject_rate"] == 1 / 3
    assert hooks[0]["roles"]["judge"]["model"] == "jm"


def test_eval_table_no_judge_and_several_files(tmp_path: Path, hooks: list[dict]) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, [d1()])
    write_jsonl(b, [d2()])
    res = run("eval", str(a), str(b), "--json", "--no-judge")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [o["dialogues"] for o in out] == [1, 1] and all("judge" not in o for o in out)
    table = run("eval", str(a), "--no-judge")
    assert table.exit_code == 0
    assert "Distinct-3" in table.stdout and "entailment share by llm" in table.stdout


def test_eval_bad_input_is_one_line(tmp_path: Path, hooks: list[dict]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(d1()) + "\n{oops\n", encoding="utf-8")
    res = run("eval", str(bad), "--no-judge")
    assert res.exit_code == 1
    assert f"{bad}:2: not JSON" in res.output and "Traceback" not in res.output
    res = run("eval", str(tmp_path / "none.jsonl"), "--no-judge")
    assert res.exit_code == 1 and "no such file" in res.output


def test_a_setting_without_dialogues_has_no_values_and_no_direction() -> None:
    """A setting whose dialogues all errored must not show H = 0 nor count as a direction that reproduces."""
    from toolflow.engine.eval.ablate import SETTINGS, AblationRow, directions, markdown_table, row_metrics
    from toolflow.engine.eval.evaluate import EvalReport
    from toolflow.engine.eval.ours import ours_metrics

    empty = EvalReport(file="x", dialogues=0, ss=None, enr=None, entropy=0.0, distinct3=0.0, ours=ours_metrics([]))
    full = EvalReport(file="y", dialogues=2, ss=0.5, enr=0.25, entropy=3.625, distinct3=0.875,
                      judge={"naturalness": 3.0, "coherence": 4.0, "helpfulness": 2.0, "accuracy": 1.0},
                      ours=ours_metrics([d1(), d2()]))
    assert all(v is None for v in row_metrics(empty).values())
    assert row_metrics(full)["ss"] == 50.0 and row_metrics(full)["enr"] == 25.0  # the paper's x100 scale
    rows = [AblationRow(setting=SETTINGS[0], kept=2, metrics=row_metrics(full)),
            AblationRow(setting=SETTINGS[3], errored=1, metrics=row_metrics(empty))]
    assert {d["verdict"] for d in directions(rows)} == {"n/a"}
    # against a −Both row with values: 3.625 − 3.0 > 0 like the paper's +0.61; 0.875 − 0.9 < 0 unlike +0.1787
    rows[1].metrics = {**row_metrics(full), "entropy": 3.0, "distinct3": 0.9}
    verdicts = {d["metric"]: d["verdict"] for d in directions(rows)}
    assert verdicts["H"] == "reproduces" and verdicts["Distinct-3"] == "does not reproduce"
    assert verdicts["SS"] == "tie: no difference here"
    assert "| −Both | ours | 0 (+1 errored) |" in markdown_table(rows)
