"""LLM faults against a fake OpenAI server over real sockets (issue 12): invalid JSON bodies and empty
``choices`` are retried like a 5xx, then the dialogue is rejected with the reason and the run goes on; an API
key echoed by the server never reaches a message."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai_server import FakeOpenAIServer, Reply

from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.errors import LLMError, MalformedResponseError, StructuredOutputError
from toolflow.engine.llm.settings import LLMSettings

API_KEY = "sk-live-0123456789abcdef"
INVALID = Reply(raw=b'{"id": "x", "choices": [{"message": {"content": "trunc')
NO_CHOICES = Reply(body={"id": "x", "object": "chat.completion", "choices": []})


@pytest.fixture
async def server() -> Any:
    async with FakeOpenAIServer() as srv:
        yield srv


def _llm(srv: FakeOpenAIServer, **kw: Any) -> OpenAIClientLLM:
    settings = LLMSettings(base_url=srv.base_url, model="m", api_key=API_KEY, cache_dir=None,
                           structured_mode="json_schema", native_tools="on", retry_base_delay=0.001,
                           retry_max_delay=0.01, **kw)
    return OpenAIClientLLM(settings)


SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


@pytest.mark.parametrize("bad", [INVALID, NO_CHOICES], ids=["invalid_json", "empty_choices"])
async def test_malformed_reply_is_retried_like_a_5xx(server, bad):
    server.push(bad, bad)
    async with _llm(server, max_retries=3) as llm:
        value = await llm.structured_json("user", [{"role": "user", "content": "hi"}], SCHEMA, name="t")
        assert value == {"a": "x"} and llm.stats["retries"] == 2 and server.request_count == 3


@pytest.mark.parametrize("bad", [INVALID, NO_CHOICES], ids=["invalid_json", "empty_choices"])
async def test_malformed_replies_past_the_budget_are_an_output_failure(server, bad):
    server.push(*[bad] * 10)
    async with _llm(server, max_retries=2) as llm:
        with pytest.raises(MalformedResponseError) as info:
            await llm.structured_json("user", [{"role": "user", "content": "hi"}], SCHEMA, name="t")
    assert isinstance(info.value, StructuredOutputError) and server.request_count == 3
    assert ("not valid JSON" if bad is INVALID else "no choices") in str(info.value)


async def test_server_error_text_echoing_the_key_is_scrubbed(server):
    echo = {"error": {"message": f"Incorrect API key provided: {API_KEY}", "type": "invalid_request_error"}}
    server.push(Reply(status=401, body=echo), *[Reply(status=500, body=echo)] * 3)
    async with _llm(server, max_retries=2) as llm:
        for _ in range(2):  # 401: not retried; 500: retried, then given up
            with pytest.raises(LLMError) as info:
                await llm.structured_json("user", [{"role": "user", "content": "hi"}], SCHEMA, name="t")
            assert API_KEY not in str(info.value) and "Incorrect API key provided: ***" in str(info.value)


def _run_two_dialogues(srv: FakeOpenAIServer, tmp_path: Path) -> tuple[Any, list[dict], list[dict]]:
    import asyncio  # noqa: F401 - run inside the test's loop

    from fake_llm import fixture_tools
    from rich.console import Console

    from toolflow.engine.models import Sample
    from toolflow.engine.synth.job import RunConfig, run_synthesis
    from toolflow.engine.synth.jsonl import read_records

    tools = {t.name: t for t in fixture_tools()}
    chosen = [tools["get_forecast"], tools["find_restaurants"]]

    class Source:
        def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]:
            for i in range(n):
                yield Sample(id=f"s{i}", tool_ids=[t.id for t in chosen], strategy="t")

        def tools(self, ids: list[str]) -> list:
            by_id = {t.id: t for t in chosen}
            return [by_id[i] for i in ids]

    config = RunConfig(n=2, out=tmp_path / "out.jsonl", concurrency=1, turns=(2, 2), retries=0)

    async def go() -> Any:
        async with _llm(srv, max_retries=3) as llm:
            return await run_synthesis(llm, Source(), config, console=Console(file=open(os.devnull, "w")),
                                       show_progress=False)

    return go, config, read_records


async def test_one_bad_reply_in_eight_no_longer_errors_dialogues(server, tmp_path):
    from tests.integration.synth.test_client import respond

    count = {"n": 0}

    def flaky(request: dict) -> Reply:
        count["n"] += 1
        if count["n"] % 8 == 0:
            return INVALID if count["n"] % 16 == 0 else NO_CHOICES
        return respond(request)

    server.responder = flaky
    go, config, read_records = _run_two_dialogues(server, tmp_path)
    summary = await go()
    assert summary.errors == {} and count["n"] >= 8  # before: 2 of 2 dialogues errored
    done = read_records(config.out) + read_records(config.rejects_path)
    assert len(done) == 2
    assert not any("JSON" in str(r.get("checks")) or "choices" in str(r.get("checks")) for r in done)


async def test_a_server_that_only_sends_garbage_rejects_dialogues_and_the_run_goes_on(server, tmp_path):
    server.responder = lambda request: INVALID
    go, config, read_records = _run_two_dialogues(server, tmp_path)
    summary = await go()
    assert summary.errors == {} and summary.kept == 0 and summary.rejected_total == 2
    rejects = read_records(config.rejects_path)
    assert len(rejects) == 2 and all("not valid JSON" in json.dumps(r["checks"]) for r in rejects)
