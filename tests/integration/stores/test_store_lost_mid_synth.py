"""Neo4j gone in the middle of `synth` (issue 20): one line, nothing lost, and the run resumes.

Between the driver and a real Neo4j sits a TCP relay on 127.0.0.1 that the test closes mid-run, dropping
every connection and refusing new ones: to the client exactly a stopped server. It used to end in a
`ServiceUnavailable` traceback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from fake_llm import AutoLLM
from graph_helpers import example_tools, hashing_graph

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.engine.stores import open_store
from toolflow.engine.synth.jsonl import read_records

pytestmark = pytest.mark.neo4j


class Relay:
    """Forwards 127.0.0.1:<port> to `target`; `stop()` drops every connection and closes the port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.stopped.is_set():
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.stopped.set()
        with contextlib.suppress(OSError):  # wakes the accept() in progress (close alone leaves it listening)
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_neo4j_stopped_mid_synth_is_one_line_and_the_run_resumes(neo4j_uri, tmp_path, monkeypatch):
    tools = example_tools()
    with open_store(neo4j_uri) as store:
        store.write_graph(hashing_graph(tools))
    where = urlsplit(neo4j_uri)
    relay = Relay((where.hostname or "127.0.0.1", where.port or 7687))
    calls = {"n": 0}

    def on_call(role: str) -> None:
        calls["n"] += 1
        if calls["n"] == 12:  # a few dialogues in: the server goes away
            relay.stop()

    out = tmp_path / "d.jsonl"
    args = ["-n", "8", "--out", str(out), "--seed", "5", "--concurrency", "1", "--no-progress"]
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(tools, on_call=on_call))
    try:
        res = CliRunner().invoke(synth_cmd, [*args, "--store", f"bolt://127.0.0.1:{relay.port}"])
    finally:
        relay.stop()
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), (calls, res.output)
    assert "Traceback" not in res.output and "ServiceUnavailable(" not in res.output
    errors = [line for line in res.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "lost the connection to Neo4j at bolt://127.0.0.1:" in errors[0], res.output
    assert "rerun the same command to resume" in errors[0]
    rejects = out.with_name("d.rejects.jsonl")
    first = [r["id"] for r in read_records(out) + read_records(rejects)]
    assert 0 < len(first) < 8, first  # stopped mid-run, what was done is there

    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(tools))
    again = CliRunner().invoke(synth_cmd, [*args, "--store", neo4j_uri])  # the server is back
    assert again.exit_code == 0, again.output
    ids = [r["id"] for r in read_records(out) + read_records(rejects)]
    assert len(ids) == len(set(ids)) == 8 and set(first) <= set(ids)
