"""Synthesis as a use case: pick the tool source, open the LLM, run the job on an executor, or price a pilot.

`synthesize` is `toolflow.synthesize` and what `toolflow synth` runs; `estimate` is `synth --estimate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console

from toolflow.engine.api.config import ExecuteConfig, ExecutorConfig
from toolflow.engine.api.console import quiet_console
from toolflow.engine.api.llm import LLMOptions, open_llm
from toolflow.engine.errors import ConfigError, ToolFlowError
from toolflow.engine.llm.base import LLM, Usage
from toolflow.engine.models import Dialogue
from toolflow.engine.sampling.records import read_samples
from toolflow.engine.sampling.sources import FileSampleSource, SampleSource, StoreSampleSource
from toolflow.engine.stores.base import GraphStore
from toolflow.engine.synth.job import RunConfig, RunSummary, run_synthesis

#: Dialogues in an --estimate pilot: enough to see the plan/repair mix, few enough to be cheap.
PILOT_DIALOGUES = 4

Prices = Mapping[str, tuple[float, float]]


def cost_of(usage: Mapping[str, Usage], models: Mapping[str, str], prices: Prices) -> float | None:
    """USD for `usage` per role at the models' prices (per 1M prompt / completion tokens); None when a used
    model has no price."""
    total = 0.0
    for role, u in usage.items():
        price = prices.get(models.get(role, ""))
        if price is None:
            return None
        total += (u.prompt_tokens * price[0] + u.completion_tokens * price[1]) / 1e6
    return total


class ExecutorError(RuntimeError, ToolFlowError):
    """The chosen executor cannot run the job (Ray not installed, its cluster unreachable, endpoints unusable)."""


def open_source(tools: Path | None, samples: Path | None, store: GraphStore | None,
                feeds_weight: float | str = "auto") -> SampleSource:
    """Tools from a file when `tools` is given, otherwise the graph store (its sampler, or `samples` drawn
    from it by `toolflow sample`)."""
    if tools is not None:
        return FileSampleSource.from_paths(tools, samples)
    if store is None:
        raise ConfigError("give --tools FILE or a graph (--store, built with `toolflow graph build`)")
    return StoreSampleSource(store, samples=read_samples(samples) if samples else None, feeds_weight=feeds_weight)


def calls_path(out: Path) -> Path:
    """The executed-call cache beside the output: `d.jsonl` → `d.calls.jsonl`."""
    return out.with_name(f"{out.stem}.calls.jsonl")


@contextlib.asynccontextmanager
async def live_tools(execute: ExecuteConfig | None, out: Path, console: Console) -> AsyncIterator[Any]:
    """The run's executor of real tools (set as the current one), or None without `execute`."""
    from toolflow.engine.synth.execute import CURRENT, LiveTools
    from toolflow.loaders.mcp_live import parse_spec, quiet_sdk_logs

    if execute is None or not execute.servers:
        yield None
        return
    quiet_sdk_logs()
    policy = execute.policy
    with contextlib.ExitStack() as stack:
        sandbox = execute.sandbox
        if sandbox is None:
            sandbox = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="toolflow-sandbox-")))
        sandbox.mkdir(parents=True, exist_ok=True)
        live = LiveTools([parse_spec(t) for t in execute.servers], policy, cache_path=calls_path(out),
                         sandbox=sandbox)
        await live.__aenter__()
        token = CURRENT.set(live)
        try:
            yield live
        finally:
            CURRENT.reset(token)
            await live.aclose()
        runs = sorted(n for n, (_, t) in live.served.items() if policy.refusal(n, t.get("annotations")) is None)
        console.print(f"executed {live.counts['executed']} call(s) ({live.counts['cached']} from the cache, "
                      f"{live.counts['errors']} tool errors), simulated {live.counts['simulated']}; "
                      f"tools run: {', '.join(runs) or 'none'}", highlight=False)


async def run_local(llm: LLM, source: SampleSource, config: RunConfig, console: Console, progress: bool,
                    execute: ExecuteConfig | None = None) -> RunSummary:
    """The job in this process (with real tools under `execute`); the LLM is closed afterwards."""
    try:
        async with live_tools(execute, config.out, console):
            return await run_synthesis(llm, source, config, console=console, show_progress=progress)
    finally:
        await llm.aclose()


def run_on_ray(llm: LLM, source: SampleSource, config: RunConfig, executor: ExecutorConfig, console: Console,
               progress: bool) -> RunSummary:
    """The job on Ray workers (one per `executor.workers`), endpoints spread over them."""
    if importlib.util.find_spec("ray") is None:
        raise ExecutorError("--executor ray needs Ray: pip install 'toolflow[ray]'")
    from toolflow.engine.raycluster import RayOptions
    from toolflow.engine.synth.ray_run import run_with_ray, worker_factories

    try:
        factories = worker_factories(llm, executor.workers, executor.base_urls)
    except ValueError as exc:
        raise ExecutorError(str(exc)) from exc
    options = RayOptions(address=executor.ray_address, workers=executor.workers)
    try:
        return run_with_ray(llm, source, config, options, factories=factories, console=console,
                            show_progress=progress)
    except (ConnectionError, TimeoutError) as exc:  # Ray's GetTimeoutError is a TimeoutError: workers never started
        where = executor.ray_address or "a local cluster"
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ExecutorError(f"--executor ray: cannot run on {where}: {reason}") from exc


