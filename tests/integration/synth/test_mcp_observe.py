"""`toolflow graph observe`: return schemas generalized from real calls, marked observed, feed the graph."""

from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from toolflow.engine.cli import main
from toolflow.engine.stores import open_store

USERS = textwrap.dedent('''
    def list_users():
        """All users of the directory."""
        return {"users": [{"user_id": "u1", "name": "Ann"}, {"user_id": "u2", "name": "Bob"}]}

    def get_user(user_id: str):
        """One user's profile by user id."""
        if user_id not in ("u1", "u2"):
            raise KeyError(user_id)
        return {"user_id": user_id, "email": f"{user_id}@example.org"}

    def note(topic: str):
        """A note about a topic."""
        return "plain text"

    def delete_user(user_id: str):
        """Delete a user."""
        raise AssertionError("never called: not allowed")
''')


def feeds(store_path, source: str | None = None) -> list[tuple[str, str]]:
    """FEEDS pairs, only those built from a return field of `source` provenance when given."""
    with open_store(str(store_path), read_only=True) as store:
        return [(r["src"], r["dst"]) for r in store.run("feeds_all") if source in (None, r["returns_source"])]


def test_observed_schemas_feed_the_graph(tmp_path, monkeypatch):
    (tmp_path / "usertools.py").write_text(USERS)
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "g"
    built = CliRunner().invoke(main, ["graph", "build", "py:usertools", "--store", str(store), "--embedder", "hashing",
                                      "--returns", "declared"])
    assert built.exit_code == 0, built.output
    assert feeds(store) == []  # no declared returns and no inference: nothing can feed anything
    res = CliRunner().invoke(main, ["graph", "observe", "py:usertools", "--store", str(store), "--embedder",
                                    "hashing", "--calls", "2", "--allow", "list_users", "--allow", "get_user",
                                    "--allow", "note", "--json"])
    assert res.exit_code == 0, res.output
    report = {r["tool"]: r for r in json.loads(res.output[res.output.index("[\n"):])}
    assert report["list_users"]["observed"] and report["list_users"]["calls"] == 1
    # get_user's user_id came from list_users' real results: two calls, both answered
    assert report["get_user"] == {"tool": "get_user", "calls": 2, "errors": 0, "from_runs": 0, "observed": True,
                                  "skipped": None}
    assert report["note"]["skipped"] == "no value for a required parameter"
    assert "read-only" in report["delete_user"]["skipped"]
    with open_store(str(store), read_only=True) as s:
        get_user, note = s.get_tools(["mcp:usertools/get_user", "mcp:usertools/note"])
    assert get_user.returns_observed and set(get_user.returns["properties"]) == {"user_id", "email"}
    assert not note.returns_observed and note.returns is None
    assert ("mcp:usertools/list_users", "mcp:usertools/get_user") in feeds(store, "observed")


def test_results_recorded_by_synth_execute_are_generalized(tmp_path, monkeypatch):
    import anyio

    from toolflow.engine.models import Tool
    from toolflow.engine.synth.execute import ExecPolicy, LiveTools
    from toolflow.loaders.mcp_live import parse_spec

    (tmp_path / "usertools.py").write_text(USERS)
    monkeypatch.chdir(tmp_path)
    calls = tmp_path / "d.calls.jsonl"

    async def record():  # what a `synth --execute` run leaves behind
        async with LiveTools([parse_spec("py:usertools")], ExecPolicy(allow=["get_user"]), cache_path=calls) as live:
            await live.call(Tool(id="x:y/get_user", name="get_user"), {"user_id": "u2"})
    anyio.run(record)
    res = CliRunner().invoke(main, ["graph", "observe", "py:usertools", "--store", str(tmp_path / "g"),
                                    "--embedder", "hashing", "--calls", "0", "--from-calls", str(calls), "--json"])
    assert res.exit_code == 0, res.output
    report = {r["tool"]: r for r in json.loads(res.output[res.output.index("[\n"):])}
    assert report == {"get_user": {"tool": "get_user", "calls": 0, "errors": 0, "from_runs": 1, "observed": True,
                                   "skipped": None}}
    with open_store(str(tmp_path / "g"), read_only=True) as s:
        (get_user,) = s.get_tools(["mcp:usertools/get_user"])
    assert get_user.returns_observed and set(get_user.returns["properties"]) == {"user_id", "email"}
