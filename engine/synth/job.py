"""A synthesis run: many dialogues, resumable, shardable, concurrent.

Durability contract (what makes `kill -9` + rerun safe):
- kept dialogues go to `out`, rejected ones (with reasons) to `rejects`; both append-only JSONL;
- each record is written with ONE ``os.write`` on an O_APPEND descriptor, then fsync'ed, so a crash
  leaves at most one truncated last line;
- on start both files are read, a truncated last line is cut off (earlier lines untouched), and every
  id found is skipped. Ids are a pure function of (seed, index), so the rerun redoes exactly the
  missing indices.
Dialogues that raise (server down, bug) after their retries are NOT written: a rerun retries them.

Shards (``index % n == i``) are disjoint, so their outputs can simply be concatenated. Shards running
at the same time should write to their own files: the start-up repair of one process could otherwise
cut a line another process is writing at that very moment.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from rich.console import Console

from toolflow.engine.llm.base import LLM, Usage, UsageTracker
from toolflow.engine.models import Checks, Dialogue, Meta, Sample
from toolflow.engine.progress import progress_bar
from toolflow.engine.sampling.sources import SampleSource
from toolflow.engine.secrets import redact
from toolflow.engine.seeds import dialogue_id
from toolflow.engine.synth.checks import NearDuplicateIndex, dedup_text, reason_code
from toolflow.engine.synth.config import DialogueKnobs
from toolflow.engine.synth.guard import (
    FINGERPRINT_SAMPLES,
    JobLock,
    check_fingerprint,
    check_paths,
    fingerprint,
)
from toolflow.engine.synth.jsonl import JsonlAppender, iter_records, rejects_path_for
from toolflow.engine.synth.loop import SynthConfig, synthesize, target_turns_for
from toolflow.engine.synth.reasons import Reason
from toolflow.engine.synth.scenarios import STANDARD, scenario_for

#: The agent roles a synthesis run uses (the judge belongs to evaluation).
AGENT_ROLES = ("planner", "user", "assistant", "tool")


class RunConfig(DialogueKnobs):
    """A whole job: how many dialogues, where they go, how they are drawn and run (the knobs each dialogue
    shares are `DialogueKnobs`')."""

    n: int = Field(ge=0, description="Dialogues in the whole job (all shards together).")
    out: Path = Field(description="Kept dialogues, JSONL, appended to (and resumed from).")
    rejects: Path | None = Field(default=None, description="Rejected dialogues with reasons. Default: "
                                 "<out>.rejects.jsonl beside out.")
    strategy: Literal["walk", "random", "category"] = Field(
        default="walk", description="How tool combinations are drawn: walk (graph random walk), random (the "
        "paper's −Graph ablation) or category.")
    turns: tuple[int, int] = Field(default=(3, 5), description="Planned user turns per dialogue: LOW-HIGH.")
    concurrency: int = Field(default=4, ge=1, description="Dialogues in flight at once.")
    shard: tuple[int, int] = Field(default=(0, 1), description="Run part i of n: the indices with index % n == i.")
    retries: int = Field(default=1, ge=0, description="Extra attempts for a dialogue that errors.")
    dedup_threshold: float = Field(default=0.9, gt=0, le=1)
    budget_tokens: int | None = Field(
        default=None, ge=1, description="Stop cleanly once the run has spent this many tokens (dialogues in "
        "flight finish; rerun to go on).")
    planner_gate: int = Field(
        default=3, ge=0, description="After this many planned dialogues, stop asking a planner that (almost) never "
        "succeeds; 0 = always ask. Three failures in a row, each after its re-asks, is strong evidence: "
        "SmolLM2-135M failed every plan of every measured run.")
    planner_min_success: float = Field(default=0.25, ge=0, le=1,
                                       description="The planner success share below which the gate closes.")
    force: bool = Field(default=False, description="Resume even when the output holds a job with other settings "
                        "(the file then mixes two jobs).")
    inputs: list[Path] = Field(default_factory=list, description="Input files the outputs must not be.")
    mix: dict[str, float] = Field(default_factory=dict, description="Scenario shares (synth.scenarios); the "
                                                                    "rest are standard dialogues.")

    @field_validator("shard")
    @classmethod
    def _shard(cls, v: tuple[int, int]) -> tuple[int, int]:
        i, n = v
        if n < 1 or not 0 <= i < n:
            raise ValueError(f"shard must be i/n with 0 <= i < n, got {i}/{n}")
        return v

    @property
    def rejects_path(self) -> Path:
        return self.rejects or rejects_path_for(self.out)


class RunSummary(BaseModel):
    in_shard: int = 0
    skipped: int = 0
    kept: int = 0
    rejected_total: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    flags: dict[str, int] = Field(default_factory=dict)
    plan_sources: dict[str, int] = Field(
        default_factory=dict, description="Finished dialogues by where their plan came from: llm | skeleton.")
    usage: UsageTracker = Field(default_factory=UsageTracker, description="Everything this run spent.")
    kept_usage: UsageTracker = Field(default_factory=UsageTracker, description="Tokens of the kept dialogues.")
    rejected_usage: UsageTracker = Field(default_factory=UsageTracker,
                                         description="Tokens of rejected and errored dialogues (waste).")
    budget_stopped: int = Field(default=0, description="Dialogues not started because --budget-tokens was spent.")
    planner_skipped: int = Field(default=0, description="Dialogues planned from the skeleton without asking the "
                                 "planner, after the planner gate closed.")
    models: dict[str, str] = Field(default_factory=dict)
    scenarios: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per planned scenario: kept and rejected dialogues.")
    elapsed_s: float = 0.0

    def per_kept(self) -> dict[str, float]:
        """Tokens per kept dialogue per role: everything spent (waste included) over what was kept."""
        return {role: u.tokens / self.kept for role, u in self.usage.by_role.items()} if self.kept else {}

    @property
    def finished(self) -> int:
        return self.kept + self.rejected_total

    @property
    def per_minute(self) -> float:
        return self.finished / self.elapsed_s * 60 if self.elapsed_s > 0 else 0.0


def in_shard(index: int, shard: tuple[int, int]) -> bool:
    return index % shard[1] == shard[0]


def _reject_without_dialogue(dlg_id: str, index: int, sample: Sample, reason: str, config: RunConfig) -> Dialogue:
    return Dialogue(id=dlg_id, tools=[], messages=[], sample=sample, checks=Checks(passed=False, failed=[reason]),
                    meta=Meta(index=index, seed=config.seed, strategy=config.strategy, plan=config.plan))


async def run_synthesis(
    llm: LLM,
    source: SampleSource,
    config: RunConfig,
    *,
    console: Console | None = None,
    show_progress: bool = True,
) -> RunSummary:
    """Synthesize the not-yet-finished dialogues of this shard; returns what happened.

    Raises JobConflict (a one-line reason) when the output is in use by another run, belongs to a job with
    other settings (unless ``config.force``), or is the rejects file or an input.
    """
    check_paths(config.out, config.rejects_path, config.inputs)
    with JobLock(config.out):
        prepared = prepare(llm, source, config)
        return await execute(llm, source, config, prepared, console=console or Console(stderr=True),
                             show_progress=show_progress)


@dataclass
class Prepared:
    """What a run found before starting: the work left (index, sample) and the kept texts for dedup."""

    todo: list[tuple[int, Sample]]
    dedup: NearDuplicateIndex
    in_shard: int = 0
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)


