"""One meaning per environment variable: TOOLFLOW_CACHE_DIR is the cache root the embedding and LLM caches
live under; "off" and friends mean the user cache dir, never a folder named "off"."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolflow.engine.paths import cache_root, embedding_cache_path, llm_cache_dir


def test_the_caches_live_under_the_root_the_variable_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", str(tmp_path))
    assert cache_root() == tmp_path
    assert embedding_cache_path() == tmp_path / "embeddings.sqlite"
    assert llm_cache_dir() == tmp_path / "llm"


def test_an_explicit_root_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", str(tmp_path / "env"))
    assert embedding_cache_path(tmp_path / "arg") == tmp_path / "arg" / "embeddings.sqlite"
    assert llm_cache_dir(tmp_path / "arg") == tmp_path / "arg" / "llm"


@pytest.mark.parametrize("off", ["off", "None", " 0 ", "false", ""])
def test_off_values_mean_the_user_cache_dir(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    monkeypatch.delenv("TOOLFLOW_CACHE_DIR", raising=False)
    default = cache_root()
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", off)
    assert cache_root() == default and default.name.lower() == "toolflow"


def test_a_tilde_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", "~/caches")
    assert cache_root() == tmp_path / "caches"
