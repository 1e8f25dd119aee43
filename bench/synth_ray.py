"""Dialogues/min of `synth --executor ray` (1 and 2 workers) against the local executor, in one run.

A deterministic dialogue server (tests/support/fake_dialogue_server.py) answers every request after a fixed
latency, so the latency is the limit and each executor's overhead shows in the ratio. Every run has the
same concurrency per worker (`--concurrency C` for local and 1 worker, `2C` for 2 workers) and the
endpoint's request limit (TOOLFLOW_CONCURRENCY) above what the dialogues can use. The Ray head is
started once, on 127.0.0.1, before the runs (its start-up is not a run's cost); each run is the real
CLI in its own process, its dialogues/min read from the end-of-run table (the driver starts counting
when its workers are ready). Targets: ray-2 >= 1.8x ray-1; ray-1 within 10% of local. The latency must
dominate each request's CPU: at 0.2 s on a loaded 2-core machine the processes' CPU share decides instead
(docs/scale.md).

    python bench/synth_ray.py [-n 48] [--latency 0.5] [--concurrency 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from fake_dialogue_server import DialogueServerProcess  # noqa: E402
from fake_llm import FIXTURES  # noqa: E402
from ray_cluster import LOOPBACK_ENV, ray_head  # noqa: E402


def run(base_url: str, out: Path, n: int, extra: list[str]) -> float:
    """One CLI run; its dialogues/min."""
    env = {**os.environ, **LOOPBACK_ENV, "TOOLFLOW_CACHE_DIR": "off", "TOOLFLOW_NATIVE_TOOLS": "off",
           "TOOLFLOW_STRUCTURED_MODE": "json_schema", "TOOLFLOW_API_KEY": "sk-bench", "TOOLFLOW_BASE_URL": base_url,
           "TOOLFLOW_MODEL": "fake", "TOOLFLOW_CONCURRENCY": "64", "COLUMNS": "120"}
    cmd = [str(Path(sys.executable).with_name("toolflow")), "synth", "-n", str(n), "--out", str(out), "--tools",
           str(FIXTURES / "tools.jsonl"), "--strategy", "random", "--no-progress", *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(extra) or 'local'} failed:\n{done.stderr[-2000:]}")
    match = re.search(r"dialogues/min\s*│\s*([\d.,]+)", done.stderr)
    if match is None:
        raise RuntimeError(f"no dialogues/min in the summary:\n{done.stderr[-2000:]}")
    return float(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=48, help="Dialogues per run.")
    parser.add_argument("--latency", type=float, default=0.5, help="Seconds per request at the fake server.")
    parser.add_argument("--concurrency", type=int, default=4, help="Dialogues in flight per worker.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    c = args.concurrency
    with DialogueServerProcess(delay=args.latency) as server, ray_head() as head, \
            tempfile.TemporaryDirectory() as tmp:
        ray = ["--executor", "ray", "--ray-address", head.address]
        rates = {
            "local": run(server.base_url, Path(tmp) / "local.jsonl", args.n, ["--concurrency", str(c)]),
            "ray-1": run(server.base_url, Path(tmp) / "r1.jsonl", args.n, [*ray, "--workers", "1", "--concurrency", str(c)]),
            "ray-2": run(server.base_url, Path(tmp) / "r2.jsonl", args.n,
                         [*ray, "--workers", "2", "--concurrency", str(2 * c)]),
        }
    report = {"n": args.n, "latency_s": args.latency, "concurrency_per_worker": c, "dialogues_per_min": rates,
              "ray2_over_ray1": round(rates["ray-2"] / rates["ray-1"], 3),
              "ray1_over_local": round(rates["ray-1"] / rates["local"], 3)}
    if args.json:
        print(json.dumps(report))
        return
    for name, rate in rates.items():
        print(f"{name:>6}: {rate:8.1f} dialogues/min")
    print(f"ray-2 / ray-1 = {report['ray2_over_ray1']:.2f}x (target >= 1.8)   "
          f"ray-1 / local = {report['ray1_over_local']:.2f} (target 0.9-1.1)")


if __name__ == "__main__":
    main()
