"""`--executor ray`: one job's dialogues played on a Ray cluster, written by the driver alone.

The driver does what a local run does before and after the LLM: it holds the output's lock, repairs
and reads what is done, checks the job fingerprint (`job.prepare`), resolves each sample's tools (so
workers need no graph store: an embedded store is a local folder) and writes every outcome with the
same dedup, planner gate and budget rules. Only `synthesize` runs remotely, on `SynthWorker` actors.

Limits hold across the cluster because the driver owns them: ``concurrency`` is the number of dialogues
in flight over all workers (each on the least busy one), the endpoint's request limit is split among the workers
that share it, and the token budget is checked by the driver before each dialogue starts. A worker
that dies takes only its in-flight dialogues with it; the driver puts them back in the queue for the
others, and since only the driver writes, and only once per index, nothing is written twice. Ctrl-C
(or a killed driver) ends the actors with their owner; what was written stays, the rerun resumes.

Ray is imported only through `toolflow.engine.raycluster`, and this module only when the executor is asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from rich.console import Console

from toolflow.engine.llm.base import LLM, Usage, UsageTracker
from toolflow.engine.models import Checks, Dialogue, Meta, Sample
from toolflow.engine.progress import progress_bar
from toolflow.engine.raycluster import READY_TIMEOUT_S, RayOptions, ray_session
from toolflow.engine.sampling.sources import SampleSource
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.checks import dedup_text, reason_code
from toolflow.engine.synth.guard import JobLock, check_paths
from toolflow.engine.synth.job import AGENT_ROLES, Prepared, RunConfig, RunSummary, dialogue_config, prepare
from toolflow.engine.synth.jsonl import JsonlAppender
from toolflow.engine.synth.loop import SynthConfig
from toolflow.engine.synth.ray_worker import DialogueTask, Outcome, SynthWorker
from toolflow.engine.synth.reasons import Reason


def worker_factories(llm: LLM, workers: int, base_urls: list[str]) -> list[Callable[[], LLM]]:
    """One picklable LLM factory per worker: endpoints spread round-robin over workers, each endpoint's
    request limit split among the workers that share it (the limit holds across the cluster)."""
    from functools import partial

    from toolflow.engine.llm.client import OpenAIClientLLM

    settings = getattr(llm, "settings", None)
    if settings is None:
        raise ValueError("--executor ray needs an OpenAI-compatible endpoint (the LLM settings are shipped to "
                         "every worker)")
    urls = base_urls or [settings.base_url]
    sharing = Counter(urls[w % len(urls)] for w in range(workers))
    out: list[Callable[[], LLM]] = []
    for w in range(workers):
        url = urls[w % len(urls)]
        per = settings.model_copy(update={"base_url": url, "concurrency": max(1, settings.concurrency // sharing[url])})
        out.append(partial(OpenAIClientLLM, per))
    return out


def run_with_ray(llm: LLM, source: SampleSource, config: RunConfig, options: RayOptions, *,
                 factories: list[Callable[[], LLM]], console: Console | None = None,
                 show_progress: bool = True) -> RunSummary:
    """Like `run_synthesis`, with the dialogues played by `len(factories)` Ray workers (call it outside any
    event loop). `llm` answers the driver's questions only (model names for the fingerprint)."""
    console = console or Console(stderr=True)
    check_paths(config.out, config.rejects_path, config.inputs)
    with JobLock(config.out):
        prepared = prepare(llm, source, config)
        models = {r: llm.model_for(r) for r in AGENT_ROLES}
        with ray_session(options.model_copy(update={"workers": len(factories)})) as ray:
            remote = ray.remote(SynthWorker).options(num_cpus=options.worker_cpus, max_restarts=0,
                                                     max_concurrency=max(8, config.concurrency))
            actors = [remote.remote(f) for f in factories]
            try:
                pids = ray.get([a.pid.remote() for a in actors], timeout=READY_TIMEOUT_S)
                console.print(f"ray: {len(actors)} worker(s) ready (pids {', '.join(map(str, pids))}) in "
                              f"{time.monotonic() - prepared.started:.1f}s")
                prepared.started = time.monotonic()  # dialogues/min counts the run, not the cluster's start
                driver = Driver(ray, actors, source, config, prepared, console, models)
                return asyncio.run(driver.run(show_progress))
            finally:
                for actor in actors:
                    with contextlib.suppress(Exception):
                        ray.kill(actor)


