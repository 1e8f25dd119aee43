"""Prompt files: loaded by name and filled with `$placeholders`.

Prompts live in ``prompts/<name>.md`` so they can be edited without touching code. `$name`
placeholders (string.Template) are used instead of ``{}`` because the prompts contain JSON examples.
Set ``TOOLFLOW_PROMPTS_DIR`` to a folder of same-named files to override them without editing the package.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, TypeVar

from pydantic import BaseModel

from toolflow.engine.env import env
from toolflow.engine.llm.base import LLM, Role, UsageTracker
from toolflow.engine.llm.schema import tool_line
from toolflow.engine.models import Tool

M = TypeVar("M", bound=BaseModel)


@lru_cache(maxsize=64)
def _read(name: str, override_dir: str | None) -> str:
    if override_dir:
        path = Path(override_dir) / f"{name}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return (resources.files("toolflow.engine.synth.agents") / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def load_prompt(name: str) -> str:
    """The raw text of prompt `name` (override folder first, then the packaged file)."""
    return _read(name, env("TOOLFLOW_PROMPTS_DIR"))


def render(name: str, **values: Any) -> str:
    """Prompt `name` with `$placeholders` filled; a missing value is an error, not a silent blank."""
    return Template(load_prompt(name)).substitute({k: str(v) for k, v in values.items()}).strip()


#: Characters of a tool's and of an argument's description in the planner's tool list: what the tool is for
#: and what a value is, not the paragraphs real-world APIs carry.
PLANNER_TOOL_CHARS = 200
PLANNER_ARGUMENT_CHARS = 80


def _shortened(fn: dict[str, Any]) -> dict[str, Any]:
    params = fn.get("parameters") or {}
    props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
    short = {k: {**v, "description": str(v.get("description") or "")[:PLANNER_ARGUMENT_CHARS]}
             if isinstance(v, dict) and v.get("description") else v for k, v in props.items()}
    return {**fn, "description": str(fn.get("description") or "")[:PLANNER_TOOL_CHARS],
            "parameters": {**params, "properties": short} if props else params}


def tool_list(tools: list[Tool]) -> str:
    """Tools as the planner reads them: one ``- name: description`` entry each with its arguments
    (types, required, descriptions, each shortened): the JSON schema's information in a third fewer
    prompt tokens."""
    return "\n".join(tool_line(_shortened(t.openai_tool()["function"])) for t in tools)


async def ask_json(
    llm: LLM,
    role: Role,
    messages: list[dict[str, Any]],
    model: type[M],
    json_schema: dict[str, Any],
    *,
    check: Callable[[M], M] | None = None,
    tracker: UsageTracker | None = None,
    describe: bool = True,
    max_repairs: int | None = None,
) -> M:
    """An instance of `model`, asked for with `json_schema`: a schema built for this request (enums of
    the sample's tool names, fixed lengths) that every value of it also satisfies `model`.

    `check` is extra validation; its ValueError (or RepairFeedback / Unrepairable) drives the LLM
    layer's one repair policy. An unusable answer ends as StructuredOutputError. `max_repairs` (None: the
    settings' budget) is for callers with a cheaper fallback than a re-ask.
    """
    checked = check or (lambda value: value)
    return await llm.structured_json(role, messages, json_schema,
                                     validate=lambda data: checked(model.model_validate(data)),
                                     name=model.__name__, tracker=tracker, describe=describe, max_repairs=max_repairs)


def transcript(messages: list[dict[str, Any]], last: int | None = None) -> str:
    """The conversation as the simulated user sees it: user and assistant text only, the `last` lines of it
    (all by default; a note says when earlier ones are left out).

    Tool calls and tool results are hidden: a real user sees only the assistant's replies.
    """
    lines = []
    for m in messages:
        if m.get("role") == "user":
            lines.append(f"USER: {m.get('content') or ''}")
        elif m.get("role") == "assistant" and m.get("content"):
            lines.append(f"ASSISTANT: {m['content']}")
    if last is not None and len(lines) > last:
        lines = ["(earlier messages left out)", *lines[len(lines) - last:]]
    return "\n".join(lines) if lines else "(the conversation has not started yet)"
