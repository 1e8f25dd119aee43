"""`--workers N`: one job over N processes, into one output.

One process's CPU limits how many requests per second the `openai` client can drive (docs/llm.md), so a large
run against a fast endpoint needs more processes. The parent
holds the output's lock, repairs and reads what is done, checks the job fingerprint and resolves every
sample's tools (so children never touch a graph store connection); then it forks N children, each taking
every N-th dialogue of the work left, appending to the same files (one O_APPEND write per record, so lines
never interleave). Dialogue ids are per index, so the result is the same job a single process would write,
resumable the same way. Near-duplicates are caught against what was kept before the run and within each
worker, not across workers of one run.

Each child dies with the parent (`lifetime.die_with_parent`) and holds a worker lock for its life, so a
resume after the parent was killed never runs beside a worker of the earlier run.

Fork, not spawn: the children inherit the LLM object (and a test's fake), the embedded model server started
by the parent, and the prepared work, with nothing to pickle. The LLM must not have opened connections yet.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock
from rich.console import Console

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Sample, Tool
from toolflow.engine.sampling.sources import SampleSource
from toolflow.engine.synth.guard import JobLock, check_paths
from toolflow.engine.synth.job import Prepared, RunConfig, RunSummary, execute, prepare
from toolflow.engine.synth.lifetime import die_with_parent


class PreparedSource:
    """The tools of the prepared samples, resolved in the parent: children read no store."""

    def __init__(self, tools: dict[str, Tool], missing: dict[str, str]) -> None:
        self._tools, self._missing = tools, missing

    def samples(self, n: int, seed: int, strategy: str):  # pragma: no cover - children get samples prepared
        raise RuntimeError("a worker's samples are prepared by the parent")

    def tools(self, ids: Sequence[str]) -> list[Tool]:
        for i in ids:
            if i in self._missing:
                raise KeyError(self._missing[i])
        return [self._tools[i] for i in ids]


def _resolve(source: SampleSource, todo: list[tuple[int, Sample]]) -> PreparedSource:
    tools: dict[str, Tool] = {}
    missing: dict[str, str] = {}
    for _, sample in todo:
        for tid in sample.tool_ids:
            if tid in tools or tid in missing:
                continue
            try:
                tools[tid] = source.tools([tid])[0]
            except KeyError as exc:
                missing[tid] = str(exc)
    return PreparedSource(tools, missing)


def merge(summaries: list[RunSummary]) -> RunSummary:
    out = RunSummary()
    for s in summaries:
        out.kept += s.kept
        out.rejected_total += s.rejected_total
        out.budget_stopped += s.budget_stopped
        out.planner_skipped += s.planner_skipped
        for name in ("rejected", "errors", "flags", "plan_sources"):
            merged = getattr(out, name)
            for k, v in getattr(s, name).items():
                merged[k] = merged.get(k, 0) + v
        for name in ("usage", "kept_usage", "rejected_usage"):
            getattr(out, name).merge(getattr(s, name))
        for scenario, counts in s.scenarios.items():
            mine = out.scenarios.setdefault(scenario, {"kept": 0, "rejected": 0})
            mine.update({k: mine.get(k, 0) + v for k, v in counts.items()})
        out.models = out.models or s.models
        out.elapsed_s = max(out.elapsed_s, s.elapsed_s)
    return out


def run_with_workers(llm: LLM, source: SampleSource, config: RunConfig, workers: int, *,
                     console: Console | None = None) -> RunSummary:
    """Like `run_synthesis`, over `workers` forked processes (call it outside any event loop)."""
    console = console or Console(stderr=True)
    check_paths(config.out, config.rejects_path, config.inputs)
    with JobLock(config.out) as job_lock:
        prepared = prepare(llm, source, config)
        shared = _resolve(source, prepared.todo)
        ctx = multiprocessing.get_context("fork")
        budget = None if config.budget_tokens is None else max(1, config.budget_tokens // workers)
        child_config = config.model_copy(update={"budget_tokens": budget})
        pipes, procs = [], []
        for w in range(workers):
            part = Prepared(todo=prepared.todo[w::workers], dedup=prepared.dedup, started=prepared.started)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, daemon=True,
                               args=(llm, shared, child_config, part, send, os.getpid(), job_lock.worker_lock(w)))
            proc.start()
            send.close()
            pipes.append(recv)
            procs.append(proc)
        summaries = []
        for w, (recv, proc) in enumerate(zip(pipes, procs, strict=True)):
            try:
                summaries.append(RunSummary.model_validate_json(recv.recv()))
            except EOFError:
                console.print(f"[yellow]worker {w} ended without a summary (exit {proc.exitcode}); rerun to "
                              "finish its dialogues[/]")
            proc.join()
        summary = merge(summaries)
        summary.in_shard, summary.skipped = prepared.in_shard, prepared.skipped
        if not summaries:
            summary.usage = UsageTracker()
        return summary


def _child(llm: LLM, source: PreparedSource, config: RunConfig, part: Prepared, send, parent: int,
           lock_file: Path) -> None:
    code = 1
    try:
        die_with_parent(parent)  # a killed parent must not leave workers writing beside the resume
        lock = FileLock(str(lock_file), timeout=0)
        lock.acquire()  # held until this process ends: a resume is refused while it lives
        summary = asyncio.run(execute(llm, source, config, part, console=Console(stderr=True), show_progress=False))
        send.send(summary.model_dump_json())
        code = 0
    finally:
        send.close()
        os._exit(code)  # skip the parent's atexit handlers (it owns the model server and the lock)
