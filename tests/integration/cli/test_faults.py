"""Secrets never printed by the installed CLI and its tracebacks, and a password inside a real Neo4j URI is
used, not shown (issue 12)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import cli, closed_port
from graph_helpers import EXAMPLE_TOOLS, example_tools, hashing_graph

TOOLFLOW = Path(sys.executable).with_name("toolflow")


@pytest.fixture(scope="module")
def example_graph():
    return hashing_graph(example_tools())




def test_uri_password_masked_in_the_installed_cli_and_tracebacks(tmp_path):
    uri = f"bolt://neo4j:s3cr3t-pw@127.0.0.1:{closed_port()}"
    proc = subprocess.run([str(TOOLFLOW), "graph", "stats", "--store", uri], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "s3cr3t-pw" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # one line, not a traceback
    code = ("from toolflow.engine.secrets import install_excepthook; install_excepthook(); "
            f"raise ConnectionError('cannot reach {uri}')")
    tb = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Traceback" in tb.stderr and "s3cr3t-pw" not in tb.stderr and ":***@" in tb.stderr


def test_credentials_inside_the_uri_are_used_not_shown(neo4j_uri, example_graph, tmp_path):
    with_creds = neo4j_uri.replace("bolt://", "bolt://neo4j:s3cr3t-pw@")
    res = cli("graph", "build", str(EXAMPLE_TOOLS), "--embedder", "hashing", "--cache-dir", str(tmp_path),
              "--store", with_creds, "--json")
    assert res.exit_code == 0, res.output
    assert "s3cr3t-pw" not in res.output and json.loads(res.stdout)["store"].startswith("bolt://neo4j:***@")
