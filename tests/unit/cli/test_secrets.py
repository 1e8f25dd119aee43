"""A password inside a store URI never reaches a CLI error (the store is a closed local port: no server)."""

from __future__ import annotations

from cli_helpers import cli, closed_port


def test_uri_password_masked_in_cli_errors():
    uri = f"bolt://neo4j:s3cr3t-pw@127.0.0.1:{closed_port()}"
    for args in (["graph", "stats", "--store", uri], ["graph", "query", "RETURN 1 AS x", "--store", uri],
                 ["graph", "neighbors", "x", "--store", uri]):
        res = cli(*args)
        assert res.exit_code == 1, res.output
        assert "s3cr3t-pw" not in res.output and "Traceback" not in res.output
        assert "bolt://neo4j:***@127.0.0.1" in res.output
