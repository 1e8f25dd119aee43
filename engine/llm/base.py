"""The LLM interface every agent talks to.

Agents depend only on this protocol, so unit tests swap in a scripted fake and production uses
:class:`toolflow.engine.llm.client.OpenAIClientLLM` (the `openai` async client against any
OpenAI-compatible endpoint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

Role = Literal["planner", "user", "assistant", "tool", "judge"]
ROLES: tuple[Role, ...] = ("planner", "user", "assistant", "tool", "judge")

T = TypeVar("T", bound=BaseModel)


class Usage(BaseModel):
    """Token usage. `cached`: requests answered from the on-disk response cache (free);
    `prefix_cached_tokens`: prompt tokens the server reports as served from its prefix cache;
    `wasted_tokens`: prompt + completion tokens of outputs the repair policy rejected."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cached: int = 0
    prefix_cached_tokens: int = 0
    wasted_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> None:
        # plain int counters without validation on assignment: summed in the instance dict directly,
        # which skips pydantic's per-field __setattr__ (this runs twice per request)
        mine, theirs = self.__dict__, other.__dict__
        for name in _USAGE_FIELDS:
            mine[name] += theirs[name]


_USAGE_FIELDS = tuple(Usage.model_fields)


class UsageTracker(BaseModel):
    """Token usage per role; one per dialogue, merged into a run-wide one."""

    by_role: dict[str, Usage] = Field(default_factory=dict)

    def record(self, role: str, usage: Usage) -> None:
        mine = self.by_role.get(role)
        if mine is None:
            mine = self.by_role[role] = Usage()
        mine.add(usage)

    def merge(self, other: UsageTracker) -> None:
        for role, usage in other.by_role.items():
            self.record(role, usage)

    def total(self) -> Usage:
        out = Usage()
        for u in self.by_role.values():
            out.add(u)
        return out


class ChatReply(BaseModel):
    """A chat completion reduced to what the loop needs (OpenAI shapes)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)  # [{"id","type":"function","function":{"name","arguments"}}]
    finish_reason: str | None = None


class LLM(Protocol):
    """The one contract between agents and a language model. The real client
    (:class:`toolflow.engine.llm.client.OpenAIClientLLM`) and every test fake implement all five methods;
    agents call nothing else and never probe for optional ones."""

    async def chat(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        tracker: UsageTracker | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        arguments: dict[str, dict[str, Any]] | None = None,
    ) -> ChatReply:
        """A plain chat completion; with `tools`, may return OpenAI tool calls (`tool_choice` as in OpenAI).

        `arguments` (tool name → argument → value) pins the arguments of calls planned in advance: backends
        that decode under a grammar can only produce those values; native ``tools=`` backends ignore it
        (the caller checks their calls)."""
        ...

    async def structured_json(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        json_schema: dict[str, Any],
        *,
        validate: Callable[[Any], Any] | None = None,
        name: str = "output",
        tracker: UsageTracker | None = None,
        describe: bool = True,
        max_repairs: int | None = None,
        complete_truncated: bool = False,
    ) -> Any:
        """A JSON value for a per-request JSON schema (e.g. tool-name enums). `validate` may convert it or
        reject it (ValueError, RepairFeedback, Unrepairable); rejected output is re-asked under the one
        repair policy (:mod:`toolflow.engine.llm.repair`) within `max_repairs` (default: the settings'
        budget); at the end StructuredOutputError. `complete_truncated`: an output cut at the token limit
        is completed by rule and kept when `validate` accepts it (`structured_with_repairs`)."""
        ...

    def model_for(self, role: Role) -> str:
        """The model name that serves `role` (recorded in each dialogue's meta)."""
        ...

    def result_limits(self) -> dict[str, int]:
        """Bounds for simulated tool results that the tool role's backend handles well (``result_items``,
        ``result_chars``: a 135M model under a grammar needs small ones; ``result_tokens``, its output limit,
        which results are sized to fit); empty for the run's defaults."""
        ...

    async def aclose(self) -> None:
        """Release connections (and nothing else: local servers are owned by whoever started them)."""
        ...
