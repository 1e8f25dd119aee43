"""What a run spends: the token budget, the --estimate pilot, the cost line and the planner gate."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

from toolflow.engine.api import llm as api_llm
from toolflow.engine.api.synth import PILOT_DIALOGUES
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.synth.job import RunConfig, run_synthesis
from toolflow.engine.synth.jsonl import read_records

TOOLS = str(FIXTURES / "tools.jsonl")
SAMPLES = str(FIXTURES / "samples.jsonl")


def invoke(monkeypatch, *args: str, llm_cls=AutoLLM):
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: llm_cls(fixture_tools()))
    return CliRunner().invoke(synth_cmd, [*args, "--no-progress"])


def test_budget_stops_between_dialogues_and_a_rerun_finishes_the_job(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    args = ["-n", "8", "--out", str(out), "--tools", TOOLS, "--samples", SAMPLES, "--concurrency", "1"]
    first = invoke(monkeypatch, *args, "--budget-tokens", "2000")
    assert first.exit_code == 0, first.output
    done = read_records(out)
    assert 0 < len(done) < 8  # stopped early …
    assert all(r["checks"]["passed"] and r["messages"][-1]["role"] == "assistant" for r in done)  # … between dialogues
    assert "token budget spent" in first.stderr
    spent = sum(u["prompt_tokens"] + u["completion_tokens"] for r in done for u in r["meta"]["tokens"].values())
    one = spent / len(done)
    assert spent >= 2000 - one and spent < 2000 + one  # at most the dialogue that crossed the line
    second = invoke(monkeypatch, *args)
    assert second.exit_code == 0
    ids = [r["id"] for r in read_records(out)]
    assert len(ids) == 8 == len(set(ids))


def test_estimate_runs_a_pilot_and_projects_to_n(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    result = invoke(monkeypatch, "-n", "40", "--out", str(out), "--tools", TOOLS, "--samples", SAMPLES,
                    "--estimate", "--price", "auto-planner=1/2", "--price", "auto-user=1/2",
                    "--price", "auto-assistant=1/2", "--price", "auto-tool=1/2")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pilot_dialogues"] == PILOT_DIALOGUES and report["n"] == 40
    # AutoLLM spends 100 prompt + 20 completion tokens per request: the projection is the pilot's mean × n
    per_dialogue = report["projected_tokens"] / 40
    assert per_dialogue % 120 == 0 and per_dialogue >= 120 * 4
    assert report["projected_cost_usd"] > 0
    assert not out.exists()  # the pilot writes to a temporary folder, never to --out


def test_cost_line_needs_a_price_for_every_model_used(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    base = ["-n", "2", "--out", str(out), "--tools", TOOLS, "--samples", SAMPLES]
    priced = invoke(monkeypatch, *base, "--price", "auto-planner=1/2", "--price", "auto-user=1/2",
                    "--price", "auto-assistant=1/2", "--price", "auto-tool=1/2")
    assert "cost (USD)" in priced.stderr and "per kept" in priced.stderr
    partial = invoke(monkeypatch, *["-n", "2", "--out", str(tmp_path / "e.jsonl"), "--tools", TOOLS, "--samples",
                                    SAMPLES], "--price", "auto-tool=1/2")
    assert "no price for a model used" in partial.stderr
    bad = invoke(monkeypatch, *base, "--price", "m=cheap")
    assert bad.exit_code == 2 and "MODEL=IN/OUT" in bad.output


class FailingPlanner(AutoLLM):
    """A planner whose plans never use the sample's tools (invalid every time)."""

    def _answer(self, role, messages):
        if role == "planner":
            return {"scenario": "a person who only chats", "turns": [
                {"kind": "chitchat", "intent": "say hello to the assistant", "tools": []}]}
        return super()._answer(role, messages)


def test_planner_gate_stops_paying_for_a_planner_that_keeps_failing(tmp_path):
    source = FileSampleSource.from_paths(FIXTURES / "tools.jsonl", FIXTURES / "samples.jsonl")

    def run(gate: int):
        llm = FailingPlanner(fixture_tools())
        calls: list[str] = []
        llm.on_call = calls.append
        config = RunConfig(n=10, out=tmp_path / f"g{gate}.jsonl", seed=1, concurrency=1, planner_gate=gate)
        summary = asyncio.run(run_synthesis(llm, source, config, show_progress=False))
        return summary, calls

    open_summary, open_calls = run(0)  # 0: always ask (the behaviour before the gate)
    gated_summary, gated_calls = run(4)
    assert gated_summary.planner_skipped == 6 and open_summary.planner_skipped == 0
    assert gated_calls.count("planner") < open_calls.count("planner")
    records = read_records(tmp_path / "g4.jsonl") + read_records(tmp_path / "g4.rejects.jsonl")
    skipped = [r for r in records if (r["meta"].get("planner_problem") or "").startswith("planner_skipped")]
    assert len(skipped) == 6 and all(r["meta"]["plan_source"] == "skeleton" for r in skipped)
    assert gated_summary.usage.total().tokens < open_summary.usage.total().tokens


def test_workers_share_one_job_and_output(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    args = ["-n", "10", "--out", str(out), "--tools", TOOLS, "--samples", SAMPLES, "--seed", "4"]
    result = invoke(monkeypatch, *args, "--workers", "2", "-n", "7")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["kept"] + report["rejected"] == 7
    pids = {r["meta"]["index"] for r in read_records(out)}
    assert pids == set(range(7))
    again = invoke(monkeypatch, *args, "--workers", "3")  # resume the same job with more workers
    assert again.exit_code == 0
    ids = [r["id"] for r in read_records(out)]
    assert len(ids) == 10 == len(set(ids))
    single = tmp_path / "single.jsonl"
    assert invoke(monkeypatch, "-n", "10", "--out", str(single), "--tools", TOOLS, "--samples", SAMPLES, "--seed",
                  "4").exit_code == 0
    assert {r["id"] for r in read_records(single)} == set(ids)  # the same job a single process writes


def test_workers_split_the_token_budget(tmp_path, monkeypatch):
    """Each of N workers gets budget/N: a 2-worker run spends about the budget, not about twice it."""
    budget = 6000
    args = ["-n", "12", "--tools", TOOLS, "--samples", SAMPLES, "--concurrency", "1", "--budget-tokens", str(budget)]
    single = tmp_path / "single.jsonl"
    assert invoke(monkeypatch, *args, "--out", str(single)).exit_code == 0
    out = tmp_path / "d.jsonl"
    result = invoke(monkeypatch, *args, "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output

    def spent(path):
        done = read_records(path)
        return sum(u["prompt_tokens"] + u["completion_tokens"] for r in done for u in r["meta"]["tokens"].values()), done

    one_spent, one_done = spent(single)
    two_spent, two_done = spent(out)
    dialogue = max(one_spent / len(one_done), 1)
    assert 0 < len(one_done) < 12 and 0 < len(two_done) < 12  # both stopped on the budget
    # each worker may finish the dialogue that crossed its share: at most one dialogue each over the budget
    assert two_spent <= budget + 2 * dialogue, (two_spent, budget, dialogue)
    assert two_spent < 1.5 * one_spent
