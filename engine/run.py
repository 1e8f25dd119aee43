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
import json
import os
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field, field_validator
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from toolflow.engine.checks import NearDuplicateIndex, dedup_text, reason_code
from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Dialogue, Sample, Tool
from toolflow.engine.synthesis import SynthConfig, dialogue_id, synthesize, target_turns_for


@runtime_checkable
class SampleSource(Protocol):
    """Where a run gets its tool combinations. The seam between sampling and synthesis.

    Contract: ``samples(n, seed, strategy)`` is deterministic (same arguments → same sequence), since
    the i-th sample belongs to dialogue i across reruns and shards; it may yield fewer than n.
    ``tools(ids)`` returns the Tool objects for a sample's ``tool_ids``, in that order, raising
    KeyError for an unknown id.
    """

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]: ...

    def tools(self, ids: Sequence[str]) -> list[Tool]: ...


class RunConfig(BaseModel):
    n: int = Field(ge=0, description="Dialogues in the whole job (all shards).")
    out: Path
    rejects: Path | None = Field(default=None, description="Default: <out stem>.rejects.jsonl beside out.")
    seed: int = 0
    strategy: str = "random"
    plan: bool = True
    turns: tuple[int, int] = (3, 5)
    max_turns: int = Field(default=8, ge=1)
    max_steps: int = Field(default=6, ge=1)
    concurrency: int = Field(default=4, ge=1)
    shard: tuple[int, int] = (0, 1)
    retries: int = Field(default=1, ge=0, description="Extra attempts for a dialogue that raised.")
    dedup_threshold: float = Field(default=0.9, gt=0, le=1)

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
    usage: UsageTracker = Field(default_factory=UsageTracker)
    elapsed_s: float = 0.0

    @property
    def finished(self) -> int:
        return self.kept + self.rejected_total

    @property
    def per_minute(self) -> float:
        return self.finished / self.elapsed_s * 60 if self.elapsed_s > 0 else 0.0


def rejects_path_for(out: Path) -> Path:
    """``dialogues.jsonl`` → ``dialogues.rejects.jsonl`` in the same folder."""
    return out.with_name(f"{out.stem}.rejects{out.suffix or '.jsonl'}")


def parse_shard(text: str) -> tuple[int, int]:
    """'2/8' → (2, 8)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError as exc:
        raise ValueError(f"shard must look like i/n, got {text!r}") from exc
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard must be i/n with 0 <= i < n, got {text!r}")
    return i, n


def parse_turns(text: str) -> tuple[int, int]:
    """'4' → (4, 4); '3-5' → (3, 5)."""
    lo, _, hi = text.partition("-")
    low, high = int(lo), int(hi or lo)
    if low < 1 or high < low:
        raise ValueError(f"turns must be N or LOW-HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return low, high


def in_shard(index: int, shard: tuple[int, int]) -> bool:
    return index % shard[1] == shard[0]


def read_records(path: Path, *, repair: bool = True) -> list[dict[str, Any]]:
    """All complete records of a JSONL file written by this module.

    A last line without its newline is the trace of a crash mid-write: if it does not parse it is cut
    off (``repair``), if it does the newline is added. Bad lines elsewhere are skipped, never deleted.
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    cut = len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1
    body, tail = data[:cut], data[cut:]
    records = []
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    if tail.strip():
        try:
            records.append(json.loads(tail))
            fixed = b"\n"
        except ValueError:
            fixed = None
        if repair:
            with open(path, "r+b") as f:
                if fixed is None:
                    f.truncate(len(data) - len(tail))
                else:
                    f.seek(0, os.SEEK_END)
                    f.write(fixed)
                f.flush()
                os.fsync(f.fileno())
    return records


