"""Benchmark: peak resident memory of the embedded llama.cpp server over a real 6-dialogue synth run.

Runs ``toolflow synth -n 6 --tools examples/travel_tools.jsonl`` with the embedded model (no endpoint in
the environment, so ToolFlow starts its own llama.cpp server), and samples the resident set size (VmRSS
from /proc, Linux) of every process under the synth process twice a second. Prints the server's peak RSS,
its RSS at the first sample, the run's wall time and its
kept/rejected counts, and whether the server was gone once synth exited. Numbers only; nothing asserts.
Takes ~8 min on two busy cores. Run it before and after a change to compare (same -n, same seed).

Usage:
  python bench/local_server_memory.py                     # the defaults of `toolflow synth`
  python bench/local_server_memory.py --concurrency 4     # the former default concurrency
  python bench/local_server_memory.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "examples" / "travel_tools.jsonl"
ENDPOINT_VARS = ("TOOLFLOW_BASE_URL", "OPENAI_BASE_URL")
SERVER_MARK = "llama_cpp.server"


def children(pid: int) -> list[int]:
    """Every descendant of pid (from /proc/*/stat parent links)."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent_of.items() if pp == p]
        out += kids
        frontier += kids
    return out


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def is_server(pid: int) -> bool:
    try:
        return SERVER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=None, help="pass --concurrency (default: synth's own)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    toolflow = shutil.which("toolflow", path=str(Path(sys.executable).parent)) or "toolflow"
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARS}
    with tempfile.TemporaryDirectory(prefix="toolflow-bench-mem-") as tmp:
        out = Path(tmp) / "dialogues.jsonl"
        cmd = [toolflow, "synth", "-n", str(args.n), "--tools", str(TOOLS), "--out", str(out),
               "--seed", str(args.seed), "--no-progress"]
        if args.concurrency is not None:
            cmd += ["--concurrency", str(args.concurrency)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        peak = 0.0
        first: float | None = None
        server_pids: set[int] = set()
        done_seen = 0
        while proc.poll() is None:
            done = sum(1 for f in (out, out.with_suffix(".rejects.jsonl")) if f.exists() for _ in f.open())
            if done != done_seen:  # a partial run still says something: the peak after each dialogue
                done_seen = done
                print(f"after {done} dialogue(s), {time.perf_counter() - t0:.0f} s: server peak RSS {peak:.0f} MB",
                      file=sys.stderr, flush=True)
            for pid in children(proc.pid):
                if is_server(pid):
                    server_pids.add(pid)
                    mb = rss_mb(pid)
                    if mb is not None:
                        first = mb if first is None else first
                        peak = max(peak, mb)
            time.sleep(args.interval)
        stdout, stderr = proc.communicate()
        secs = time.perf_counter() - t0
        time.sleep(1.0)
        alive = sorted(p for p in server_pids if Path(f"/proc/{p}").exists())
    summary: dict = {}
    for line in reversed(stdout.strip().splitlines()):
        try:
            summary = json.loads(line)
            break
        except ValueError:
            continue
    result = {
        "dialogues": args.n,
        "concurrency": args.concurrency or "synth default",
        "exit_code": proc.returncode,
        "seconds": round(secs, 1),
        "server_rss_first_mb": round(first or 0.0, 1),
        "server_rss_peak_mb": round(peak, 1),
        "kept": summary.get("kept"),
        "rejected": summary.get("rejected"),
        "errored": summary.get("errored"),
        "server_alive_after_exit": alive,
    }
    if summary.get("errored"):  # e.g. request timeouts on an overloaded machine: say why, in short
        result["errors"] = [ln.strip() for ln in stderr.splitlines() if "error" in ln.lower()][-5:]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:26s} {v}")
    if proc.returncode not in (0, 1):
        print(stderr[-2000:], file=sys.stderr)


if __name__ == "__main__":
    main()
