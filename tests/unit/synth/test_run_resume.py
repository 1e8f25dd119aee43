"""Run durability: kill -9 then rerun, truncated last lines, reruns that skip, shards, cross-run dedup."""

import asyncio
import json
from pathlib import Path

import pytest
from fake_llm import FIXTURES, AutoLLM, ScriptedLLM, TransientError, fixture_tools
from rich.console import Console

from toolflow.engine.api.tables import summary_table
from toolflow.engine.models import Dialogue
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.job import RunConfig, run_synthesis
from toolflow.engine.synth.jsonl import read_records, rejects_path_for

N = 12
SEED = 11  # the worker's seed


def source():
    return FileSampleSource.from_paths(FIXTURES / "tools.jsonl", FIXTURES / "samples.jsonl")


def ids_in(*paths: Path) -> list[str]:
    out = []
    for p in paths:
        if p.exists():
            out += [json.loads(line)["id"] for line in p.read_text().splitlines() if line.strip()]
    return out


def run(llm, **cfg):
    return asyncio.run(run_synthesis(llm, source(), RunConfig(**cfg), show_progress=False))


def test_truncated_last_line_is_repaired_without_losing_earlier_lines(tmp_path):
    out = tmp_path / "d.jsonl"
    run(AutoLLM(fixture_tools()), n=3, out=out, seed=SEED)
    good_lines = out.read_text().splitlines()
    kept_before = len(good_lines)
    with open(out, "a") as f:
        f.write('{"id": "dlg-crash", "messages": [{"role": "us')  # a crash mid-write
    run(AutoLLM(fixture_tools()), n=5, out=out, seed=SEED)
    lines = out.read_text().splitlines()
    assert lines[:kept_before] == good_lines
    ids = ids_in(out, rejects_path_for(out))
    assert "dlg-crash" not in out.read_text()
    assert len(ids) == 5 and len(set(ids)) == 5