class JsonlAppender:
    """Append-only JSONL writer: one ``os.write`` per record, then fsync."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any] | BaseModel) -> None:
        text = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)
        data = (text.replace("\n", "\\n") + "\n").encode("utf-8")
        written = os.write(self.fd, data)
        while written < len(data):  # regular files do not short-write in practice; never lose the rest
            written += os.write(self.fd, data[written:])
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


def _reject_without_dialogue(dlg_id: str, index: int, sample: Sample, reason: str, config: RunConfig) -> Dialogue:
    return Dialogue(id=dlg_id, tools=[], messages=[], sample=sample,
                    checks={"passed": False, "failed": [reason], "flags": []},
                    meta={"index": index, "seed": config.seed, "strategy": config.strategy, "plan": config.plan})


async def run_synthesis(
    llm: LLM,
    source: SampleSource,
    config: RunConfig,
    *,
    console: Console | None = None,
    show_progress: bool = True,
) -> RunSummary:
    """Synthesize the not-yet-finished dialogues of this shard; returns what happened."""
    console = console or Console(stderr=True)
    started = time.monotonic()
    summary = RunSummary()
    kept_records = read_records(config.out)
    rejected_records = read_records(config.rejects_path)
    done = {r.get("id") for r in kept_records} | {r.get("id") for r in rejected_records}
    dedup = NearDuplicateIndex(threshold=config.dedup_threshold)
    for r in kept_records:
        dedup.add(r.get("id", ""), dedup_text(r))
    del kept_records, rejected_records

    todo: list[tuple[int, Sample]] = []
    for index, sample in enumerate(source.samples(config.n, config.seed, config.strategy)):
        if index >= config.n:
            break
        if not in_shard(index, config.shard):
            continue
        summary.in_shard += 1
        if dialogue_id(config.seed, index) in done:
            summary.skipped += 1
        else:
            todo.append((index, sample))

    out_w, rej_w = JsonlAppender(config.out), JsonlAppender(config.rejects_path)
    rejected: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    plan_sources: Counter[str] = Counter()
    shown_errors: set[str] = set()
    items = iter(todo)

    progress = Progress(TextColumn("[bold]synth"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("kept {task.fields[kept]} · rejected {task.fields[rej]}"),
                        console=console, disable=not show_progress, transient=False)
    task = progress.add_task("synth", total=len(todo), kept=0, rej=0)

    def record(d: Dialogue) -> None:
        if d.checks.get("passed"):
            match = dedup.check_and_add(d.id, dedup_text(d))
            if match is not None:
                d.checks = {**d.checks, "passed": False,
                            "failed": [*d.checks.get("failed", []), f"near_duplicate: of {match}"]}
        flags.update(reason_code(f) for f in d.checks.get("flags", []))
        if d.meta.get("plan_source"):
            plan_sources[d.meta["plan_source"]] += 1
        if d.checks.get("passed"):
            out_w.write(d)
            summary.kept += 1
        else:
            rej_w.write(d)
            summary.rejected_total += 1
            rejected.update({reason_code(r) for r in d.checks.get("failed", [])} or {"unknown"})
            summary.rejected = dict(rejected)

    async def one(index: int, sample: Sample) -> None:
        dlg_id = dialogue_id(config.seed, index)
        try:
            tools = source.tools(sample.tool_ids)
        except KeyError as exc:
            record(_reject_without_dialogue(dlg_id, index, sample, f"sample_tools_missing: {exc}", config))
            return
        synth_config = SynthConfig(
            plan=config.plan, target_turns=target_turns_for(config.seed, index, *config.turns),
            max_turns=config.max_turns, max_steps=config.max_steps, seed=config.seed, strategy=config.strategy)
        for attempt in range(config.retries + 1):
            tracker = UsageTracker()
            try:
                d = await synthesize(llm, sample, tools, index=index, config=synth_config, tracker=tracker)
            except Exception as exc:  # noqa: BLE001 - a dialogue that raises must not end the run
                summary.usage.merge(tracker)
                name = type(exc).__name__
                if name not in shown_errors:
                    shown_errors.add(name)
                    console.print(f"[yellow]dialogue {index} raised {name}: {exc}[/]")
                    console.print("".join(traceback.format_exception(exc)[-3:]), style="dim", markup=False)
                if attempt == config.retries:
                    errors[name] += 1
                continue
            summary.usage.merge(tracker)
            record(d)
            return

    async def worker() -> None:
        for index, sample in items:
            await one(index, sample)
            progress.update(task, advance=1, kept=summary.kept, rej=summary.rejected_total)

    try:
        with progress:
            await asyncio.gather(*(worker() for _ in range(min(config.concurrency, len(todo)) or 1)))
    finally:
        out_w.close()
        rej_w.close()
        summary.errors = dict(errors)
        summary.flags = dict(flags)
        summary.plan_sources = dict(plan_sources)
        summary.rejected = dict(rejected)
        summary.elapsed_s = time.monotonic() - started
    return summary


def summary_table(summary: RunSummary) -> Table:
    """The end-of-run table: outcomes by reason, tokens per role, throughput."""
    table = Table(title="synth run", show_lines=False)
    table.add_column("what")
    table.add_column("count / tokens", justify="right")
    table.add_row("in this shard", str(summary.in_shard))
    table.add_row("skipped (already done)", str(summary.skipped))
    table.add_row("[green]kept", str(summary.kept))
    table.add_row("[red]rejected", str(summary.rejected_total))
    for reason, count in sorted(summary.rejected.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  [red]reason: {reason}", str(count))
    for name, count in sorted(summary.errors.items()):
        table.add_row(f"[yellow]errored (rerun retries): {name}", str(count))
    for source, count in sorted(summary.plan_sources.items()):
        table.add_row(f"plan from {source}", str(count))
    for flag, count in sorted(summary.flags.items()):
        table.add_row(f"flagged: {flag}", str(count))
    for role, usage in sorted(summary.usage.by_role.items()):
        table.add_row(f"tokens {role}", f"{usage.prompt_tokens:,} in / {usage.completion_tokens:,} out "
                                        f"({usage.requests} req)")
    table.add_row("dialogues/min", f"{summary.per_minute:.1f}")
    table.add_row("elapsed", f"{summary.elapsed_s:.1f}s")
    return table
