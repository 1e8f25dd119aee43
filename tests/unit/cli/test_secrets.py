"""A password inside a store URI never reaches a CLI error (the store is a closed local port: no server)."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from toolflow.engine.cli import main


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_uri_password_masked_in_cli_errors():
    uri = f"bolt://neo4j:s3cr3t-pw@127.0.0.1:{_closed_port()}"
    for args in (["graph", "stats", "--store", uri], ["graph", "query", "RETURN 1 AS x", "--store", uri],
                 ["graph", "neighbors", "x", "--store", uri]):
        res = cli(*args)
        assert res.exit_code == 1, res.output
        assert "s3cr3t-pw" not in res.output and "Traceback" not in res.output
        assert "bolt://neo4j:***@127.0.0.1" in res.output
