"""Fake LLMs for tests: no network, fully controlled.

- ScriptedLLM: per-role queues of canned answers, for exercising one branch at a time.
- AutoLLM: rule-based answers derived from the prompts, for whole runs (resume, shards, CLI).
Both implement the `LLM` protocol of toolflow.engine.llm.base and record every call.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import deque
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from toolflow.engine.llm.base import ChatReply, Usage, UsageTracker
from toolflow.engine.llm.repair import DEFAULT_REPAIRS, structured_with_repairs
from toolflow.engine.models import Tool


def tool_call(name: str, args: dict[str, Any] | str, cid: str = "x") -> dict[str, Any]:
    """An OpenAI tool call as a server would return it."""
    return {"id": cid, "type": "function",
            "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}


class TransientError(ConnectionError):
    """Stands in for a network/server hiccup."""


class ScriptedLLM:
    """Answers from per-role scripts. An item is a ChatReply / model / dict / str / Exception, or a
    callable ``(messages, schema_or_tools) -> item`` for answers that depend on the prompt."""

    def __init__(self, scripts: dict[str, list[Any]], *, models: dict[str, str] | None = None):
        self.scripts = {role: deque(items) for role, items in scripts.items()}
        self.calls: list[dict[str, Any]] = []
        if models is not None:
            self.models = models

    def _next(self, role: str, messages: list[dict[str, Any]], extra: Any) -> Any:
        queue = self.scripts.get(role)
        if not queue:
            raise AssertionError(f"script for role {role!r} is exhausted")
        item = queue.popleft()
        if callable(item) and not isinstance(item, type | BaseModel):
            item = item(messages, extra)
        if isinstance(item, Exception):
            raise item
        return item

    async def structured_json(self, role, messages, json_schema, *, validate=None, name="output",
                              tracker: UsageTracker | None = None, describe=True, max_repairs=None,
                              complete_truncated=False):
        """The real client's contract: each scripted item (dict / model / JSON text / ChatReply) is one
        request's output, through the LLM layer's own repair policy (`structured_with_repairs`)."""

        async def request(attempt: int, convo: list[dict[str, Any]]) -> tuple[str, str | None]:
            self.calls.append({"role": role, "messages": list(convo), "json_schema": json_schema, "name": name})
            if tracker is not None:
                tracker.record(role, Usage(prompt_tokens=10, completion_tokens=5, requests=1))
            item = self._next(role, convo, json_schema)
            finish = "stop"
            if isinstance(item, ChatReply):
                item, finish = item.content or "", item.finish_reason or "stop"
            if isinstance(item, BaseModel):
                item = item.model_dump()
            return (item if isinstance(item, str) else json.dumps(item)), finish

        return await structured_with_repairs(request, messages, validate or (lambda value: value),
                                             budget=DEFAULT_REPAIRS if max_repairs is None else max_repairs,
                                             role=role, name=name, complete_truncated=complete_truncated)

    async def chat(self, role, messages, *, tools=None, tracker: UsageTracker | None = None,
                   tool_choice=None, arguments=None) -> ChatReply:
        self.calls.append({"role": role, "messages": messages, "tools": tools, "tool_choice": tool_choice,
                           "arguments": arguments})
        if tracker is not None:
            tracker.record(role, Usage(prompt_tokens=20, completion_tokens=7, requests=1))
        item = self._next(role, messages, tools)
        if isinstance(item, ChatReply):
            return item
        if isinstance(item, str):
            return ChatReply(content=item, finish_reason="stop")
        if isinstance(item, dict):
            return ChatReply.model_validate(item)
        raise TypeError(f"unsupported scripted item {item!r}")

    def calls_for(self, role: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["role"] == role]

    def model_for(self, role: str) -> str:
        return getattr(self, "models", {}).get(role, "unknown")

    def result_limits(self) -> dict[str, int]:
        return {}  # the run's defaults

    async def aclose(self) -> None:
        return None


def example_for(schema: dict[str, Any] | None, rng: random.Random) -> Any:
    """A value that satisfies simple JSON Schemas (type/properties/required/items/enum)."""
    schema = schema or {"type": "object"}
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example_for(v, rng) for k, v in props.items()} or {"ok": True, "ref": rng.randrange(10**6)}
    if kind == "array":
        return [example_for(schema.get("items", {"type": "string"}), rng)]
    if kind == "integer":
        return rng.randrange(1, 100)
    if kind == "number":
        return round(rng.uniform(1, 100), 2)
    if kind == "boolean":
        return True
    return f"value-{rng.randrange(10**6)}"


_WORDS = ["garden", "trip", "budget", "weekend", "family", "concert", "museum", "river", "coffee", "train", "hotel", "dinner", "market", "bicycle", "office", "library", "beach", "mountain", "festival", "recipe", "invoice", "meeting", "parcel", "flight"]


class AutoLLM:
    """Plausible answers computed from the prompts: every tool gets a turn, called with schema-valid
    arguments, results fit the return schema. User texts carry random words so dialogues differ.

    `delay` (seconds) slows every call, for kill-mid-run tests; `fail_first` raises that many
    TransientErrors before answering normally. `bad_args_for` names tools the assistant always calls
    without their required arguments: every dialogue whose sample holds one of them is rejected
    (``missing_required``) after the assistant's repair budget, deterministically, so resume and
    rejects-file tests see real rejected dialogues.
    """

    def __init__(self, tools: list[Tool], *, delay: float = 0.0, seed: int | None = None, fail_first: int = 0,
                 on_call: Callable[[str], None] | None = None, bad_args_for: Collection[str] = ()):
        self.by_name = {t.name: t for t in tools}
        self.bad_args_for = frozenset(bad_args_for)
        self.delay = delay
        self.rng = random.Random(seed)
        self.fail_first = fail_first
        self.on_call = on_call
        self.models = {"planner": "auto-planner", "user": "auto-user", "assistant": "auto-assistant",
                       "tool": "auto-tool"}
        self.requests = 0

    async def _tick(self, role: str, tracker: UsageTracker | None) -> None:
        self.requests += 1
        if self.on_call:
            self.on_call(role)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_first > 0:
            self.fail_first -= 1
            raise TransientError("connection reset (scripted)")
        if tracker is not None:
            tracker.record(role, Usage(prompt_tokens=100, completion_tokens=20, requests=1))

    def _sentence(self) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(8))

    def _answer(self, role: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        prompt = "\n".join(str(m.get("content")) for m in messages)
        if role == "planner":
            names = [n for n in self.by_name if f"\n- {n}: " in prompt]
            turns = [{"kind": "tool_call", "intent": f"sort out the {self._sentence()}", "tools": [n]}
                     for n in names]
            return {"scenario": "a busy person", "turns": turns}
        return {"message": f"Please help with my {self._sentence()}.", "done": False}

    async def structured_json(self, role, messages, json_schema, *, validate=None, name="output",
                              tracker=None, describe=True, max_repairs=None, complete_truncated=False):
        """The production contract: an answer for `json_schema`, through the LLM layer's repair policy."""

        async def request(attempt: int, convo: list[dict[str, Any]]) -> tuple[str, str | None]:
            await self._tick(role, tracker)
            data = example_for(json_schema, self.rng) if role == "tool" else self._answer(role, convo)
            return json.dumps(data), "stop"

        return await structured_with_repairs(request, messages, validate or (lambda value: value),
                                             budget=DEFAULT_REPAIRS if max_repairs is None else max_repairs,
                                             role=role, name=name, complete_truncated=complete_truncated)

    def model_for(self, role: str) -> str:
        return self.models.get(role, "auto")

    def result_limits(self) -> dict[str, int]:
        return {}  # the run's defaults

    async def aclose(self) -> None:
        return None

    async def chat(self, role, messages, *, tools=None, tracker=None, tool_choice=None, arguments=None) -> ChatReply:
        """Like a grammar backend: pinned `arguments` are used as they are."""
        await self._tick(role, tracker)
        if tool_choice == "none":
            return ChatReply(content=f"Here you are: {self._sentence()}.", finish_reason="stop")
        if role == "tool":
            call = json.loads(re.search(r"## The call to answer now\n```json\n(.*?)\n```",
                                        messages[1]["content"], re.DOTALL).group(1))
            tool = self.by_name[call["name"]]
            return ChatReply(content=json.dumps(example_for(tool.returns, self.rng)), finish_reason="stop")
        if messages[-1]["role"] == "tool":
            return ChatReply(content=f"Done: {self._sentence()}.", finish_reason="stop")
        called = {c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
        offered = [t["function"]["name"] for t in tools or []]
        if isinstance(tool_choice, dict) and tool_choice.get("type") == "allowed_tools":
            allowed = {t["function"]["name"] for t in tool_choice["allowed_tools"]["tools"]}
            offered = [n for n in offered if n in allowed]
        todo = [n for n in offered if n not in called]
        if not todo:
            return ChatReply(content="Anything else?", finish_reason="stop")
        params = self.by_name[todo[0]].parameters
        args = {k: example_for(params["properties"][k], self.rng) for k in params.get("required", [])
                if todo[0] not in self.bad_args_for}
        if arguments and todo[0] in arguments and todo[0] not in self.bad_args_for:
            args = dict(arguments[todo[0]])  # pinned by the plan's blueprint (a grammar backend's const)
        return ChatReply(tool_calls=[tool_call(todo[0], args, cid="srv-1")], finish_reason="tool_calls")


FIXTURES = Path(__file__).parent / "fixtures" / "synth"


def fixture_tools() -> list[Tool]:
    """The five hand-written tools of tests/support/fixtures/synth/tools.jsonl."""
    with open(FIXTURES / "tools.jsonl", encoding="utf-8") as f:
        return [Tool.model_validate_json(line) for line in f if line.strip()]
