"""Golden samples: the walk sampler draws exactly what it drew before its draws were vectorized.

tests/support/fixtures/walk_golden.json was written by ``python tests/unit/sampling/test_golden.py --write`` from the
scalar sampler (one numpy Generator per sample, commit 4d6579d), before any change to the drawing code.
Each case holds a SHA-256 of the samples' JSON and the first samples in full, so a mismatch shows where
the streams part. The cases cover the hand-made graphs, a 3,000-tool ToolBench-shaped synthetic graph,
every walk option (coverage, strict, any-start, types, sizes) and batch sizes that split a run unevenly.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sampling_graphs import chain_graph, hub_graph, isolated_graph, mixed_graph

from toolflow.engine.graph.build import GraphData
from toolflow.engine.sampling import WalkSampler
from toolflow.engine.sampling.synthetic import synthetic_graph
from toolflow.engine.stores.ladybug_store import LadybugStore

GOLDEN = Path(__file__).parents[2] / "support" / "fixtures" / "walk_golden.json"
SHOWN = 3

GRAPHS = {
    "mixed": mixed_graph,
    "chain": chain_graph,
    "isolated": lambda: isolated_graph(5),
    "hub": hub_graph,
    "synthetic": lambda: synthetic_graph(3000, seed=1),
}
#: name → (graph, sampler options, n, seed). The parity options (feeds_weight=1) are today's law.
CASES: dict[str, tuple[str, dict[str, Any], int, int]] = {
    "mixed-default": ("mixed", {}, 300, 7),
    "mixed-batch7": ("mixed", {"batch_size": 7}, 60, 3),
    "mixed-all-types-3-6": ("mixed", {"types": ["FEEDS", "SHARES_INPUT", "SIMILAR"], "min_tools": 3, "max_tools": 6}, 200, 1),
    "mixed-coverage": ("mixed", {"coverage": True}, 200, 5),
    "mixed-strict-feeds": ("mixed", {"types": ["FEEDS"], "strict": True}, 200, 2),
    "mixed-any-start": ("mixed", {"starts": "any"}, 200, 4),
    "chain-5": ("chain", {"min_tools": 5, "max_tools": 5}, 100, 0),
    "isolated": ("isolated", {"min_tools": 3, "max_tools": 7}, 50, 9),
    "hub": ("hub", {}, 300, 11),
    "hub-coverage-batch16": ("hub", {"coverage": True, "batch_size": 16}, 300, 11),
    "synthetic-default": ("synthetic", {}, 3000, 0),
    "synthetic-batch500": ("synthetic", {"batch_size": 500}, 1200, 0),
    "synthetic-all-types": ("synthetic", {"types": ["FEEDS", "SHARES_INPUT", "SIMILAR"], "min_tools": 1, "max_tools": 8}, 1500, 21),
    "synthetic-coverage": ("synthetic", {"coverage": True}, 800, 3),
    "synthetic-strict-any": ("synthetic", {"strict": True, "starts": "any"}, 800, 8),
    "synthetic-big-seed": ("synthetic", {}, 500, 2**63 + 12345),
}


def parity_options(options: dict[str, Any]) -> dict[str, Any]:
    """Today's law: FEEDS and SHARES_INPUT weighed by their scores alone (the walk's former default)."""
    import inspect

    if "feeds_weight" in inspect.signature(WalkSampler.__init__).parameters:
        return {"feeds_weight": 1.0, **options}
    return dict(options)


def run_case(stores: dict[str, Any], name: str) -> list[dict[str, Any]]:
    graph, options, n, seed = CASES[name]
    return [s.model_dump(mode="json") for s in WalkSampler(stores[graph], **parity_options(options)).sample(n, seed)]


def digest(samples: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(samples, sort_keys=True).encode()).hexdigest()


def open_stores(root: Path) -> dict[str, Any]:
    out = {}
    for name, make in GRAPHS.items():
        g: GraphData = make()
        s = LadybugStore(root / name)
        s.write_graph(g)
        out[name] = s
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    opened = open_stores(tmp_path_factory.mktemp("golden"))
    yield opened
    for s in opened.values():
        s.close()


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_covers_every_case(golden):
    assert sorted(golden) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_samples_match_the_golden_file(stores, golden, name):
    samples = run_case(stores, name)
    want = golden[name]
    assert len(samples) == want["n"]
    assert samples[:SHOWN] == want["first"]
    assert digest(samples) == want["sha256"], f"{name}: samples differ from the golden file after the first {SHOWN}"


def write_golden() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        opened = open_stores(Path(tmp))
        try:
            out = {}
            for name in sorted(CASES):
                samples = run_case(opened, name)
                out[name] = {"n": len(samples), "sha256": digest(samples), "first": samples[:SHOWN]}
                print(name, len(samples), out[name]["sha256"][:12])
        finally:
            for s in opened.values():
                s.close()
    GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/unit/sampling/test_golden.py --write   (only from the reference sampler)")
    sys.path.insert(0, str(Path(__file__).parents[2] / "support"))
    write_golden()
