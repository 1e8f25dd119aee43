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


def _parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=None, help="pass --concurrency (default: synth's own)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between RSS samples")
    ap.add_argument("--json", action="store_true")
    return ap.parse_args()


class Watch:
    """The llama.cpp server processes under a running synth, and their first and peak RSS."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.first: float | None = None
        self.server_pids: set[int] = set()

    def sample(self, root: int) -> None:
        for pid in children(root):
            if is_server(pid):
                self.server_pids.add(pid)
                mb = rss_mb(pid)
                if mb is not None:
                    self.first = mb if self.first is None else self.first
                    self.peak = max(self.peak, mb)


def _run(args: argparse.Namespace, out: Path, watch: Watch) -> tuple[subprocess.Popen[str], str, str, float]:
    """Run synth into `out`, sampling the server's RSS every `args.interval` s; the process, its stdout and
    stderr, and the wall seconds."""
    toolflow = shutil.which("toolflow", path=str(Path(sys.executable).parent)) or "toolflow"
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARS}
    cmd = [toolflow, "synth", "-n", str(args.n), "--tools", str(TOOLS), "--out", str(out),
           "--seed", str(args.seed), "--no-progress"]
    if args.concurrency is not None:
        cmd += ["--concurrency", str(args.concurrency)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    done_seen = 0
    while proc.poll() is None:
        done = sum(1 for f in (out, out.with_suffix(".rejects.jsonl")) if f.exists() for _ in f.open())
        if done != done_seen:  # a partial run still says something: the peak after each dialogue
            done_seen = done
            print(f"after {done} dialogue(s), {time.perf_counter() - t0:.0f} s: server peak RSS {watch.peak:.0f} MB",
                  file=sys.stderr, flush=True)
        watch.sample(proc.pid)
        time.sleep(args.interval)
    stdout, stderr = proc.communicate()
    return proc, stdout, stderr, time.perf_counter() - t0


def _summary(stdout: str) -> dict:
    """The run summary synth prints as its last JSON line."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def main() -> None:
    args = _parse_args()
    watch = Watch()
    with tempfile.TemporaryDirectory(prefix="toolflow-bench-mem-") as tmp:
        proc, stdout, stderr, secs = _run(args, Path(tmp) / "dialogues.jsonl", watch)
        time.sleep(1.0)
        alive = sorted(p for p in watch.server_pids if Path(f"/proc/{p}").exists())
    summary = _summary(stdout)
    result = {
        "dialogues": args.n,
        "concurrency": args.concurrency or "synth default",
        "exit_code": proc.returncode,
        "seconds": round(secs, 1),
        "server_rss_first_mb": round(watch.first or 0.0, 1),
        "server_rss_peak_mb": round(watch.peak, 1),
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
