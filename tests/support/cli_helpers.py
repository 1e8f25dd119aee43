"""Small helpers for tests that drive the CLI in-process: invoke a command, find a port nothing listens on."""

from __future__ import annotations

import socket

from click.testing import CliRunner, Result

from toolflow.engine.cli import main


def cli(*args: str) -> Result:
    """`toolflow ARGS…` through click's runner (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, list(args))


def closed_port() -> int:
    """A loopback port that was free a moment ago: a connection to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
