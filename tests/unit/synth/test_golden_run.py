"""Golden run: the scripted fake LLM and a fixed seed give byte-identical output files.

The fixture files under tests/support/fixtures/golden/ were written by this same run before the engine was laid
out in pipeline packages; a refactor that changes behaviour (prompts, seeds, check order, record shape)
changes these bytes. Regenerate deliberately with ``TOOLFLOW_WRITE_GOLDEN=1`` when behaviour is meant to
change, and say why in the commit.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from fake_llm import FIXTURES, AutoLLM

from toolflow.engine.sampling.sources import FileSampleSource
from toolflow.engine.synth.job import RunConfig, run_synthesis

GOLDEN = Path(__file__).parents[2] / "support" / "fixtures" / "golden"


def _run(out: Path, **cfg) -> None:
    source = FileSampleSource.from_paths(FIXTURES / "tools.jsonl", FIXTURES / "samples.jsonl")
    llm = AutoLLM(source.tools([t.id for t in source.all_tools]), seed=3)
    config = RunConfig(n=6, out=out, seed=5, concurrency=1, strategy="random", **cfg)
    asyncio.run(run_synthesis(llm, source, config, show_progress=False))


@pytest.mark.parametrize("name,cfg", [("plan", {}), ("noplan", {"plan": False})])
def test_golden_run_is_byte_identical(tmp_path: Path, name: str, cfg: dict) -> None:
    out = tmp_path / f"{name}.jsonl"
    _run(out, **cfg)
    produced = sorted(tmp_path.glob(f"{name}*.jsonl"))
    assert produced, "the run wrote nothing"
    if os.environ.get("TOOLFLOW_WRITE_GOLDEN"):
        for p in produced:
            shutil.copyfile(p, GOLDEN / p.name)
    for p in produced:
        expected = GOLDEN / p.name
        assert expected.exists(), f"no golden file {expected.name}"
        assert p.read_bytes() == expected.read_bytes(), f"{p.name} differs from the golden run"
    assert sorted(x.name for x in GOLDEN.glob(f"{name}*.jsonl")) == [p.name for p in produced]
