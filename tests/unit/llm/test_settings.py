"""LLMSettings: defaults, per-role overrides, environment, backend profiles, secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from toolflow.engine.llm.settings import LLMSettings, RoleSettings


def test_role_overrides_shared_defaults() -> None:
    s = LLMSettings(
        base_url="http://a/v1",
        model="big",
        temperature=0.5,
        roles={"tool": RoleSettings(model="small", max_tokens=99)},
    )
    tool, planner = s.for_role("tool"), s.for_role("planner")
    assert (tool.base_url, tool.model, tool.max_tokens, tool.temperature) == ("http://a/v1", "small", 99, 0.5)
    assert (planner.model, planner.max_tokens) == ("big", 1024)
    with pytest.raises(ValueError):
        s.for_role("narrator")
    with pytest.raises(ValueError):
        LLMSettings(roles={"narrator": RoleSettings()})


def test_from_env_reads_shared_and_per_role_values(tmp_path: Path) -> None:
    env = {
        "OPENAI_API_KEY": "sk-shared-secret",
        "OPENAI_BASE_URL": "http://openai-compatible/v1",
        "TOOLFLOW_BASE_URL": "http://preferred/v1",
        "TOOLFLOW_MODEL": "m-default",
        "TOOLFLOW_JUDGE_MODEL": "m-judge",
        "TOOLFLOW_JUDGE_BASE_URL": "http://judge/v1",
        "TOOLFLOW_JUDGE_API_KEY": "sk-judge-secret",
        "TOOLFLOW_TOOL_TEMPERATURE": "0.1",
        "TOOLFLOW_CONCURRENCY": "16",
        "TOOLFLOW_MAX_REPAIRS": "4",
        "TOOLFLOW_STRUCTURED_MODE": "json_object",
        "TOOLFLOW_CACHE_DIR": str(tmp_path),
    }
    s = LLMSettings.from_env(env)
    assert s.for_role("planner").base_url == "http://preferred/v1"
    assert s.for_role("planner").api_key.get_secret_value() == "sk-shared-secret"
    judge = s.for_role("judge")
    assert (judge.model, judge.base_url, judge.api_key.get_secret_value()) == (
        "m-judge",
        "http://judge/v1",
        "sk-judge-secret",
    )
    assert s.for_role("tool").temperature == 0.1
    assert (s.concurrency, s.max_repairs, s.structured_mode, s.cache_dir) == (16, 4, "json_object", tmp_path / "llm")
    assert LLMSettings.from_env({"OPENAI_BASE_URL": "http://x/v1"}).base_url == "http://x/v1"
    assert LLMSettings.from_env({"TOOLFLOW_CACHE_DIR": "off"}).cache_dir is None
    assert LLMSettings.from_env({}, concurrency=3).concurrency == 3


def test_secrets_never_printed() -> None:
    s = LLMSettings(
        api_key=SecretStr("sk-top-secret"), roles={"user": RoleSettings(api_key=SecretStr("sk-role-secret"))}
    )
    for text in (repr(s), str(s), s.model_dump_json(), repr(s.for_role("user")), str(s.for_role("planner"))):
        assert "sk-top-secret" not in text and "sk-role-secret" not in text
    assert LLMSettings.from_env({"OPENAI_API_KEY": "sk-env-secret"}).__repr__().count("sk-env-secret") == 0


def test_llama_cpp_profile_sets_defaults_but_explicit_values_win() -> None:
    s = LLMSettings(backend="llama_cpp")
    assert (s.structured_mode, s.native_tools, s.concurrency) == ("json_object", "off", 1)
    s = LLMSettings(backend="llama_cpp", concurrency=4, native_tools="on")
    assert (s.structured_mode, s.native_tools, s.concurrency) == ("json_object", "on", 4)


def test_local_endpoint_fills_only_roles_without_endpoint() -> None:
    assert LLMSettings().needs_local_server()
    assert not LLMSettings(model="gpt-4o-mini").needs_local_server()  # model alone = the OpenAI API
    s = LLMSettings(roles={"judge": RoleSettings(base_url="http://judge/v1", model="strong")})
    assert s.needs_local_server()
    local = s.with_local_endpoint("http://127.0.0.1:9/v1")
    assert not local.needs_local_server()
    assert local.for_role("judge").base_url == "http://judge/v1"
    assert local.for_role("judge").structured_mode == "auto"
    planner = local.for_role("planner")
    assert (planner.base_url, planner.model, planner.structured_mode, planner.native_tools) == (
        "http://127.0.0.1:9/v1", "local", "json_object", "off"
    )  # fmt: skip
    everything = LLMSettings().with_local_endpoint("http://127.0.0.1:9/v1")
    assert (everything.backend, everything.concurrency) == ("llama_cpp", 1)