def prepare(llm: LLM, source: SampleSource, config: RunConfig) -> Prepared:
    """Read what is done (repairing a torn last line), enumerate this shard's samples, check the job's
    fingerprint. Call with the output's JobLock held."""
    done: set[str] = set()
    dedup = NearDuplicateIndex(threshold=config.dedup_threshold)
    for r in iter_records(config.out):  # streamed: a resume never holds the whole output in memory
        done.add(r.get("id", ""))
        dedup.add(r.get("id", ""), dedup_text(r))
    done.update(r.get("id", "") for r in iter_records(config.rejects_path))

    prepared = Prepared(todo=[], dedup=dedup)
    head: list[list[str]] = []  # the job's first samples: its fingerprint
    for index, sample in enumerate(source.samples(config.n, config.seed, config.strategy)):
        if index >= config.n:
            break
        if index < FINGERPRINT_SAMPLES:
            head.append(sample.tool_ids)
        if not in_shard(index, config.shard):
            continue
        prepared.in_shard += 1
        if dialogue_id(config.seed, index) in done:
            prepared.skipped += 1
        else:
            prepared.todo.append((index, sample))
    job = fingerprint(samples=head, models={r: llm.model_for(r) for r in AGENT_ROLES}, settings={
        "seed": config.seed, "strategy": config.strategy, "plan": config.plan, "turns": list(config.turns),
        "max_turns": config.max_turns, "max_steps": config.max_steps,
        **({"mix": dict(sorted(config.mix.items()))} if config.mix else {})})
    check_fingerprint(config.out, job, force=config.force, resuming=bool(done))
    return prepared


