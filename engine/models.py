"""Pydantic models at ToolFlow's boundaries: tools, fields, samples, plans, dialogues.

Everything that crosses a module boundary (loader → graph, graph → sampler, sampler → synthesis,
synthesis → JSONL) is one of these, so a bad value is caught where it enters, not three stages later.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from toolflow.engine.schema_norm import normalize_schema

#: OpenAI function names: letters, digits, underscore and dash, at most 64 characters.
FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def to_function_name(raw: str, *, max_len: int = 64) -> str:
    """Turn any source name (dotted BFCL names, titles with spaces) into a valid OpenAI function name.

    Keeps the tail when the name is too long, since API names put the distinguishing part last.
    """
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", raw.strip()).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name:
        name = "tool"
    return name[-max_len:].lstrip("_-") or "tool"


class ToolLink(BaseModel):
    """One OpenAPI 3 link: the spec author says a response value of this tool fills `param` of another operation."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    operation_id: str | None = Field(default=None, description="Target operationId.")
    operation_ref: str | None = Field(default=None, description="Target as a JSON pointer, e.g. '#/paths/~1users/get'.")
    param: str = Field(description="The target's parameter name.")
    from_field: str = Field(description="Response field path, 'owner.username' (from '$response.body#/owner/username').")


class ToolHints(BaseModel):
    """What a tool says about its side effects (MCP `annotations`); None where the source is silent.

    Kept on the tool because execution is gated on them: only read-only tools run unless writes are
    allowed, and they are stored on `:Tool` (read_only, destructive, idempotent) for Cypher.
    """

    model_config = ConfigDict(extra="forbid")

    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None

    @classmethod
    def from_mcp(cls, annotations: Any) -> ToolHints | None:
        """From an MCP `annotations` object (readOnlyHint, destructiveHint, …); None when it gives no hint."""
        if not isinstance(annotations, dict):
            return None
        keys = {"read_only": "readOnlyHint", "destructive": "destructiveHint", "idempotent": "idempotentHint",
                "open_world": "openWorldHint"}
        values = {k: annotations[v] for k, v in keys.items() if isinstance(annotations.get(v), bool)}
        return cls(**values) if values else None


class Tool(BaseModel):
    """One callable function, whatever format it came from."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id, unique across sources: '<source>:<category>/<name>' or similar.")
    name: str = Field(description="A valid OpenAI function name.")
    original_name: str | None = Field(default=None, description="The name as the source spelled it.")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    returns: dict[str, Any] | None = None
    returns_inferred: bool = Field(default=False, description="True when `returns` was inferred from an example.")
    returns_observed: bool = Field(default=False, description="True when `returns` was generalized from real "
                                                              "results (`toolflow graph observe`).")
    category: str | None = None
    source: str = "unknown"
    extra: dict[str, Any] = Field(default_factory=dict)
    links: list[ToolLink] = Field(
        default_factory=list, description="OpenAPI 3 response links: values of this tool's response that fill another's."
    )
    hints: ToolHints | None = Field(default=None, description="Side-effect hints (MCP annotations), if the source gives them.")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not FUNCTION_NAME_RE.match(v):
            raise ValueError(f"not a valid function name: {v!r} (use to_function_name)")
        return v

    @field_validator("returns")
    @classmethod
    def _normalized_returns(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return normalize_schema(v) if v is not None else None

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, v: dict[str, Any]) -> dict[str, Any]:
        v = normalize_schema(v)  # the one schema normalization: every Tool, from any source, is normalized here
        if v.get("type", "object") != "object":
            raise ValueError(f"parameters must be a JSON Schema of type 'object', got type {v.get('type')!r}")
        props = v.get("properties", {})
        if not isinstance(props, dict):
            raise ValueError("parameters.properties must be an object")
        for key, sub in props.items():
            if not isinstance(sub, dict):
                raise ValueError(f"parameters.properties.{key} must be a schema object, got {type(sub).__name__}")
        req = v.get("required", [])
        if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            raise ValueError("parameters.required must be a list of names")
        return {"type": "object", **{k: x for k, x in v.items() if k != "type"}}

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    def openai_tool(self) -> dict[str, Any]:
        """The OpenAI `tools=[...]` entry for this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class FieldNode(BaseModel):
    """One parameter or return value of a tool: the unit the graph matches on."""

    id: str
    tool_id: str
    name: str
    description: str = ""
    type: str | None = None
    role: Literal["param", "return"]
    required: bool = False
    described: bool = Field(default=True, description="False when the source gave no description (text enriched).")
    path: str = Field(default="", description="Where the value sits: 'results[].receiver_id', 'filter.company_id'.")
    facets: dict[str, Any] = Field(
        default_factory=dict, description="Schema keywords the matcher reads: format, enum, x-in (not stored)."
    )
    source: str = Field(
        default="declared",
        description="Where a return field came from: declared, example, description, name or observed.",
    )

    @property
    def text(self) -> str:
        """The text that gets embedded, as in the paper: '{name}: {description}'."""
        return f"{self.name}: {self.description}".strip()


