"""Run durability: kill -9 then rerun, truncated last lines, reruns that skip, shards, cross-run dedup."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_llm import FIXTURES, AutoLLM, ScriptedLLM, TransientError, fixture_tools
from rich.console import Console

from toolflow.engine.cli.synth import summary_table
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.job import RunConfig, run_synthesis
from toolflow.engine.synth.jsonl import read_records, rejects_path_for

WORKER = FIXTURES / "run_worker.py"
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


def worker(out: Path, n: int, delay: float, concurrency: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(WORKER), str(out), str(n), str(delay), str(concurrency), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_kill_9_mid_run_then_rerun_gives_exactly_n(tmp_path):
    out = tmp_path / "d.jsonl"
    rej = rejects_path_for(out)
    proc = worker(out, N, 0.03, 3)
    deadline = time.monotonic() + 60
    while len(ids_in(out, rej)) < 3:
        assert proc.poll() is None, f"worker ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    done_before = set(ids_in(out, rej))
    assert 3 <= len(done_before) < N, "the kill should land mid-run"

    rerun = worker(out, N, 0.0, 3)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"skipped={len(done_before)}" in stdout

    ids = ids_in(out, rej)
    assert len(ids) == N and len(set(ids)) == N, "no loss, no duplicates"
    assert set(ids) == {dialogue_id(SEED, i) for i in range(N)}
    assert len(ids_in(out)) == N, "the fake's dialogues all pass the checks"
    assert done_before <= set(ids)
    for line in out.read_text().splitlines():
        json.loads(line)  # every line is whole JSON

    again = worker(out, N, 0.0, 3)
    stdout, _ = again.communicate(timeout=60)
    assert f"skipped={N}" in stdout and "requests=0" in stdout
    assert len(ids_in(out, rej)) == N


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
