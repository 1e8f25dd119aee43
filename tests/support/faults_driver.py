"""Child process for tests/integration/stores/test_faults.py (real SIGKILLs need a process to kill).

    python faults_driver.py build STORE POINT   build the ToolBench "Email" graph (hashing embedder) into
                                                 STORE; at POINT print PAUSED and wait to be killed.
                                                 POINT: a write step ("tools", "fields", "matches", …; the
                                                 first progress tick of that name), "swap" (Ladybug: all
                                                 written and marked complete, just before the symlink swap)
                                                 or "none" (run to the end, print DONE).
    python faults_driver.py read STORE SECONDS [STOP]
                                                 reopen STORE and print its counts as JSON lines, for SECONDS
                                                 or until the file STOP exists (then one last read), then END.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_helpers import hashing_graph, toolbench_raw_categories  # noqa: E402

from toolflow.engine.stores import open_store  # noqa: E402

BIG_CATEGORY = "Email"


def pause() -> None:
    print("PAUSED", flush=True)
    time.sleep(600)


def build(spec: str, point: str) -> None:
    graph = hashing_graph(toolbench_raw_categories(BIG_CATEGORY))

    def progress(what: str, advance: int, total: int) -> None:
        if what.lower() == point:
            pause()

    if point == "swap":
        real_replace = os.replace

        def replace(src, dst):  # noqa: ANN001
            if Path(dst).name == "current":
                pause()
            return real_replace(src, dst)

        os.replace = replace
    with open_store(spec) as store:
        print("WRITING", len(graph.tools), flush=True)
        store.write_graph(graph, progress)
    print("DONE", flush=True)


def read(spec: str, seconds: float, stop: Path | None = None) -> None:
    """Read until `seconds` pass, or until `stop` exists: then one more read, begun after it appeared (so the
    last line is a read that started after whatever the test did before creating `stop`), and END."""
    end = time.monotonic() + seconds
    last = False
    while time.monotonic() < end and not last:
        last = stop is not None and stop.exists()
        try:
            with open_store(spec, read_only=True) as store:
                counts = store.counts()
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
            continue
        print(json.dumps(counts), flush=True)
    print("END", flush=True)


if __name__ == "__main__":
    mode, spec, arg = sys.argv[1:4]
    if mode == "build":
        build(spec, arg.lower())
    else:
        read(spec, float(arg), Path(sys.argv[4]) if len(sys.argv) > 4 else None)