def test_complete_last_line_without_newline_is_kept(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": "a"}\n{"id": "b"}')
    assert [r["id"] for r in read_records(p)] == ["a", "b"]
    assert p.read_text() == '{"id": "a"}\n{"id": "b"}\n'


def test_rerun_of_finished_job_makes_no_llm_calls(tmp_path):
    out = tmp_path / "d.jsonl"
    first = run(AutoLLM(fixture_tools()), n=4, out=out)
    assert first.kept + first.rejected_total == 4
    llm = ScriptedLLM({}, models=AutoLLM(fixture_tools()).models)  # any call would raise: the script is empty
    second = run(llm, n=4, out=out)
    assert (second.skipped, second.kept, second.rejected_total) == (4, 0, 0) and llm.calls == []


def test_shards_are_disjoint_and_cover_the_job(tmp_path):
    seen: dict[str, int] = {}
    for i in range(3):
        out = tmp_path / f"d.{i}.jsonl"
        summary = run(AutoLLM(fixture_tools()), n=10, out=out, shard=(i, 3))
        assert summary.in_shard == len(range(i, 10, 3))
        for rec in read_records(out) + read_records(rejects_path_for(out)):
            assert rec["meta"]["index"] % 3 == i
            assert rec["id"] not in seen
            seen[rec["id"]] = i
    assert set(seen) == {dialogue_id(0, k) for k in range(10)}


def test_shards_can_share_one_output_file(tmp_path):
    out = tmp_path / "d.jsonl"
    for i in range(2):
        run(AutoLLM(fixture_tools()), n=6, out=out, shard=(i, 2))
    ids = ids_in(out, rejects_path_for(out))
    assert sorted(ids) == sorted(dialogue_id(0, k) for k in range(6))


def test_transient_error_then_success_is_retried(tmp_path):
    out = tmp_path / "d.jsonl"
    summary = run(AutoLLM(fixture_tools(), fail_first=1), n=1, out=out, retries=1)
    assert summary.kept == 1 and summary.errors == {}


def test_errored_dialogue_is_not_written_and_rerun_retries_it(tmp_path):
    out = tmp_path / "d.jsonl"
    summary = run(AutoLLM(fixture_tools(), fail_first=2), n=1, out=out, retries=1)
    assert summary.errors == {TransientError.__name__: 1} and summary.kept == 0
    assert ids_in(out, rejects_path_for(out)) == []
    summary = run(AutoLLM(fixture_tools()), n=1, out=out)
    assert summary.kept == 1 and ids_in(out) == [dialogue_id(0, 0)]


class SameWordsLLM(AutoLLM):
    """Every user message is the same: all dialogues after the first are near-duplicates."""

    def _sentence(self) -> str:
        return "garden trip budget weekend family concert museum river"


def test_near_duplicates_rejected_across_the_run_and_after_resume(tmp_path):
    out = tmp_path / "d.jsonl"
    tools = fixture_tools()
    src = FileSampleSource(tools, [s for s in source().samples(12, 0, "x") if len(s.tool_ids) == 2][:1] * 3)

    def go(n):
        return asyncio.run(run_synthesis(SameWordsLLM(tools), src, RunConfig(n=n, out=out, concurrency=1),
                                         show_progress=False))

    assert go(1).kept == 1
    second = go(3)
    assert second.kept == 0 and second.rejected == {"near_duplicate": 2}
    rejected = read_records(rejects_path_for(out))
    assert all(f"near_duplicate: of {dialogue_id(0, 0)}" in r["checks"]["failed"] for r in rejected)


@pytest.mark.parametrize("bad", [(1, 1), (-1, 2), (0, 0)])
def test_bad_shard_is_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        RunConfig(n=1, out=tmp_path / "d.jsonl", shard=bad)


def test_summary_counts_where_plans_came_from(tmp_path):
    summary = run(AutoLLM(fixture_tools(), seed=5), n=4, out=tmp_path / "d.jsonl", seed=3, concurrency=2)
    assert summary.plan_sources == {"llm": 4}
    console = Console(record=True, width=120)
    console.print(summary_table(summary))
    assert "plan from llm" in console.export_text()


# ---- runs with rejected dialogues ------------------------------------------------------------------
# `convert_currency` is in samples 3, 4, 5, 9, 10, 11 of the fixture: the fake calls it without its
# required arguments, so exactly those dialogues are rejected (missing_required), on every run.
REJECT_TOOL = "convert_currency"


def samples_with(tool_name: str, n: int) -> set[int]:
    by_id = {t.id: t.name for t in fixture_tools()}
    return {i for i, s in enumerate(source().samples(n, 0, "x")) if tool_name in {by_id[t] for t in s.tool_ids}}


def test_rejects_file_holds_full_records(tmp_path):
    out = tmp_path / "d.jsonl"
    summary = run(AutoLLM(fixture_tools(), bad_args_for={REJECT_TOOL}), n=6, out=out, seed=SEED)
    rejected_idx = samples_with(REJECT_TOOL, 6)
    assert (summary.kept, summary.rejected_total) == (6 - len(rejected_idx), len(rejected_idx))
    assert summary.rejected["missing_required"] == len(rejected_idx)
    samples = list(source().samples(6, 0, "x"))
    records = read_records(rejects_path_for(out))
    assert sorted(r["meta"]["index"] for r in records) == sorted(rejected_idx)
    for rec in records:
        d = Dialogue.model_validate(rec)  # the same record type as a kept dialogue
        sample = samples[d.meta.index]
        assert d.id == dialogue_id(SEED, d.meta.index)
        assert d.sample == sample
        names = {t.id: t.name for t in fixture_tools()}
        assert [t["function"]["name"] for t in d.tools] == [names[i] for i in sample.tool_ids]
        assert all(set(t["function"]) >= {"name", "description", "parameters"} for t in d.tools)
        assert d.messages[0]["role"] == "system" and d.messages[1]["role"] == "user"
        bad_calls = [c for m in d.messages for c in m.get("tool_calls") or []
                     if c["function"]["name"] == REJECT_TOOL]
        assert bad_calls and json.loads(bad_calls[0]["function"]["arguments"]) == {}
        assert d.checks.passed is False
        assert f"missing_required: {REJECT_TOOL}.amount" in d.checks.failed  # the reason, with its detail
        assert d.plan is not None and d.meta.plan_source == "llm"
        assert d.meta.seed == SEED and d.meta.models["assistant"] == "auto-assistant"
        assert d.meta.tokens["assistant"]["requests"] >= 2  # the call was re-asked before giving up
        assert d.meta.stopped == "invalid_call"


def test_rerun_after_rejects_makes_no_llm_calls(tmp_path):
    out = tmp_path / "d.jsonl"
    first = run(AutoLLM(fixture_tools(), bad_args_for={REJECT_TOOL}), n=6, out=out)
    assert first.rejected_total == len(samples_with(REJECT_TOOL, 6)) > 0 and first.kept > 0
    before = (out.read_bytes(), rejects_path_for(out).read_bytes())
    llm = ScriptedLLM({}, models=AutoLLM(fixture_tools()).models)  # any call would raise: the script is empty
    second = run(llm, n=6, out=out)
    assert (second.skipped, second.kept, second.rejected_total, second.errors) == (6, 0, 0, {})
    assert llm.calls == []
    assert (out.read_bytes(), rejects_path_for(out).read_bytes()) == before


def test_sample_with_unknown_tool_is_rejected_and_the_run_goes_on(tmp_path):
    out = tmp_path / "d.jsonl"
    tools = fixture_tools()
    good = list(source().samples(3, 0, "x"))
    broken = good[1].model_copy(update={"id": "smp-broken", "tool_ids": [good[1].tool_ids[0], "fx:nowhere/teleport"]})
    src = FileSampleSource(tools, [good[0], broken, good[2]])
    summary = asyncio.run(run_synthesis(AutoLLM(tools), src, RunConfig(n=3, out=out, concurrency=1),
                                        show_progress=False))
    assert (summary.kept, summary.rejected_total, summary.errors) == (2, 1, {})
    assert summary.rejected == {"sample_tools_missing": 1}
    assert sorted(r["meta"]["index"] for r in read_records(out)) == [0, 2]
    [rec] = read_records(rejects_path_for(out))
    assert rec["id"] == dialogue_id(0, 1) and rec["sample"]["id"] == "smp-broken"
    assert rec["sample"]["tool_ids"] == broken.tool_ids
    [reason] = rec["checks"]["failed"]
    assert reason.startswith("sample_tools_missing:") and "fx:nowhere/teleport" in reason
    assert rec["checks"]["passed"] is False and rec["meta"]["index"] == 1
    again = asyncio.run(run_synthesis(ScriptedLLM({}, models=AutoLLM(fixture_tools()).models), src, RunConfig(n=3, out=out), show_progress=False))
    assert (again.skipped, again.errors) == (3, {}), "the reject is final: a rerun does not retry it"
