"""The Python API does what the command does: `toolflow.synthesize` and `toolflow synth` write the same dialogues."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

import toolflow
from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli import main
from toolflow.engine.synth.jsonl import read_records

TOOLS = FIXTURES / "tools.jsonl"
SAMPLES = FIXTURES / "samples.jsonl"


@pytest.fixture
def fake_llm(monkeypatch):
    seen: list[dict] = []

    def factory(options: dict) -> AutoLLM:
        seen.append(options)
        return AutoLLM(fixture_tools(), seed=1)

    monkeypatch.setattr(api_llm, "LLM_FACTORY", factory)
    return seen


def _content(records: list[dict]) -> list[tuple[str, list]]:
    return [(r["id"], r["messages"]) for r in sorted(records, key=lambda r: r["id"])]


def test_synthesize_equals_the_command_and_iterates_its_dialogues(tmp_path, fake_llm) -> None:
    config = toolflow.RunConfig(n=4, out=tmp_path / "api.jsonl", seed=3, concurrency=1)
    run = toolflow.synthesize(config, tools=TOOLS, samples=SAMPLES, llm=toolflow.LLMOptions(model="m-all"))
    dialogues = list(run)
    assert run.summary.kept == len(dialogues) == 4 and run.summary.rejected_total == 0
    assert all(isinstance(d, toolflow.engine.models.Dialogue) for d in dialogues)
    assert fake_llm[0]["model"] == "m-all"
    res = CliRunner().invoke(main, ["synth", "-n", "4", "--out", str(tmp_path / "cli.jsonl"), "--seed", "3",
                                    "--concurrency", "1", "--tools", str(TOOLS), "--samples", str(SAMPLES),
                                    "--model", "m-all", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["kept"] == 4
    assert _content(read_records(tmp_path / "cli.jsonl")) == _content(read_records(config.out))


def test_a_config_out_of_bounds_is_refused_before_anything_runs(tmp_path) -> None:
    with pytest.raises(ValueError, match="max_turns"):
        toolflow.RunConfig(n=1, out=tmp_path / "d.jsonl", max_turns=0)
    with pytest.raises(toolflow.ToolFlowError, match="larger than"):
        toolflow.SampleConfig(min_tools=4, max_tools=2)
