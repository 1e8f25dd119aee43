"""Environment variables are read in one place (engine/env.py) and each is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from toolflow.engine.env import ENV_FAMILIES, ENV_VARS, env

ROOT = Path(__file__).resolve().parents[3]
READ = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|os\.environ\.items\(|os\.environ if\b")
#: engine/env.py is the reader; LLMSettings.from_env reads its TOOLFLOW_* family from the mapping it is given;
#: secrets.py scans every value to mask it in messages (not a setting).
ALLOWED = {"engine/env.py", "engine/llm/settings.py", "engine/secrets.py"}


def test_no_module_reads_the_environment_directly() -> None:
    offenders = [f"{p.relative_to(ROOT)}:{n}" for folder in ("engine", "loaders", "cypher")
                 for p in (ROOT / folder).rglob("*.py") if str(p.relative_to(ROOT)) not in ALLOWED
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if READ.search(line)]
    assert not offenders, f"read the environment through toolflow.engine.env.env(): {offenders}"


def test_a_variable_must_be_declared_and_each_one_is_documented(monkeypatch) -> None:
    monkeypatch.setenv("TOOLFLOW_STORE", "/tmp/g")
    assert env("TOOLFLOW_STORE") == "/tmp/g"
    with pytest.raises(KeyError, match="not declared"):
        env("TOOLFLOW_STOER")
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in [*ENV_VARS, *ENV_FAMILIES] if f"`{name}" not in doc]
    assert not missing, f"docs/api.md does not document {missing}"
