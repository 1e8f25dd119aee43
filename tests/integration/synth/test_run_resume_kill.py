"""A run SIGKILLed mid-way (a real subprocess, tests/support/fixtures/synth/run_worker.py) resumes to exactly
n dialogues, and skips the ids it rejected."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_llm import FIXTURES

from tests.unit.synth.test_run_resume import REJECT_TOOL, SEED, N, ids_in, samples_with
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.jsonl import read_records, rejects_path_for

WORKER = FIXTURES / "run_worker.py"


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


def test_kill_9_with_rejects_then_rerun_skips_rejected_ids(tmp_path):
    out = tmp_path / "d.jsonl"
    rej = rejects_path_for(out)
    proc = worker(out, N, 0.03, 3, "--reject-tool", REJECT_TOOL)
    deadline = time.monotonic() + 60
    while not (ids_in(rej) and ids_in(out) and len(ids_in(out, rej)) >= 4):
        assert proc.poll() is None, f"worker ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    rejected_before = rej.read_text().splitlines()
    done_before = set(ids_in(out, rej))
    assert rejected_before and len(done_before) < N, "the kill should land mid-run, after some rejects"

    rerun = worker(out, N, 0.0, 3, "--reject-tool", REJECT_TOOL)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"skipped={len(done_before)}" in stdout, "rejected ids count as done"
    new = {k: int(v) for k, v in (kv.split("=") for kv in stdout.split())}
    assert new["kept"] + new["rejected"] == N - len(done_before), "only the unfinished indices are redone"

    kept_ids, rej_ids = ids_in(out), ids_in(rej)
    assert len(kept_ids + rej_ids) == len(set(kept_ids + rej_ids)) == N, "nothing written twice"
    assert rej.read_text().splitlines()[:len(rejected_before)] == rejected_before, "earlier rejects untouched"
    expected_rejects = {dialogue_id(SEED, i) for i in samples_with(REJECT_TOOL, N)}
    assert set(rej_ids) == expected_rejects and set(kept_ids) == {dialogue_id(SEED, i) for i in range(N)} - expected_rejects
    for rec in read_records(rej):
        assert rec["messages"] and rec["tools"] and rec["sample"]["tool_ids"], "a full record, not just id + reasons"
        assert any(r.startswith(f"missing_required: {REJECT_TOOL}.") for r in rec["checks"]["failed"])
