"""LLM settings: shared defaults plus per-role overrides, read from code or the environment.

Every agent role (planner, user, assistant, tool, judge) may use its own endpoint and model, so a
cheap model can play the tool while a strong one plans. A role's unset field falls back to the
shared default. API keys are `SecretStr`, so `repr`/`str`/logs never show them.

Environment (all optional):

- shared: ``TOOLFLOW_BASE_URL`` (else ``OPENAI_BASE_URL``), ``TOOLFLOW_MODEL``, ``TOOLFLOW_API_KEY``
  (else ``OPENAI_API_KEY``), ``TOOLFLOW_TEMPERATURE``, ``TOOLFLOW_MAX_TOKENS``, ``TOOLFLOW_TIMEOUT``,
  ``TOOLFLOW_STRUCTURED_MODE``, ``TOOLFLOW_NATIVE_TOOLS``
- per role: the same names with the role inserted, e.g. ``TOOLFLOW_PLANNER_MODEL``,
  ``TOOLFLOW_JUDGE_BASE_URL``, ``TOOLFLOW_TOOL_API_KEY``, ``TOOLFLOW_USER_TEMPERATURE``
- run-wide: ``TOOLFLOW_BACKEND`` (openai | llama_cpp), ``TOOLFLOW_CONCURRENCY``,
  ``TOOLFLOW_MAX_RETRIES``, ``TOOLFLOW_MAX_REPAIRS``, ``TOOLFLOW_CACHE_DIR`` (``off``/``none``/empty
  disables the cache)

A role with neither a base URL nor a model is served by the embedded local model
(:mod:`toolflow.engine.llm.local_server`); a model without a base URL means the OpenAI API itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

from toolflow.engine.llm.base import ROLES, Role
from toolflow.engine.llm.errors import LLMSettingsError
from toolflow.engine.llm.repair import DEFAULT_REPAIRS
from toolflow.engine.paths import llm_cache_dir

StructuredMode = Literal["json_schema", "json_object", "auto"]
NativeTools = Literal["auto", "on", "off"]
Backend = Literal["openai", "llama_cpp"]

LOCAL_MODEL_ALIAS = "local"

# Defaults a backend implies, applied only to fields the caller did not set explicitly.
BACKEND_PROFILES: dict[str, dict[str, Any]] = {
    # llama-cpp-python 0.3.36: json_schema response_format -> HTTP 500, tools with tool_choice auto are
    # ignored, one request at a time on 1 thread (~75 tokens/s), so keep outputs short and queue here.
    "llama_cpp": {
        "structured_mode": "json_object",
        "native_tools": "off",
        "concurrency": 1,
        "max_tokens": 512,
        "timeout": 300.0,
        # simulated tool results: a 135M model under a grammar fills every list and string to its bound
        "result_items": 2,
        "result_chars": 80,
    },
    "openai": {},
}

_ROLE_FIELDS = (
    "base_url",
    "model",
    "api_key",
    "temperature",
    "max_tokens",
    "timeout",
    "structured_mode",
    "native_tools",
    "result_items",
    "result_chars",
)


class RoleSettings(BaseModel):
    """Overrides for one role; `None` means "use the shared default"."""

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    structured_mode: StructuredMode | None = None
    native_tools: NativeTools | None = None
    result_items: int | None = Field(default=None, ge=1)
    result_chars: int | None = Field(default=None, ge=8)


class ResolvedRole(BaseModel):
    """Everything one request of a role needs, defaults already applied."""

    role: str
    base_url: str | None
    model: str | None
    api_key: SecretStr | None
    temperature: float
    max_tokens: int
    timeout: float
    structured_mode: StructuredMode
    native_tools: NativeTools
    result_items: int
    result_chars: int

    @property
    def endpoint(self) -> str:
        """Key for per-endpoint state (client, learned structured mode)."""
        return (self.base_url or "https://api.openai.com/v1").rstrip("/")

    @property
    def needs_local_server(self) -> bool:
        return self.base_url is None and self.model in (None, LOCAL_MODEL_ALIAS)


def _default_cache_dir() -> Path:
    return llm_cache_dir()


class LLMSettings(BaseModel):
    """Shared defaults, per-role overrides and run-wide knobs of the LLM layer."""

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    temperature: float = 0.7
    max_tokens: int = 1024
    timeout: float = 120.0  # seconds for a whole request attempt (a slow trickle of bytes counts too)
    # json_schema: strict-ish structured outputs; json_object: JSON mode + schema in prompt (and in
    # response_format, which llama.cpp turns into a grammar); auto: json_schema first, fall back per endpoint.
    structured_mode: StructuredMode = "auto"
    # on: pass `tools=`; off: emulate tool calls with a union JSON schema; auto: native, emulate on HTTP error.
    native_tools: NativeTools = "auto"
    # bounds on simulated tool results (tool role): list items and characters per string. A capable model
    # writes realistic results within 5 items / 300 characters; the llama_cpp profile keeps the 135M
    # model's 2 / 80, the bounds it was measured with.
    result_items: int = Field(5, ge=1)
    result_chars: int = Field(300, ge=8)
    roles: dict[str, RoleSettings] = Field(default_factory=dict)

    backend: Backend = "openai"
    concurrency: int = Field(8, ge=1)
    max_retries: int = Field(5, ge=0)  # transport retries per request
    max_repairs: int = Field(DEFAULT_REPAIRS, ge=0)  # re-asks with the problem fed back (llm/repair.py)
    retry_base_delay: float = Field(0.5, ge=0)
    retry_max_delay: float = Field(30.0, ge=0)
    cache_dir: Path | None = Field(default_factory=_default_cache_dir)

    @model_validator(mode="before")
    @classmethod
    def _apply_backend_profile(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("backend"):
            profile = BACKEND_PROFILES.get(str(data["backend"]), {})
            data = {**profile, **data}
        return data

    @model_validator(mode="after")
    def _check_roles(self) -> LLMSettings:
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {list(ROLES)}")
        return self

    def for_role(self, role: Role | str) -> ResolvedRole:
        """The effective settings of `role`: its overrides on top of the shared defaults."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {list(ROLES)}")
        over = self.roles.get(role, RoleSettings())
        values = {
            f: getattr(over, f) if getattr(over, f) is not None else getattr(self, f) for f in _ROLE_FIELDS
        }
        return ResolvedRole(role=role, **values)

    def needs_local_server(self) -> bool:
        """True when some role has no endpoint and no model, i.e. wants the embedded model."""
        return any(self.for_role(r).needs_local_server for r in ROLES)

    def with_local_endpoint(self, base_url: str, model: str = LOCAL_MODEL_ALIAS) -> LLMSettings:
        """Point every role that wants the embedded model at `base_url` with the llama.cpp profile.

        Roles that already have an endpoint keep it. If all roles go local, the run-wide knobs take
        the llama.cpp profile too (unless set explicitly).
        """
        local = RoleSettings(base_url=base_url, model=model, api_key=SecretStr("sk-local"))
        profile = BACKEND_PROFILES["llama_cpp"]
        roles = dict(self.roles)
        all_local = True
        for r in ROLES:
            if not self.for_role(r).needs_local_server:
                all_local = False
                continue
            over = roles.get(r, RoleSettings()).model_dump()
            merged = {
                **local.model_dump(),
                **{k: v for k, v in over.items() if v is not None and k != "base_url"},
            }
            for k in ("structured_mode", "native_tools", "max_tokens", "timeout", "result_items", "result_chars"):
                if over.get(k) is None and k not in self.model_fields_set:
                    merged[k] = profile[k]
            merged["base_url"], merged["model"] = base_url, model
            roles[r] = RoleSettings(**merged)
        update: dict[str, Any] = {"roles": roles}
        if all_local:
            update["backend"] = "llama_cpp"
            if "concurrency" not in self.model_fields_set:
                update["concurrency"] = profile["concurrency"]
        return self.model_copy(update=update)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> LLMSettings:
        """Build settings from environment variables; keyword `overrides` win over the environment."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            v = env.get(name)
            return v if v not in (None, "") else None

        data: dict[str, Any] = {}
        shared = _read_role_env(get, "TOOLFLOW_")
        shared.setdefault("base_url", get("OPENAI_BASE_URL"))
        shared.setdefault("api_key", get("OPENAI_API_KEY"))
        data.update({k: v for k, v in shared.items() if v is not None})
        roles = {}
        for r in ROLES:
            vals = _read_role_env(get, f"TOOLFLOW_{r.upper()}_")
            if vals:
                with _naming_env(env, f"TOOLFLOW_{r.upper()}_"):
                    roles[r] = RoleSettings(**vals)
        if roles:
            data["roles"] = roles
        for key, name in (
            ("backend", "TOOLFLOW_BACKEND"),
            ("concurrency", "TOOLFLOW_CONCURRENCY"),
            ("max_retries", "TOOLFLOW_MAX_RETRIES"),
            ("max_repairs", "TOOLFLOW_MAX_REPAIRS"),
        ):
            if get(name) is not None:
                data[key] = get(name)
        if "TOOLFLOW_CACHE_DIR" in env:
            raw = env["TOOLFLOW_CACHE_DIR"].strip()
            data["cache_dir"] = (  # the cache root, as everywhere (engine/paths.py): the LLM cache is <root>/llm
                None if raw.lower() in ("", "off", "none", "0", "false") else llm_cache_dir(Path(raw).expanduser())
            )
        data.update(overrides)
        with _naming_env(env, "TOOLFLOW_"):
            return cls(**data)


def _read_role_env(get: Any, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in _ROLE_FIELDS:
        v = get(prefix + f.upper())
        if v is not None:
            out[f] = v
    return out


_ENV_NAMES = {"backend": "TOOLFLOW_BACKEND", "concurrency": "TOOLFLOW_CONCURRENCY", "max_retries": "TOOLFLOW_MAX_RETRIES",
              "max_repairs": "TOOLFLOW_MAX_REPAIRS", "cache_dir": "TOOLFLOW_CACHE_DIR", "base_url": "TOOLFLOW_BASE_URL",
              "api_key": "TOOLFLOW_API_KEY"}


@contextlib.contextmanager
def _naming_env(env: Mapping[str, str], prefix: str) -> Iterator[None]:
    """A validation error as one line naming the environment variable (never the value of a key)."""
    try:
        yield
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(x) for x in err["loc"]]
        if loc and loc[0] == "roles" and len(loc) >= 3:
            name = f"TOOLFLOW_{loc[1].upper()}_{loc[2].upper()}"
        else:
            name = _ENV_NAMES.get(loc[0], f"{prefix}{loc[0].upper()}") if loc else prefix.rstrip("_")
        shown = "" if "KEY" in name or name not in env else f"={env[name]!r}"
        raise LLMSettingsError(f"{name}{shown}: {err['msg']}") from None