class Recorder:
    """The driver's half of a local run's bookkeeping: near-duplicates, planner gate, counts, the writes."""

    def __init__(self, config: RunConfig, prepared: Prepared, console: Console) -> None:
        self.config, self.dedup, self.console = config, prepared.dedup, console
        self.summary = RunSummary(in_shard=prepared.in_shard, skipped=prepared.skipped)
        self.counts: dict[str, Counter[str]] = {k: Counter() for k in ("rejected", "flags", "errors", "plan_sources")}
        self.gate = {"asked": 0, "ok": 0, "open": True}
        self.written: set[int] = set()
        self.out = JsonlAppender(config.out)
        self.rejects = JsonlAppender(config.rejects_path)

    def over_budget(self) -> bool:
        return self.config.budget_tokens is not None and self.summary.usage.total().tokens >= self.config.budget_tokens

    def _planner_gate(self, d: Dialogue) -> None:
        c, gate = self.config, self.gate
        if not c.plan or c.planner_gate == 0 or not gate["open"] or d.meta.plan_source is None:
            return
        if (d.meta.planner_problem or "").startswith("planner_skipped"):
            return
        gate["asked"] += 1
        gate["ok"] += d.meta.plan_source == "llm"
        if gate["asked"] >= c.planner_gate and gate["ok"] < c.planner_min_success * gate["asked"]:
            gate["open"] = False
            self.console.print(f"[yellow]planner: {gate['ok']} valid plan(s) in {gate['asked']} dialogues; planning "
                               "the rest from the sample's skeleton without asking it[/]")

    def record(self, d: Dialogue) -> None:
        """Write one finished dialogue (once per index, whatever a dead worker sent before)."""
        if d.meta.index in self.written:
            return
        self.written.add(d.meta.index)
        s = self.summary
        if d.checks.passed and (match := self.dedup.check_and_add(d.id, dedup_text(d))) is not None:
            d.checks = Checks(passed=False, failed=[*d.checks.failed, f"{Reason.NEAR_DUPLICATE}: of {match}"],
                              flags=d.checks.flags)
        self.counts["flags"].update(reason_code(f) for f in d.checks.flags)
        if d.meta.plan_source:
            self.counts["plan_sources"][d.meta.plan_source] += 1
        self._planner_gate(d)
        tokens = UsageTracker(by_role={r: Usage(**u) for r, u in d.meta.tokens.items()})
        if d.checks.passed:
            self.out.write(d)
            s.kept += 1
            s.kept_usage.merge(tokens)
        else:
            self.rejects.write(d)
            s.rejected_total += 1
            s.rejected_usage.merge(tokens)
            self.counts["rejected"].update({reason_code(r) for r in d.checks.failed} or {"unknown"})

    def close(self, started: float) -> RunSummary:
        self.out.close()
        self.rejects.close()
        for name, counter in self.counts.items():
            setattr(self.summary, name, dict(counter))
        self.summary.elapsed_s = time.monotonic() - started
        return self.summary


