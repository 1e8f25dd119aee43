"""A private Ray head for tests: started on 127.0.0.1 only, stopped by its own pid.

``ray start --head --block`` runs in the foreground and ends the processes it started when it is
terminated, so the fixture stops exactly this head (never ``ray stop``, which ends every Ray process on
the machine by name). ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray keep a single-machine cluster on
loopback: without it Ray swaps 127.0.0.1 for the first routable address and binds its gRPC servers to
all interfaces.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

#: Loopback, no usage report, and a token of this test session (never the shared ~/.ray/auth_token).
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[psutil.Process]:
    """`pid` and every process below it (those still running)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def listening(pids: set[int]) -> list[str]:
    """The local addresses the processes `pids` listen on (TCP), from `ss`."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines()
            if any(int(p) in pids for p in re.findall(r"pid=(\d+)", line))]


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


class RayHead:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, temp_dir: str) -> None:
        self.proc, self.port, self.temp_dir = proc, port, temp_dir

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pids(self) -> set[int]:
        return {p.pid for p in tree(self.proc.pid)}


def _wait_ready(head: RayHead, timeout: float) -> None:
    """Until the raylet of this head has started a worker pool (its session folder names the raylet's socket)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if head.proc.poll() is not None:
            raise RuntimeError(f"ray start exited with {head.proc.returncode}")
        names = {p.name() for p in tree(head.proc.pid) if p.is_running()}
        if "raylet" in names and "gcs_server" in names and any(Path(head.temp_dir).glob("session_*/sockets/raylet")):
            return
        time.sleep(0.5)
    raise TimeoutError("the Ray head did not come up")


@contextmanager
def ray_head(cpus: int = 2, timeout: float = 180.0) -> Iterator[RayHead]:
    """A head on 127.0.0.1 with `cpus` CPUs, ~200 MB object store and a private temp folder."""
    ray_bin = Path(sys.executable).with_name("ray")
    temp_dir = tempfile.mkdtemp(prefix="tfray", dir="/tmp")  # short: Ray's unix socket paths must fit 107 bytes
    port = free_port()
    cmd = [str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
           f"--num-cpus={cpus}", f"--object-store-memory={200 * 1024**2}", "--include-dashboard=false",
           f"--temp-dir={temp_dir}", "--disable-usage-stats"]
    proc = subprocess.Popen(cmd, env={**os.environ, **LOOPBACK_ENV}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    head = RayHead(proc, port, temp_dir)
    started: dict[int, psutil.Process] = {}
    try:
        _wait_ready(head, timeout)
        yield head
    finally:
        started = {p.pid: p for p in tree(proc.pid)}
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        _, alive = psutil.wait_procs(list(started.values()), timeout=20)
        for p in alive:  # what this head started and did not end: by pid, nothing else
            p.kill()
        psutil.wait_procs(alive, timeout=10)
        shutil.rmtree(temp_dir, ignore_errors=True)
