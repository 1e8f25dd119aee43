"""Concurrent and killed runs (issue 20): workers die with their parent, one writer per resolved output.

- kill -9 of the parent of ``synth --workers 2`` used to leave both workers writing; a resume then ran beside
  them and wrote some dialogue ids twice;
- a resume is refused while a worker of an earlier run still holds its lock;
- the writer lock was keyed on the path as given: a symlinked ``--out`` let two runs write the same file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FIXTURES, AutoLLM, fixture_tools

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.engine.synth.guard import JobConflict, JobLock
from toolflow.engine.synth.jsonl import read_records

TESTS = Path(__file__).resolve().parents[2] / "support"
DRIVER = TESTS / "runs_driver.py"
TOOLS = str(FIXTURES / "tools.jsonl")
SAMPLES = str(FIXTURES / "samples.jsonl")


def _alive(pid: int) -> bool:
    """Any thread still running (a zombie nobody reaped has ended). Every thread counts: a killed worker's main
    thread can be a zombie while another of its threads is still exiting and holding its open files."""
    states = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return False
    return any(state not in ("Z", "X") for state in states)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _wait(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _synth(*args: str):
    return CliRunner().invoke(synth_cmd, [*args, "--tools", TOOLS, "--samples", SAMPLES, "--no-progress"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_killed_parent_takes_its_workers_along_and_a_resume_writes_each_id_once(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    parent = subprocess.Popen([sys.executable, str(DRIVER), "synth", str(out), "12", "2", "0.15"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: list[int] = []
    try:
        def forked_and_writing() -> bool:
            workers[:] = [c for c in _children(parent.pid) if _alive(c)] if parent.poll() is None else workers
            return len(workers) == 2 and len(read_records(out)) >= 1
        _wait(forked_and_writing, 120, "two workers writing")
        os.kill(parent.pid, signal.SIGKILL)  # the parent only: its workers must follow by themselves
        parent.wait(30)
        _wait(lambda: not any(_alive(w) for w in workers), 5, f"workers {workers} to end with their parent")
    finally:
        for pid in [*workers, parent.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    written = len(read_records(out))
    assert written < 12  # killed mid-run, or the test proves nothing
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(fixture_tools()))
    resumed = _synth("-n", "12", "--out", str(out), "--workers", "2")
    assert resumed.exit_code == 0, resumed.output
    time.sleep(0.5)  # a surviving worker of the killed run would append here
    ids = [r["id"] for r in read_records(out) + read_records(out.with_name("d.rejects.jsonl"))]
    assert len(ids) == len(set(ids)) == 12, sorted(ids)


def test_resume_is_refused_while_a_worker_of_an_earlier_run_lives(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    worker = str(tmp_path / "d.jsonl.lock.worker1")  # worker 1 of an earlier run on d.jsonl
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from filelock import FileLock; "
                               "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(60)", worker],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(fixture_tools()))
        refused = _synth("-n", "4", "--out", str(out))
        assert refused.exit_code != 0 and not out.exists()
        assert "worker(s) of an earlier run are still writing to" in refused.output, refused.output
        assert "Traceback" not in refused.output
    finally:
        holder.kill()
        holder.wait()
    after = _synth("-n", "4", "--out", str(out))  # the worker is gone: the run goes ahead
    assert after.exit_code == 0, after.output
    assert len(read_records(out)) + len(read_records(out.with_name("d.rejects.jsonl"))) == 4


def test_a_symlinked_out_is_the_same_output(tmp_path, monkeypatch):
    out = tmp_path / "d.jsonl"
    out.touch()
    link = tmp_path / "link.jsonl"
    link.symlink_to(out)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from toolflow.engine.synth.guard import "
                               "JobLock; lock = JobLock(__import__('pathlib').Path(sys.argv[1])).__enter__(); "
                               "print('held', flush=True); time.sleep(60)", str(out)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(JobConflict, match="another run is writing to"):
            JobLock(link).__enter__()
        monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(fixture_tools()))
        refused = _synth("-n", "2", "--out", str(link))
        assert refused.exit_code != 0 and "another run is writing to" in refused.output, refused.output
        assert out.read_text() == ""
    finally:
        holder.kill()
        holder.wait()
