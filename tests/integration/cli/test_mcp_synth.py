"""`synth --execute` through the CLI with the fake LLM (fast, deterministic) against the real test shop:
real answers in the tool messages, refused writes, the call cache on a rerun, and usage errors."""

from __future__ import annotations

import json

import anyio
import pytest
from click.testing import CliRunner
from fake_llm import AutoLLM
from mcp_servers import SHOP_STDIO

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli.synth import synth as synth_cmd
from toolflow.loaders import load_tools
from toolflow.loaders.mcp_live import connect, fetch_listings, parse_spec

KEEP = ("get_order", "list_orders", "cancel_order", "order_count")


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory):
    listing = fetch_listings([SHOP_STDIO])[0]
    listing["tools"] = [t for t in listing["tools"] if t["name"] in KEEP]
    path = tmp_path_factory.mktemp("shop") / "shop.json"
    path.write_text(json.dumps([listing]))
    return path


@pytest.fixture
def fake_llm(monkeypatch, shop_file):
    tools = load_tools(shop_file).tools
    monkeypatch.setattr(api_llm, "LLM_FACTORY", lambda options: AutoLLM(tools, seed=1))


def synth(*args: str):
    return CliRunner().invoke(synth_cmd, [*args, "--no-progress"])


def records(out) -> list[dict]:
    paths = [out, out.with_name(out.stem + ".rejects.jsonl")]
    return [json.loads(ln) for p in paths if p.exists() for ln in p.read_text().splitlines() if ln.strip()]


def direct(calls: list[tuple[str, dict]]) -> list[str]:
    async def go():
        res = []
        async with connect(parse_spec(SHOP_STDIO)) as client:
            for name, args in calls:
                r = await client.call_tool(name, args)
                res.append(json.dumps(r.structured_content, ensure_ascii=False)
                           if r.structured_content is not None and not r.is_error
                           else "\n".join(b.text for b in r.content))
        return res
    return anyio.run(go)


def executed_calls(recs: list[dict]) -> tuple[list[tuple[str, dict, str]], list[dict]]:
    executed, marks = [], []
    for d in recs:
        calls = {c["id"]: c["function"] for m in d["messages"] for c in m.get("tool_calls") or []}
        answers = {m["tool_call_id"]: m["content"] for m in d["messages"] if m["role"] == "tool"}
        assert set(answers) == {e["call_id"] for e in d["meta"]["tool_results"]}
        for e in d["meta"]["tool_results"]:
            marks.append(e)
            if e["mode"] == "executed":
                fn = calls[e["call_id"]]
                executed.append((fn["name"], json.loads(fn["arguments"]), answers[e["call_id"]]))
    return executed, marks


def test_execute_run_real_answers_refused_writes_and_rerun_from_cache(tmp_path, shop_file, fake_llm):
    out, sandbox = tmp_path / "d.jsonl", tmp_path / "sandbox"
    args = ["-n", "4", "--out", str(out), "--tools", str(shop_file), "--execute", "--server", SHOP_STDIO,
            "--sandbox", str(sandbox)]
    res = synth(*args)
    assert res.exit_code == 0, res.output
    executed, marks = executed_calls(records(out))
    assert executed and [a for *_, a in executed] == direct([(n, a) for n, a, _ in executed])
    writes = [e for e in marks if e["tool"] == "cancel_order"]
    assert writes and all(e["mode"] == "simulated" and "read-only" in e["reason"] for e in writes)
    assert not (sandbox / "writes.log").exists()
    # the dialogues are lost (as if the run died before writing them): the rerun calls nothing again
    out.unlink()
    out.with_name("d.rejects.jsonl").unlink(missing_ok=True)
    again = synth(*args, "--force")
    assert again.exit_code == 0, again.output
    assert f"executed {len(executed)} call(s) ({len(executed)} from the cache" in again.output
    rerun, _ = executed_calls(records(out))
    assert sorted(map(json.dumps, rerun)) == sorted(map(json.dumps, executed))  # same calls, same real answers


def test_allow_writes_runs_the_write_in_the_sandbox(tmp_path, shop_file, fake_llm):
    out, sandbox = tmp_path / "d.jsonl", tmp_path / "sandbox"
    res = synth("-n", "4", "--out", str(out), "--tools", str(shop_file), "--execute", "--server", SHOP_STDIO,
                "--sandbox", str(sandbox), "--allow-writes")
    assert res.exit_code == 0, res.output
    _, marks = executed_calls(records(out))
    writes = [e for e in marks if e["tool"] == "cancel_order"]
    assert writes and all(e["mode"] == "executed" for e in writes)
    assert (sandbox / "writes.log").read_text().startswith("cancel ")


@pytest.mark.parametrize(("args", "message"), [
    (["--execute"], "--execute needs the tools' server"),
    (["--allow-writes"], "need --execute"),
    (["--server", SHOP_STDIO], "need --execute"),
    (["--execute", "--server", SHOP_STDIO, "--workers", "2"], "leave out --workers"),
])
def test_usage_errors(tmp_path, shop_file, fake_llm, args, message):
    res = synth("-n", "1", "--out", str(tmp_path / "d.jsonl"), "--tools", str(shop_file), *args)
    assert res.exit_code == 2 and message in res.output


def test_a_server_that_does_not_start_is_one_line(tmp_path, shop_file, fake_llm):
    res = synth("-n", "1", "--out", str(tmp_path / "d.jsonl"), "--tools", str(shop_file), "--execute",
                "--server", "mcp+stdio:no-such-mcp-server-xyz")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "mcp+stdio:no-such-mcp-server-xyz" in res.output and "FileNotFoundError" in res.output
    assert not (tmp_path / "d.jsonl").exists() or not (tmp_path / "d.jsonl").read_text()