class EdgeTaken(BaseModel):
    """One step of a walk: which relation joined two tools and why."""

    source: str
    target: str
    type: str
    score: float
    fields: list[str] = Field(default_factory=list)


class Sample(BaseModel):
    """One sampled tool combination."""

    id: str
    tool_ids: list[str]
    path: list[str] = Field(default_factory=list)
    edges: list[EdgeTaken] = Field(default_factory=list)
    strategy: str
    seed: int | None = None


TurnKind = Literal["tool_call", "multi_tool", "follow_up", "clarify", "chitchat", "unserved"]
SourceKind = Literal["user", "result", "clarify", "default"]


class ArgSource(BaseModel):
    """Where one argument value of a planned call comes from.

    ``user``: the user states `value` in the turn; ``clarify``: the user withholds `value` until the
    assistant asks; ``default``: `value` is an enum member or the schema default; ``result``: the value
    at `path` (dotted, list indexes as numbers: ``hotels.0.hotel_id``) of planned call `call`'s result.
    """

    model_config = ConfigDict(extra="forbid")

    source: SourceKind
    value: Any = None
    call: int | None = Field(default=None, description="For result: index of the earlier planned call.")
    path: str | None = Field(default=None, description="For result: the field path in that call's result.")
    converted: str | None = Field(default=None, description="The lossless type conversion the value goes "
                                  "through to fit the parameter, e.g. 'string->number'.")

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if not (k in ("call", "path", "value", "converted") and v is None)}


class PlannedCall(BaseModel):
    """One call of the blueprint: the tool and the source of every argument it passes."""

    tool: str
    arguments: dict[str, ArgSource] = Field(default_factory=dict)


class PlanTurn(BaseModel):
    kind: TurnKind
    intent: str = Field(description="What the user wants in this turn, in plain words, without naming tools.")
    tools: list[str] = Field(default_factory=list, description="Names of the tools this turn needs.")
    depends_on: list[int] = Field(default_factory=list, description="Indexes of earlier turns whose results it uses.")
    missing: list[str] = Field(default_factory=list, description="For clarify: required values the user leaves out.")
    calls: list[PlannedCall] = Field(
        default_factory=list, description="The call blueprint: the turn's calls; planned calls are numbered "
                                          "across the plan in order (the `call` of a result source).")
    withheld: list[str] = Field(
        default_factory=list, description="For unserved: the tools the request needs, which the dialogue does "
                                          "not offer (the assistant must say it cannot do it).")
    fault: Literal["error"] | None = Field(
        default=None, description="error: the turn's first call fails; the assistant retries or explains.")

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if not (k in ("withheld", "fault") and not v)}


class Plan(BaseModel):
    scenario: str = ""
    turns: list[PlanTurn]


class Checks(BaseModel):
    """The verdict on one dialogue: kept when nothing failed; flags are kept but noted."""

    passed: bool = False
    failed: list[str] = Field(default_factory=list, description="Reasons to reject, 'code: detail'.")
    flags: list[str] = Field(default_factory=list, description="Doubts that do not reject, 'code: detail'.")


#: Meta keys written only when they apply (absent, not null, otherwise), so records stay compact.
_OPTIONAL_META = frozenset({"plan_source", "plan_intents", "planner_problem", "user_fallbacks", "blueprint",
                            "provenance", "user_values_inserted"})


class Meta(BaseModel):
    """How a dialogue was made: job settings, models per role, tokens, the loop's trace."""

    model_config = ConfigDict(extra="allow")  # records written by newer versions still load

    index: int
    seed: int
    strategy: str
    plan: bool
    target_turns: int | None = None
    models: dict[str, str] = Field(default_factory=dict, description="Model per agent role.")
    tokens: dict[str, dict[str, int]] = Field(default_factory=dict, description="Usage per role (this dialogue).")
    toolflow_version: str | None = None
    turns: list[dict[str, Any]] = Field(default_factory=list, description="Per plan turn: message index range.")
    finish_reasons: list[str | None] = Field(default_factory=list, description="Per message, from the LLM.")
    stopped: str | None = Field(default=None, description="Why the loop stopped early, if it did.")
    plan_source: Literal["llm", "skeleton"] | None = None
    plan_intents: Literal["llm", "template"] | None = None
    planner_problem: str | None = None
    user_fallbacks: int | None = Field(default=None, description="User turns replaced by the plan's intent.")
    blueprint: bool | None = Field(default=None, description="True: the plan fixed every call and argument "
                                                              "source; False: the paper's intent-only plan.")
    provenance: list[dict[str, Any]] | None = Field(
        default=None, description="Per call: id, tool, plan turn, and per argument where its value came from "
                                  "(the planned source, and the evidence found in the dialogue).")
    user_values_inserted: int | None = Field(
        default=None, description="Planned values the user agent left out, appended to its message.")

    @model_serializer(mode="wrap")
    def _drop_unset_optionals(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if not (k in _OPTIONAL_META and v is None)}


class Dialogue(BaseModel):
    """One synthesized dialogue: a JSONL line in OpenAI messages format plus its provenance."""

    id: str
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    plan: Plan | None = None
    sample: Sample
    checks: Checks = Field(default_factory=Checks)
    meta: Meta
