"""The LLM of a run: environment settings merged with the caller's shared and per-role overrides.

`open_llm` is what `toolflow.synthesize`, `toolflow.evaluate` and the CLI commands use: the real
OpenAI-compatible client (starting the embedded local model for roles without an endpoint), or, when the test
seam `LLM_FACTORY` is set, whatever it returns for the options.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.llm.base import LLM
from toolflow.engine.synth.job import RunConfig

#: Test seam: a callable taking the LLM options (a dict, `LLMOptions.as_dict()`) and returning an LLM.
LLM_FACTORY: Callable[[dict[str, Any]], LLM] | None = None

#: Dialogues in flight when every role runs on the embedded model: one llama.cpp slot, and interleaved
#: dialogues evict each other's prompt prefixes.
LOCAL_CONCURRENCY = 1
REMOTE_CONCURRENCY = RunConfig.model_fields["concurrency"].default


class RoleOverride(BaseModel):
    """One role's own endpoint or model (None: the shared one)."""

    model: str | None = Field(default=None, description="Model for this role only.")
    base_url: str | None = Field(default=None, description="Endpoint for this role only.")


class LLMOptions(BaseModel):
    """What the caller sets on top of the environment (TOOLFLOW_* / OPENAI_* variables, llm/settings.py)."""

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint for all roles (else env / "
                                 "the embedded local model).")
    model: str | None = Field(default=None, description="Model for all roles (else TOOLFLOW_MODEL / local model).")
    temperature: float | None = Field(default=None, description="Sampling temperature for all roles.")
    roles: dict[str, RoleOverride] = Field(default_factory=dict, description="Per-role overrides.")

    @classmethod
    def coerce(cls, value: LLMOptions | Mapping[str, Any] | None) -> LLMOptions:
        """An LLMOptions from itself, a dict of the same shape, or None (all from the environment)."""
        if value is None:
            return cls()
        return value if isinstance(value, LLMOptions) else cls.model_validate(dict(value))

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump()


def llm_settings(options: LLMOptions | Mapping[str, Any] | None) -> Any:
    """LLMSettings from the environment plus the shared and per-role overrides (role merging)."""
    from toolflow.engine.llm.settings import LLMSettings, RoleSettings

    opts = LLMOptions.coerce(options)
    shared = {k: getattr(opts, k) for k in ("base_url", "model", "temperature") if getattr(opts, k) is not None}
    settings = LLMSettings.from_env(**shared)
    roles = dict(settings.roles)
    for role, over in opts.roles.items():
        vals = over.model_dump(exclude_none=True)
        if vals:
            roles[role] = RoleSettings(**{**roles.get(role, RoleSettings()).model_dump(), **vals})
    return settings.model_copy(update={"roles": roles})


@contextlib.contextmanager
def open_llm(options: LLMOptions | Mapping[str, Any] | None = None) -> Iterator[LLM]:
    """The LLM for a run: the test seam, or OpenAIClientLLM from env settings + overrides (starting the
    embedded local server when a role has no endpoint, stopped on exit)."""
    if LLM_FACTORY is not None:
        yield LLM_FACTORY(options if isinstance(options, dict) else LLMOptions.coerce(options).as_dict())
        return
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.local_server import ensure_endpoint

    with ensure_endpoint(llm_settings(options)) as ready:
        yield OpenAIClientLLM(ready)


def default_concurrency(options: LLMOptions | Mapping[str, Any] | None) -> int:
    """1 when every role runs on the embedded model, else RunConfig's default. A role with its own endpoint
    counts as remote."""
    if LLM_FACTORY is not None:
        return REMOTE_CONCURRENCY
    try:
        settings = llm_settings(options)
    except Exception:  # noqa: BLE001 - bad settings are reported where the LLM is built
        return REMOTE_CONCURRENCY
    return LOCAL_CONCURRENCY if settings.needs_local_server() else REMOTE_CONCURRENCY
