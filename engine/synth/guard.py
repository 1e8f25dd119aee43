"""One writer per output, one job per file.

- a lock (`filelock`) on ``<out>.lock``, ``out`` resolved (a symlink to the same file is the same output),
  refuses a second run writing the same output at the same time (two runs on one ``--out`` used to write
  every dialogue twice); each forked worker of a run holds ``<out>.lock.worker<i>`` for its life, and a
  run is refused while any worker of an earlier one still holds its lock;
- a job fingerprint in ``<out>.job.json`` (what the dialogues depend on: the first samples of the job, so
  inputs, graph, strategy and seed alike; plan mode, turns, models, toolflow version) refuses a resume
  with other settings unless ``force`` (which used to mix two jobs in one file, reported as "skipped");
- the output may be neither the rejects file nor an input file, and must be a regular file.

`n`, `--shard`, `--concurrency` and `--retries` are not part of the job: extending a job, sharding it
and resuming it with more workers are all the same job.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from toolflow.engine import __version__
from toolflow.engine.errors import ConfigError

#: How many leading samples identify the job's inputs (prefix-stable: sample i does not depend on n).
FINGERPRINT_SAMPLES = 100


class JobConflict(ValueError, ConfigError):
    """The output belongs to another job or is in use; the message says what to do."""


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


def job_path(out: Path) -> Path:
    return out.with_name(out.name + ".job.json")


def check_paths(out: Path, rejects: Path, inputs: Iterable[Path]) -> None:
    """Refuse outputs that would overwrite or mix with something else."""
    def same(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
        except OSError:
            return False

    if same(out, rejects):
        raise JobConflict(f"--out and --rejects are the same file ({out}): rejected dialogues would be exported "
                          "as training data")
    for path in inputs:
        for what, target in (("--out", out), ("--rejects", rejects)):
            if same(target, path):
                raise JobConflict(f"{what} {target} is an input of this job: choose another output file")
    for what, target in (("--out", out), ("--rejects", rejects)):
        if target.exists() and not target.is_file():
            raise JobConflict(f"{what} {target} is not a regular file")


class JobLock:
    """Exclusive right to write one output; released on exit (and by the OS if the process dies).

    Keyed on the resolved path: ``--out link.jsonl`` and ``--out target.jsonl`` are one output.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = lock_path(out.resolve())
        self._lock = FileLock(str(self.path), timeout=0)

    def __enter__(self) -> JobLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise JobConflict(f"another run is writing to {self.out} (lock {self.path}): wait for it to "
                              "finish, or write this run to another --out") from None
        busy = self._live_workers()
        if busy:
            self._lock.release()
            raise JobConflict(f"{len(busy)} worker(s) of an earlier run are still writing to {self.out} (locks "
                              f"{', '.join(p.name for p in busy)}): wait for them to end before resuming")
        return self

    def _live_workers(self) -> list[Path]:
        """Worker locks still held; the free ones (their worker ended) are removed."""
        busy = []
        for path in sorted(self.path.parent.glob(glob.escape(self.path.name) + ".worker*")):
            lock = FileLock(str(path), timeout=0)
            try:
                lock.acquire()
            except Timeout:
                busy.append(path)
                continue
            lock.release()
            path.unlink(missing_ok=True)
        return busy

    def worker_lock(self, index: int) -> Path:
        """The lock file worker `index` of this run holds in its own process until it exits (a `FileLock`
        made in the worker: filelock refuses one inherited across fork)."""
        return self.path.with_name(f"{self.path.name}.worker{index}")

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def fingerprint(*, samples: Sequence[Sequence[str]], settings: dict[str, Any], models: dict[str, str]) -> dict[str, Any]:
    """What makes two runs the same job (see the module docstring)."""
    digests = [hashlib.sha256(json.dumps(list(s)).encode()).hexdigest()[:12] for s in samples[:FINGERPRINT_SAMPLES]]
    return {"samples": digests, **settings, "models": models, "toolflow_version": __version__}


def _differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Keys that differ; for `samples` only the common prefix counts (a larger n extends the same job)."""
    diff = []
    for key in sorted(set(stored) | set(current)):
        a, b = stored.get(key), current.get(key)
        if key == "samples" and isinstance(a, list) and isinstance(b, list):
            k = min(len(a), len(b))
            if a[:k] != b[:k]:
                diff.append(key)
        elif a != b:
            diff.append(key)
    return diff


def check_fingerprint(out: Path, current: dict[str, Any], *, force: bool, resuming: bool) -> None:
    """Compare with the stored fingerprint (or store it). A resume without one (an output written before
    fingerprints existed) is accepted and the fingerprint recorded."""
    path = job_path(out)
    if path.exists() and not force:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JobConflict(f"{path}: unreadable job fingerprint ({exc}); remove it or pass --force") from exc
        diff = _differences(stored, current)
        if diff and resuming:
            what = ", ".join(f"{k}: {stored.get(k)!r} → {current.get(k)!r}" for k in diff if k != "samples")
            if "samples" in diff:
                what = ", ".join(x for x in (what, "the sampled tool combinations (tools, graph, strategy or seed)") if x)
            raise JobConflict(f"{out} holds another job ({what}): resume with the same settings, write to another "
                              "--out, or pass --force to mix them")
        if not diff and len(current.get("samples", [])) <= len(stored.get("samples", [])):
            return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
