"""examples/quickstart.py runs end to end through the Python API, against the scripted fake LLM server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fake_dialogue_server import DialogueServerProcess

ROOT = Path(__file__).resolve().parents[3]


def test_quickstart_builds_samples_synthesizes_evaluates_retrieves_and_exports(tmp_path) -> None:
    with DialogueServerProcess() as srv:
        env = {**os.environ, "TOOLFLOW_CACHE_DIR": str(tmp_path / "cache"), "TOOLFLOW_NATIVE_TOOLS": "off",
               "TOOLFLOW_STRUCTURED_MODE": "json_schema", "TOOLFLOW_API_KEY": "sk-test"}
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "quickstart.py"), "--base-url", srv.base_url, "--model", "fake",
             "--workdir", str(tmp_path), "-n", "3", "--embedder", "hashing"],
            env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = {r["step"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert list(steps) == ["build_graph", "sample", "synthesize", "evaluate", "retrieve", "export"]
    assert steps["build_graph"]["tools"] == 13 and steps["build_graph"]["edges"]["FEEDS"] > 0
    assert len(steps["sample"]["samples"]) == 5 and all(len(s) >= 2 for s in steps["sample"]["samples"])
    kept = steps["synthesize"]["kept"]
    assert kept + steps["synthesize"]["rejected"] == 3 and kept >= 1 and steps["synthesize"]["first_request"]
    assert steps["evaluate"]["dialogues"] == kept
    assert len(steps["retrieve"]["tools"]) == 3
    assert steps["export"]["written"] == kept
    assert (tmp_path / "train.openai.jsonl").read_text().count("\n") == kept