def with_backend_limits(config: RunConfig, llm: LLM) -> RunConfig:
    """`config` with the result caps it leaves unset taken from the tool role's backend (`LLM.result_limits`);
    a cap set by the caller wins."""
    unset = {k: v for k, v in llm.result_limits().items() if getattr(config, k) is None}
    return config.model_copy(update=unset)


def run_job(llm: LLM, source: SampleSource, config: RunConfig, *, executor: ExecutorConfig | None = None,
            execute: ExecuteConfig | None = None, console: Console | None = None,
            progress: bool = False) -> RunSummary:
    """Run `config` on the chosen executor: Ray actors, worker processes (each with its share of the token
    budget), or this process."""
    from toolflow.engine.synth.workers import run_with_workers

    executor = executor or ExecutorConfig()
    console = console or quiet_console()
    config = with_backend_limits(config, llm)
    if executor.executor == "ray":
        return run_on_ray(llm, source, config, executor, console, progress)
    if executor.workers > 1:
        return run_with_workers(llm, source, config, executor.workers, console=console)
    return asyncio.run(run_local(llm, source, config, console, progress, execute))


class Estimate(BaseModel):
    """A pilot's projection to the whole job (`synth --estimate`)."""

    pilot_dialogues: int
    pilot_kept: int
    n: int
    projected_kept: int
    projected_tokens: int
    projected_tokens_by_role: dict[str, int]
    projected_cost_usd: float | None = None


def estimate(llm: LLM, source: SampleSource, config: RunConfig, *, prices: Prices | None = None,
             console: Console | None = None) -> tuple[Estimate, RunSummary]:
    """Run the job's first dialogues into a temporary folder and project tokens (and cost) to `config.n`.

    The pilot's answers land in the LLM cache, so the real run reuses them."""
    console = console or quiet_console()
    config = with_backend_limits(config, llm)
    with tempfile.TemporaryDirectory(prefix="toolflow-estimate-") as tmp:
        pilot = config.model_copy(update={"n": min(config.n, PILOT_DIALOGUES), "out": Path(tmp) / "pilot.jsonl",
                                          "rejects": None, "shard": (0, 1), "budget_tokens": None})
        summary = asyncio.run(run_local(llm, source, pilot, console, False))
    finished = summary.finished or 1
    scale = config.n / finished
    projected = {role: u.model_copy(update={f: int(getattr(u, f) * scale) for f in Usage.model_fields})
                 for role, u in summary.usage.by_role.items()}
    report = Estimate(
        pilot_dialogues=summary.finished, pilot_kept=summary.kept, n=config.n,
        projected_kept=round(summary.kept / finished * config.n),
        projected_tokens=sum(u.tokens for u in projected.values()),
        projected_tokens_by_role={r: u.tokens for r, u in sorted(projected.items())})
    if prices:
        report.projected_cost_usd = cost_of(projected, summary.models, prices)
    return report, summary


@dataclass
class Synthesis:
    """A finished synthesis job: its summary, and its kept dialogues as an iterator (read from `out`)."""

    summary: RunSummary
    out: Path
    rejects: Path

    def __iter__(self) -> Iterator[Dialogue]:
        from toolflow.engine.synth.jsonl import iter_records

        for record in iter_records(self.out):
            yield Dialogue.model_validate(record)

    def rejected(self) -> Iterator[dict[str, Any]]:
        """The rejected dialogues with their reasons, as records."""
        from toolflow.engine.synth.jsonl import iter_records

        yield from iter_records(self.rejects)


@contextlib.contextmanager
def job_source(tools: Path | None, samples: Path | None, store: str | None,
               feeds_weight: float | str = "auto") -> Iterator[SampleSource]:
    """The sample source of a job, with the graph store (when one is used) closed afterwards."""
    from toolflow.engine.stores import open_store

    graph = None if tools is not None else open_store(store, read_only=True)
    try:
        yield open_source(tools, samples, graph, feeds_weight)
    finally:
        if graph is not None:
            graph.close()


def synthesize(config: RunConfig, *, tools: str | Path | None = None, samples: str | Path | None = None,
               store: str | None = None, llm: LLMOptions | Mapping[str, Any] | None = None,
               feeds_weight: float | str = "auto", executor: ExecutorConfig | None = None,
               execute: ExecuteConfig | None = None, console: Console | None = None,
               progress: bool = False) -> Synthesis:
    """Synthesize `config.n` dialogues into `config.out` (resumable: a rerun continues where it stopped).

    Tool combinations come from `tools` (a tool file; with `samples`, fixed combinations over it) or from the
    graph in `store` (drawn by `config.strategy`, or the `samples` file). `llm` overrides the environment's
    LLM settings (default: the embedded local model). Iterate the result for the kept dialogues; its
    `summary` counts kept, rejected (by reason) and errored dialogues and the tokens spent per role.
    """
    tools, samples = (Path(p) if p is not None else None for p in (tools, samples))
    with job_source(tools, samples, store, feeds_weight) as source, open_llm(llm) as model:
        summary = run_job(model, source, config, executor=executor, execute=execute, console=console,
                          progress=progress)
    return Synthesis(summary=summary, out=config.out, rejects=config.rejects_path)