def dialogue_config(config: RunConfig, index: int, *, use_planner: bool) -> SynthConfig:
    """The settings of dialogue `index` of a run: the one place both executors (local, Ray) take them from."""
    return SynthConfig(
        plan=config.plan, target_turns=target_turns_for(config.seed, index, *config.turns),
        max_turns=config.max_turns, max_steps=config.max_steps, seed=config.seed, strategy=config.strategy,
        use_planner=use_planner, blueprint=config.blueprint, flag_only=config.flag_only,
        scenario=scenario_for(config.mix, config.seed, index) if config.plan else STANDARD,
        **{k: v for k in ("result_items", "result_chars", "result_tokens") if (v := getattr(config, k)) is not None})


async def execute(llm: LLM, source: SampleSource, config: RunConfig, prepared: Prepared, *, console: Console,
                  show_progress: bool) -> RunSummary:
    """Synthesize `prepared.todo`, appending to the outputs (safe to run in several processes at once:
    each record is one O_APPEND write)."""
    run = _Execution(llm, source, config, prepared, console)
    items = iter(prepared.todo)
    progress = progress_bar(console, disable=not show_progress,
                            extra="kept {task.fields[kept]} · rejected {task.fields[rej]}")
    task = progress.add_task("synth", total=len(prepared.todo), kept=0, rej=0)

    async def worker() -> None:
        for index, sample in items:
            if run.over_budget():  # no half dialogue: those in flight finish, no new one starts (a rerun resumes)
                run.summary.budget_stopped += 1
                continue
            await run.one(index, sample)
            progress.update(task, advance=1, kept=run.summary.kept, rej=run.summary.rejected_total)

    try:
        with progress:
            await asyncio.gather(*(worker() for _ in range(min(config.concurrency, len(prepared.todo)) or 1)))
    finally:
        run.close()
    return run.summary


