"""`toolflow graph build --executor ray`: Ray Data embeds the texts into the same cache, on a real Ray head
bound to 127.0.0.1 (tests/support/ray_cluster.py), and the graph is the local build's."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

from ray_cluster import LOOPBACK_ENV, ray_head  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "travel_tools.jsonl"


def build(tmp: Path, name: str, *extra: str) -> dict:
    cmd = [str(Path(sys.executable).with_name("toolflow")), "graph", "build", str(EXAMPLES), "--embedder", "hashing",
           "--store", str(tmp / f"store_{name}"), "--cache-dir", str(tmp / f"cache_{name}"), "--json", *extra]
    done = subprocess.run(cmd, env={**os.environ, **LOOPBACK_ENV}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def vectors(cache_dir: Path) -> dict[tuple[str, bytes], bytes]:
    with sqlite3.connect(cache_dir / "embeddings.sqlite") as db:
        return {(model, bytes(key)): bytes(v) for model, key, v in db.execute("SELECT model, key, v FROM vec")}


def ray_data_ran(temp_dir: str) -> bool:
    """The head's worker logs name the embedding class Ray Data ran (proof the texts went through Ray)."""
    for log in Path(temp_dir).glob("session_*/logs/*"):
        if log.is_file() and b"_EmbedBatch" in log.read_bytes():
            return True
    return False


def test_ray_data_fills_the_same_cache_and_builds_the_same_graph(tmp_path):
    with ray_head() as head:
        on_ray = build(tmp_path, "ray", "--executor", "ray", "--ray-address", head.address, "--workers", "2")
        assert ray_data_ran(head.temp_dir)
        warm = build(tmp_path, "ray", "--executor", "ray", "--ray-address", head.address)
    local = build(tmp_path, "local")
    assert on_ray["embedded"] == local["embedded"] > 0 and warm["embedded"] == 0  # a rebuild reads the cache
    assert on_ray["counts"] == local["counts"]
    assert vectors(tmp_path / "cache_ray") == vectors(tmp_path / "cache_local")
