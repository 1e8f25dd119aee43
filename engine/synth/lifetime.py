"""A forked worker ends when its parent does.

`synth --workers N` forks N children that append to the run's output. If the parent is killed (``kill -9``)
the children would go on writing while a resume of the same job starts writing the same dialogues: every
id they share then appears twice. So each child asks the kernel for SIGKILL when its parent dies
(Linux ``prctl(PR_SET_PDEATHSIG)``), and, where that does not exist, polls its parent's pid.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

#: linux/prctl.h
PR_SET_PDEATHSIG = 1
#: How often the portable fallback looks at the parent pid (seconds).
POLL_S = 0.5


def _set_pdeathsig() -> bool:
    """True when the kernel will SIGKILL this process as its parent thread ends."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_S):
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int) -> None:
    """Call first thing in a forked child: the child ends when `parent` does, whichever way it ends.

    The poll also covers the moment between the fork and the prctl call (the parent already gone: the
    child was re-parented, so ``getppid`` differs) and platforms without PR_SET_PDEATHSIG.
    """
    _set_pdeathsig()
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="die-with-parent", daemon=True).start()
