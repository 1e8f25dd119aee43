"""Child process for tests/integration/synth/test_runs_concurrency.py (a real SIGKILL needs a process to kill).

    python runs_driver.py synth OUT N WORKERS DELAY   `toolflow synth` over the fixture tools and samples with
                                                       the fake LLM, each call slowed by DELAY seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_llm import FIXTURES, AutoLLM, fixture_tools  # noqa: E402

from toolflow.engine.api import llm as api_llm
from toolflow.engine.cli.synth import synth as synth_cmd  # noqa: E402


def synth(out: str, n: str, workers: str, delay: str) -> None:
    api_llm.LLM_FACTORY = lambda options: AutoLLM(fixture_tools(), delay=float(delay))
    synth_cmd.main(["-n", n, "--out", out, "--tools", str(FIXTURES / "tools.jsonl"), "--samples",
                          str(FIXTURES / "samples.jsonl"), "--workers", workers, "--concurrency", "1",
                          "--no-progress"], standalone_mode=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    assert mode == "synth", mode
    synth(*args)