class Driver:
    """Hands the queue's dialogues to the workers, `concurrency` in flight over all of them, and records what
    comes back; a dead worker's dialogue goes back to the front of the queue for the others."""

    def __init__(self, ray: Any, actors: list[Any], source: SampleSource, config: RunConfig, prepared: Prepared,
                 console: Console, models: dict[str, str]) -> None:
        self.ray, self.actors, self.source, self.config = ray, actors, source, config
        self.prepared, self.console = prepared, console
        self.queue: deque[tuple[int, Sample]] = deque(prepared.todo)
        self.rec = Recorder(config, prepared, console)
        self.rec.summary.models = models
        self.alive = set(range(len(actors)))
        self.load = [0] * len(actors)
        self.shown: set[str] = set()

    def _synth_config(self, index: int) -> SynthConfig:
        return dialogue_config(self.config, index, use_planner=bool(self.rec.gate["open"]))

    def _task(self, index: int, sample: Sample) -> DialogueTask | None:
        """The task for one dialogue, or None when its tools are gone (recorded as a reject, as locally)."""
        try:
            tools = self.source.tools(sample.tool_ids)
        except KeyError as exc:
            c = self.config
            self.rec.record(Dialogue(
                id=dialogue_id(c.seed, index), tools=[], messages=[], sample=sample,
                checks=Checks(passed=False, failed=[f"{Reason.SAMPLE_TOOLS_MISSING}: {exc}"]),
                meta=Meta(index=index, seed=c.seed, strategy=c.strategy, plan=c.plan)))
            return None
        self.rec.summary.planner_skipped += self.config.plan and not self.rec.gate["open"]
        return DialogueTask(index=index, sample=sample, tools=tools, config=self._synth_config(index),
                            retries=self.config.retries)

    def _take(self, outcome: Outcome) -> None:
        s = self.rec.summary
        s.usage.merge(outcome.usage)
        s.rejected_usage.merge(outcome.wasted)
        for err in outcome.errors:
            if err.name not in self.shown:
                self.shown.add(err.name)
                self.console.print(f"[yellow]dialogue {outcome.index} raised {err.name}: {err.message}[/]")
        if outcome.dialogue is not None:
            self.rec.record(outcome.dialogue)
        elif outcome.errors:
            self.rec.counts["errors"][outcome.errors[-1].name] += 1

    def _pick(self) -> int:
        """The live worker with the fewest dialogues in flight (the lowest index on a tie)."""
        return min(self.alive, key=lambda w: (self.load[w], w))

    async def _slot(self, advance: Callable[[], None]) -> None:
        """One of the run's `concurrency` places: dialogue after dialogue, each on the least busy worker."""
        from ray.exceptions import RayActorError

        while self.queue and self.alive:
            index, sample = self.queue.popleft()
            if self.rec.over_budget():  # no half dialogue: those in flight finish, no new one starts
                self.rec.summary.budget_stopped += 1
                advance()
                continue
            task = self._task(index, sample)
            if task is None:
                advance()
                continue
            w = self._pick()
            self.load[w] += 1
            try:
                outcome = await self.actors[w].run.remote(task)
            except RayActorError as exc:
                self.queue.appendleft((index, sample))
                if w in self.alive:
                    self.alive.discard(w)
                    self.console.print(f"[yellow]worker {w} died ({type(exc).__name__}); its dialogues go to the "
                                       f"{len(self.alive)} left[/]")
                continue
            finally:
                self.load[w] -= 1
            self._take(outcome)
            advance()

    async def run(self, show_progress: bool) -> RunSummary:
        started = self.prepared.started
        n = len(self.queue)
        if self.config.concurrency < len(self.actors):
            self.console.print(f"[yellow]--concurrency {self.config.concurrency} keeps at most that many of the "
                               f"{len(self.actors)} workers busy[/]")
        progress = progress_bar(self.console, disable=not show_progress,
                                extra="kept {task.fields[kept]} · rejected {task.fields[rej]}")
        bar = progress.add_task("synth", total=n, kept=0, rej=0)

        def advance() -> None:
            progress.update(bar, advance=1, kept=self.rec.summary.kept, rej=self.rec.summary.rejected_total)

        try:
            with progress:
                await asyncio.gather(*(self._slot(advance) for _ in range(min(self.config.concurrency, n) or 1)))
            if self.queue:  # every worker died: what is left is not started, a rerun does it
                self.rec.counts["errors"]["WorkerDied"] += len(self.queue)
                self.console.print(f"[red]no worker left; {len(self.queue)} dialogue(s) not started (rerun)[/]")
        finally:
            summary = self.rec.close(started)
        return summary
