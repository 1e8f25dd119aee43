"""`toolflow synth --executor ray` against a real Ray head on 127.0.0.1 and a deterministic LLM server.

Every run is the real CLI in its own process (the driver), its dialogues played by Ray actors that
talk HTTP to the dialogue server; the local executor over the same server is the reference.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytest.importorskip("ray")

from fake_dialogue_server import DialogueServerProcess  # noqa: E402
from fake_llm import FIXTURES  # noqa: E402
from ray_cluster import LOOPBACK_ENV, is_loopback, listening, ray_head, tree  # noqa: E402

from toolflow.engine.seeds import dialogue_id  # noqa: E402
from toolflow.engine.synth.jsonl import read_records  # noqa: E402

N = 12  # the fixture's samples: distinct tool sets, so no near-duplicate depends on finishing order
SEED = 5


@pytest.fixture(scope="module")
def head():
    with ray_head() as h:
        yield h


@pytest.fixture(scope="module")
def server():
    with DialogueServerProcess(delay=0.05) as srv:
        yield srv


def env_for(server) -> dict[str, str]:
    return {**os.environ, **LOOPBACK_ENV, "TOOLFLOW_CACHE_DIR": "off", "TOOLFLOW_NATIVE_TOOLS": "off",
            "TOOLFLOW_STRUCTURED_MODE": "json_schema", "TOOLFLOW_API_KEY": "sk-test", "TOOLFLOW_BASE_URL": server.base_url,
            "TOOLFLOW_MODEL": "fake"}


def command(out: Path, *extra: str) -> list[str]:
    return [str(Path(sys.executable).with_name("toolflow")), "synth", "-n", str(N), "--out", str(out), "--seed", str(SEED),
            "--tools", str(FIXTURES / "tools.jsonl"), "--samples", str(FIXTURES / "samples.jsonl"), "--no-progress",
            *extra]


def ray_args(head, workers: int, concurrency: int = 2) -> list[str]:
    return ["--executor", "ray", "--ray-address", head.address, "--workers", str(workers),
            "--concurrency", str(concurrency)]


def synth(server, out: Path, *extra: str, check: bool = True) -> tuple[dict, str]:
    done = subprocess.run(command(out, *extra), env=env_for(server), capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def by_id(path: Path) -> dict[str, dict]:
    records = read_records(path)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a dialogue was written twice"
    return {r["id"]: r for r in records}


@pytest.fixture(scope="module")
def local_run(server, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("local") / "d.jsonl"
    report, _ = synth(server, out, "--concurrency", "2")
    assert report["kept"] > N // 2  # the reference keeps most dialogues, so "same output" compares real ones
    return by_id(out)


def test_cli_refuses_several_endpoints_without_ray(tmp_path):
    done = subprocess.run([*command(tmp_path / "d.jsonl"), "--base-url", "http://a/v1", "--base-url", "http://b/v1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--executor ray" in done.stderr
    assert not (tmp_path / "d.jsonl").exists()


def test_an_address_nobody_answers_is_one_line_and_writes_nothing(server, tmp_path):
    with socket.socket() as s:  # a port bound and never listened on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        done = subprocess.run(command(tmp_path / "d.jsonl", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"),
                              env=env_for(server), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (f"Error: --executor ray: cannot run on 127.0.0.1:{port}: nothing "
                                                   f"answers at 127.0.0.1:{port} (Connection refused)")
    assert not (tmp_path / "d.jsonl").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_gives_the_local_dialogues(head, server, local_run, tmp_path, workers):
    out = tmp_path / "d.jsonl"
    report, stderr = synth(server, out, *ray_args(head, workers))
    assert f"{workers} worker(s) ready" in stderr and "synth run" in stderr  # same end-of-run table
    assert report["kept"] == len(local_run) and report["errored"] == 0
    assert by_id(out) == local_run  # ids and content, whatever the number of workers


def test_the_head_and_its_workers_listen_on_loopback_only(head, server, tmp_path):
    synth(server, tmp_path / "d.jsonl", *ray_args(head, 2))  # workers started: their servers are counted too
    addresses = listening(head.pids())
    assert addresses, "no listening socket found for the head's processes"
    assert [a for a in addresses if not is_loopback(a)] == []


def _start(server, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(command(out, *extra), env=env_for(server), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines while the run was going")


def test_a_killed_worker_loses_nothing_and_writes_nothing_twice(head, server, local_run, tmp_path):
    out = tmp_path / "d.jsonl"
    proc = _start(server, out, *ray_args(head, 2))
    assert proc.stderr is not None
    while "worker(s) ready" not in (line := proc.stderr.readline()):
        assert line, "the driver ended before its workers were ready"
    pids = [int(p) for p in re.search(r"pids ([\d, ]+)\)", line).group(1).split(", ")]
    _wait_for_lines(out, 1, proc)
    assert read_records(out) and len(read_records(out)) < N, "the run ended before a worker could be killed"
    os.kill(pids[0], signal.SIGKILL)  # a worker of the test's own head
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    assert "worker 0 died" in stderr
    assert by_id(out) == local_run  # every dialogue once, the same as the local run


def test_a_killed_driver_resumes_to_the_same_output(head, server, local_run, tmp_path):
    out = tmp_path / "d.jsonl"
    proc = _start(server, out, *ray_args(head, 2))
    _wait_for_lines(out, 2, proc)
    proc.kill()  # SIGKILL: no cleanup in the driver; its actors end with their owner
    proc.communicate(timeout=60)
    before = len(read_records(out))
    assert 2 <= before < N
    report, _ = synth(server, out, *ray_args(head, 2))
    assert report["skipped"] == before and report["kept"] == N - before
    assert by_id(out) == local_run


def test_the_token_budget_holds_across_the_cluster(head, server, local_run, tmp_path):
    out = tmp_path / "d.jsonl"
    one = sum(u["prompt_tokens"] + u["completion_tokens"] for u in next(iter(local_run.values()))["meta"]["tokens"].values())
    report, stderr = synth(server, out, *ray_args(head, 2, concurrency=2), "--budget-tokens", str(one))
    finished = report["kept"] + report["rejected"]
    assert 1 <= finished <= 4 < N  # those in flight when the budget is reached finish; no new one starts
    assert "token budget spent" in stderr
    again, _ = synth(server, out, *ray_args(head, 2))  # a rerun without the budget finishes the job
    assert again["skipped"] == finished and by_id(out) == local_run
    assert set(local_run) == {dialogue_id(SEED, i) for i in range(N)}


def test_ctrl_c_stops_the_cluster_work_and_the_rerun_resumes(head, server, local_run, tmp_path):
    out = tmp_path / "d.jsonl"
    proc = _start(server, out, *ray_args(head, 2))
    _wait_for_lines(out, 2, proc)
    assert any("SynthWorker" in " ".join(p.cmdline()) for p in tree_of(head))  # the workers are there to stop
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and stderr.strip().endswith("Aborted!")
    before = len(read_records(out))
    assert before < N
    deadline = time.monotonic() + 30  # the driver's actors end with it: no worker keeps playing dialogues
    while any("SynthWorker" in " ".join(p.cmdline()) for p in tree_of(head)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any("SynthWorker" in " ".join(p.cmdline()) for p in tree_of(head))
    report, _ = synth(server, out, *ray_args(head, 2))
    assert report["skipped"] == before and by_id(out) == local_run


def tree_of(head) -> list:
    procs = []
    for p in tree(head.proc.pid):
        with contextlib.suppress(psutil.Error):
            p.cmdline()
            procs.append(p)
    return procs
