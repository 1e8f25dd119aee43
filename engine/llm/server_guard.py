"""Runs the embedded model server so that it never outlives the run that started it, within a memory bound.

``python -m toolflow.engine.llm.server_guard --parent PID [--cache-bytes N] [--module M] -- ARGS…`` runs module
M (``llama_cpp.server``) in this process with ARGS, plus two guards:

  * **Lifetime**: a daemon thread checks twice a second that PID is still our parent; once it is not (the
    run ended by SIGTERM, SIGKILL, a crash — we were re-parented), the process SIGKILLs itself. Unlike
    ``PR_SET_PDEATHSIG`` this works whichever thread started us, and unlike SIGTERM it does not wait for
    the request in flight (an orphan kept burning CPU; measured in docs/llm.md).
  * **Memory**: llama-cpp-python's RAM prompt cache counts only the llama.cpp state of an entry against its
    ``cache_size``, not the copy of the logits each entry also keeps (n_batch × n_vocab floats), so its
    default budget let the server grow far past it (docs/llm.md). With ``--cache-bytes`` the cache class is
    replaced by one that counts every array an entry holds, so the budget is what it costs.
"""

from __future__ import annotations

import argparse
import os
import runpy
import signal
import sys
import threading
import time
from typing import Any

CHECK_EVERY = 0.5  # seconds between parent checks: "ended within a few seconds" with margin


def watch_parent(parent: int, every: float = CHECK_EVERY) -> threading.Thread:
    """Start the daemon thread that SIGKILLs this process once ``parent`` is no longer its parent."""

    def loop() -> None:
        while True:
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(every)

    t = threading.Thread(target=loop, name="toolflow-parent-watch", daemon=True)
    t.start()
    return t


def state_bytes(state: Any) -> int:
    """Bytes a cached LlamaState holds: the llama.cpp state plus the logits and token arrays kept beside it."""
    total = int(getattr(state, "llama_state_size", 0) or 0)
    for name in ("scores", "input_ids"):
        arr = getattr(state, name, None)
        total += int(getattr(arr, "nbytes", 0) or 0)
    return total


def install_counted_ram_cache() -> None:
    """Make ``llama_cpp.LlamaRAMCache`` count whole entries (see the module docstring); the server builds its
    cache from that name when the model loads."""
    import llama_cpp

    base = llama_cpp.LlamaRAMCache

    class CountedRAMCache(base):  # type: ignore[misc, valid-type]
        @property
        def cache_size(self) -> int:
            return sum(state_bytes(s) for s in self.cache_state.values())

    llama_cpp.LlamaRAMCache = CountedRAMCache  # type: ignore[misc]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        cut = argv.index("--")
        own, rest = argv[:cut], argv[cut + 1 :]
    else:
        own, rest = argv, []
    ap = argparse.ArgumentParser(prog="python -m toolflow.engine.llm.server_guard")
    ap.add_argument("--parent", type=int, required=True, help="pid of the run; we exit when it is gone")
    ap.add_argument("--module", default="llama_cpp.server", help="module to run as __main__")
    ap.add_argument("--cache-bytes", type=int, default=None, help="count whole prompt-cache entries against this")
    args = ap.parse_args(own)
    if os.getppid() != args.parent:  # the run died while we were starting
        os.kill(os.getpid(), signal.SIGKILL)
    watch_parent(args.parent)
    if args.cache_bytes is not None:
        install_counted_ram_cache()
    sys.argv = [args.module, *rest]
    runpy.run_module(args.module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
