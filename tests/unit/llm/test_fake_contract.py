"""The fakes ARE the LLM contract: same five methods, same signatures, and a whole run through them takes
the production path (structured_json for planner/user/tool, chat for the assistant), never a fallback."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter

import pytest
from fake_llm import FIXTURES, AutoLLM, ScriptedLLM, fixture_tools

from toolflow.engine.llm.base import LLM
from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.synth.job import RunConfig, run_synthesis

CONTRACT = {name for name, _ in inspect.getmembers(LLM, inspect.isfunction) if not name.startswith("_")}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def test_contract_is_the_five_methods():
    assert {"chat", "structured_json", "model_for", "result_limits", "aclose"} == CONTRACT


@pytest.mark.parametrize("cls", [AutoLLM, ScriptedLLM, OpenAIClientLLM])
def test_every_llm_has_the_contract_with_its_signatures(cls):
    for name in CONTRACT:
        want = inspect.signature(getattr(LLM, name))
        got = inspect.signature(getattr(cls, name))
        assert list(got.parameters) == list(want.parameters), (cls.__name__, name)
        assert [p.kind for p in got.parameters.values()] == [p.kind for p in want.parameters.values()]
        assert inspect.iscoroutinefunction(getattr(cls, name)) == inspect.iscoroutinefunction(getattr(LLM, name))
    if cls is not OpenAIClientLLM:  # the fakes offer nothing else an agent could fall back to
        assert not {m for m in public_methods(cls) - CONTRACT if m.startswith(("structured", "complete", "generate"))}


class Recording(AutoLLM):
    """AutoLLM that notes which contract method served each role."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.served: Counter[tuple[str, str]] = Counter()

    async def chat(self, role, messages, **kwargs):
        self.served[("chat", role)] += 1
        return await super().chat(role, messages, **kwargs)

    async def structured_json(self, role, messages, json_schema, **kwargs):
        self.served[("structured_json", role)] += 1
        return await super().structured_json(role, messages, json_schema, **kwargs)


def test_a_whole_run_takes_the_production_path(tmp_path):
    llm = Recording(fixture_tools(), seed=1)
    source = FileSampleSource.from_paths(FIXTURES / "tools.jsonl", FIXTURES / "samples.jsonl")
    summary = asyncio.run(run_synthesis(llm, source, RunConfig(n=4, out=tmp_path / "d.jsonl"), show_progress=False))
    assert summary.kept == 4 and summary.plan_sources == {"llm": 4}
    roles_by_method = {}
    for (method, role), n in llm.served.items():
        assert n > 0
        roles_by_method.setdefault(method, set()).add(role)
    assert roles_by_method == {"structured_json": {"planner", "user", "tool"}, "chat": {"assistant"}}
