"""Real MCP servers for the live-tool tests: the test shop (tests/support/mcp_test_server.py) over stdio or
streamable HTTP on 127.0.0.1, and the PyPI servers `mcp-server-time` and `mcp-server-git`."""

from __future__ import annotations

import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SHOP = Path(__file__).resolve().parent / "mcp_test_server.py"
SHOP_STDIO = f"mcp+stdio:{shlex.quote(sys.executable)} {shlex.quote(str(SHOP))}"
TIME_STDIO = f"mcp+stdio:{shlex.quote(shutil.which('mcp-server-time') or 'mcp-server-time')} --local-timezone UTC"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def shop_http(cwd: Path | None = None) -> Iterator[str]:
    """The shop on streamable HTTP at 127.0.0.1:<free port>; yields its `mcp+http://` spec."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SHOP), "--http", str(port)], stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the shop HTTP server exited with {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the shop HTTP server did not listen within 60 s")
        yield f"mcp+http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def git_repo(folder: Path) -> Path:
    """A small git repository with two commits, for mcp-server-git."""
    folder.mkdir(parents=True, exist_ok=True)
    env_args = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    (folder / "README.md").write_text("hello\n")
    subprocess.run(["git", *env_args, "-C", str(folder), "add", "."], check=True)
    subprocess.run(["git", *env_args, "-C", str(folder), "commit", "-qm", "first"], check=True)
    (folder / "README.md").write_text("hello again\n")
    subprocess.run(["git", *env_args, "-C", str(folder), "commit", "-qam", "second"], check=True)
    return folder


def git_stdio(repo: Path) -> str:
    exe = shutil.which("mcp-server-git") or "mcp-server-git"
    return f"mcp+stdio:{shlex.quote(exe)} --repository {shlex.quote(str(repo))}"