class _Execution:
    """The state of one `execute`: the writers, the counters, the planner gate; one method per step."""

    def __init__(self, llm: LLM, source: SampleSource, config: RunConfig, prepared: Prepared, console: Console):
        self.llm, self.source, self.config, self.console = llm, source, config, console
        self.started = prepared.started
        self.summary = RunSummary(in_shard=prepared.in_shard, skipped=prepared.skipped,
                                  models={r: llm.model_for(r) for r in AGENT_ROLES})
        self.dedup = prepared.dedup
        self.out_w, self.rej_w = JsonlAppender(config.out), JsonlAppender(config.rejects_path)
        self.rejected: Counter[str] = Counter()
        self.flags: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.plan_sources: Counter[str] = Counter()
        self.shown_errors: set[str] = set()
        self.gate = {"asked": 0, "ok": 0, "open": True}

    def planner_gate(self, d: Dialogue) -> None:
        """Close the gate when the first `planner_gate` planned dialogues show the planner (almost) never
        produces a valid plan: every further request to it would be paid for and thrown away."""
        config, gate = self.config, self.gate
        if not config.plan or config.planner_gate == 0 or not gate["open"] or d.meta.plan_source is None:
            return
        if (d.meta.planner_problem or "").startswith("planner_skipped"):
            return
        gate["asked"] += 1
        gate["ok"] += d.meta.plan_source == "llm"
        if gate["asked"] >= config.planner_gate and gate["ok"] < config.planner_min_success * gate["asked"]:
            gate["open"] = False
            self.console.print(f"[yellow]planner: {gate['ok']} valid plan(s) in {gate['asked']} dialogues; planning "
                               "the rest from the sample's skeleton without asking it[/]")

    def over_budget(self) -> bool:
        return self.config.budget_tokens is not None and self.summary.usage.total().tokens >= self.config.budget_tokens

    def record(self, d: Dialogue) -> None:
        """Dedup, count and write one finished dialogue (kept or rejected)."""
        summary = self.summary
        if d.checks.passed:
            match = self.dedup.check_and_add(d.id, dedup_text(d))
            if match is not None:
                d.checks = Checks(passed=False, failed=[*d.checks.failed, f"{Reason.NEAR_DUPLICATE}: of {match}"],
                                  flags=d.checks.flags)
        self.flags.update(reason_code(f) for f in d.checks.flags)
        if d.meta.plan_source:
            self.plan_sources[d.meta.plan_source] += 1
        self.planner_gate(d)
        tokens = UsageTracker(by_role={r: Usage(**u) for r, u in d.meta.tokens.items()})
        per = summary.scenarios.setdefault(getattr(d.meta, "scenario", None) or STANDARD, {"kept": 0, "rejected": 0})
        per["kept" if d.checks.passed else "rejected"] += 1
        if d.checks.passed:
            self.out_w.write(d)
            summary.kept += 1
            summary.kept_usage.merge(tokens)
        else:
            summary.rejected_usage.merge(tokens)
            self.rej_w.write(d)
            summary.rejected_total += 1
            self.rejected.update({reason_code(r) for r in d.checks.failed} or {"unknown"})
            summary.rejected = dict(self.rejected)

    async def one(self, index: int, sample: Sample) -> None:
        """Synthesize dialogue `index` (retrying one that raised) and record it."""
        config, summary = self.config, self.summary
        dlg_id = dialogue_id(config.seed, index)
        try:
            tools = self.source.tools(sample.tool_ids)
        except KeyError as exc:
            self.record(_reject_without_dialogue(dlg_id, index, sample, f"{Reason.SAMPLE_TOOLS_MISSING}: {exc}",
                                                 config))
            return
        synth_config = dialogue_config(config, index, use_planner=bool(self.gate["open"]))
        summary.planner_skipped += config.plan and not self.gate["open"]
        for attempt in range(config.retries + 1):
            tracker = UsageTracker()
            try:
                d = await synthesize(self.llm, sample, tools, index=index, config=synth_config, tracker=tracker)
            except Exception as exc:  # noqa: BLE001 - a dialogue that raises must not end the run
                summary.usage.merge(tracker)
                summary.rejected_usage.merge(tracker)
                self.raised(index, exc, last=attempt == config.retries)
                continue
            summary.usage.merge(tracker)
            self.record(d)
            return

    def raised(self, index: int, exc: Exception, *, last: bool) -> None:
        """Show the first error of each kind; count the dialogue as errored after its last attempt."""
        name = type(exc).__name__
        if name not in self.shown_errors:
            self.shown_errors.add(name)
            self.console.print(f"dialogue {index} raised {name}: {redact(exc)}", style="yellow", markup=False)
            self.console.print(redact("".join(traceback.format_exception(exc)[-3:])), style="dim", markup=False)
        if last:
            self.errors[name] += 1

    def close(self) -> None:
        self.out_w.close()
        self.rej_w.close()
        summary = self.summary
        summary.errors = dict(self.errors)
        summary.flags = dict(self.flags)
        summary.plan_sources = dict(self.plan_sources)
        summary.rejected = dict(self.rejected)
        summary.elapsed_s = time.monotonic() - self.started
