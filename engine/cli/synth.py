"""`toolflow synth`: plan and play out dialogues over sampled tool combinations, resumably.

Test seam: ``LLM_FACTORY``, when set, ``LLM_FACTORY(options) -> LLM`` replaces the real client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from toolflow.engine.cli.options import Fail, open_store_or_fail, store_option
from toolflow.engine.cli.reasons import known_codes
from toolflow.engine.cli.sample import FEEDS_WEIGHT_HELP, parse_feeds_weight
from toolflow.engine.cli.synth_live import execute_options, live_specs, live_tools
from toolflow.engine.cli.synth_ray import check_base_urls, ray_cli_options, run_on_ray
from toolflow.engine.llm.base import LLM, Usage
from toolflow.engine.llm.errors import LLMSettingsError
from toolflow.engine.sampling.records import read_samples
from toolflow.engine.sampling.sources import FileSampleSource, SampleSource, StoreSampleSource
from toolflow.engine.stores.base import GraphStore, StoreUnavailable
from toolflow.engine.synth.guard import JobConflict
from toolflow.engine.synth.job import AGENT_ROLES, RunConfig, RunSummary, run_synthesis
from toolflow.engine.synth.jsonl import JsonlError
from toolflow.engine.synth.scenarios import parse_mix
from toolflow.engine.synth.workers import run_with_workers

#: Test hook: a callable taking the LLM options dict and returning an LLM. None = the real client.
LLM_FACTORY: Callable[[dict[str, Any]], LLM] | None = None

STRATEGIES = ("walk", "random", "category")


def _default(name: str) -> Any:
    """A RunConfig default: the CLI and the Python API share one set of defaults."""
    return RunConfig.model_fields[name].default


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
    try:
        low, high = int(lo), int(hi or lo)
    except ValueError as exc:
        raise ValueError(f"turns must be N or LOW-HIGH, got {text!r}") from exc
    if low < 1 or high < low:
        raise ValueError(f"turns must be N or LOW-HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return low, high


def parse_prices(values: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``MODEL=IN/OUT`` (USD per 1M prompt / completion tokens) → {model: (in, out)}."""
    prices = {}
    for raw in values:
        model, _, pair = raw.rpartition("=")
        try:
            p_in, p_out = (float(x) for x in pair.split("/"))
        except ValueError:
            raise click.BadParameter(f"expected MODEL=IN/OUT in USD per 1M tokens, got {raw!r}",
                                     param_hint="--price") from None
        if not model:
            raise click.BadParameter(f"expected MODEL=IN/OUT, got {raw!r}", param_hint="--price")
        prices[model] = (p_in, p_out)
    return prices


def cost_of(usage: dict[str, Usage], models: dict[str, str], prices: dict[str, tuple[float, float]]) -> float | None:
    """USD for `usage` per role at the models' prices; None when a used model has no price."""
    total = 0.0
    for role, u in usage.items():
        price = prices.get(models.get(role, ""))
        if price is None:
            return None
        total += (u.prompt_tokens * price[0] + u.completion_tokens * price[1]) / 1e6
    return total


def summary_table(summary: RunSummary, prices: dict[str, tuple[float, float]] | None = None) -> Table:
    """The end-of-run table: outcomes by reason, tokens per role (per kept dialogue, and wasted), cost."""
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
    if summary.budget_stopped:
        table.add_row("[yellow]not started: token budget spent (rerun to go on)", str(summary.budget_stopped))
    for source, count in sorted(summary.plan_sources.items()):
        table.add_row(f"plan from {source}", str(count))
    if summary.planner_skipped:
        table.add_row("  planner not asked (it kept failing)", str(summary.planner_skipped))
    for flag, count in sorted(summary.flags.items()):
        table.add_row(f"flagged: {flag}", str(count))
    if set(summary.scenarios) - {"standard"}:
        for scenario, c in sorted(summary.scenarios.items()):
            table.add_row(f"scenario {scenario}: kept / rejected", f"{c.get('kept', 0)} / {c.get('rejected', 0)}")
    per_kept = summary.per_kept()
    for role, usage in sorted(summary.usage.by_role.items()):
        wasted = summary.rejected_usage.by_role.get(role, Usage()).tokens + usage.wasted_tokens
        line = f"{usage.prompt_tokens:,} in / {usage.completion_tokens:,} out ({usage.requests} req)"
        if role in per_kept:
            line += f"; {per_kept[role]:,.0f} per kept"
        if wasted:
            line += f"; {wasted:,} wasted"
        if usage.prefix_cached_tokens:
            line += f"; {usage.prefix_cached_tokens / max(usage.prompt_tokens, 1):.0%} prefix-cached"
        table.add_row(f"tokens {role}", line)
    total = summary.usage.total()
    if summary.kept:
        table.add_row("tokens per kept dialogue", f"{total.tokens / summary.kept:,.0f}")
    if prices:
        cost = cost_of(summary.usage.by_role, summary.models, prices)
        table.add_row("cost (USD)", "no price for a model used" if cost is None else
                      f"{cost:.4f}" + (f" ({cost / summary.kept:.5f} per kept)" if summary.kept else ""))
    table.add_row("dialogues/min", f"{summary.per_minute:.1f}")
    table.add_row("elapsed", f"{summary.elapsed_s:.1f}s")
    return table


def open_source(tools: Path | None, samples: Path | None, store: GraphStore | None,
                feeds_weight: float | str = "auto") -> SampleSource:
    """Tools from a file when --tools is given, otherwise the graph store (its sampler, or --samples drawn
    from it by `toolflow sample`)."""
    try:
        if tools is not None:
            return FileSampleSource.from_paths(tools, samples)
        if store is None:
            raise click.UsageError("give --tools FILE or a graph (--store, built with `toolflow graph build`)")
        return StoreSampleSource(store, samples=read_samples(samples) if samples else None, feeds_weight=feeds_weight)
    except ValueError as exc:  # loaders and sample files name the file, line and field
        raise Fail(str(exc)) from exc


def llm_settings(options: dict[str, Any]) -> Any:
    """LLMSettings from the environment plus the CLI's shared and per-role overrides."""
    from toolflow.engine.llm.settings import LLMSettings, RoleSettings

    shared = {k: options[k] for k in ("base_url", "model", "temperature") if options.get(k) is not None}
    settings = LLMSettings.from_env(**shared)
    roles = dict(settings.roles)
    for role, over in (options.get("roles") or {}).items():
        vals = {k: v for k, v in over.items() if v is not None}
        if vals:
            roles[role] = RoleSettings(**{**roles.get(role, RoleSettings()).model_dump(), **vals})
    return settings.model_copy(update={"roles": roles})


@contextlib.contextmanager
def open_llm(options: dict[str, Any]) -> Iterator[LLM]:
    """The LLM for a run: the test hook, or OpenAIClientLLM from env settings + CLI overrides
    (starting the embedded local server when a role has no endpoint)."""
    if LLM_FACTORY is not None:
        yield LLM_FACTORY(options)
        return
    from toolflow.engine.llm.client import OpenAIClientLLM
    from toolflow.engine.llm.local_server import ensure_endpoint

    with ensure_endpoint(llm_settings(options)) as ready:
        yield OpenAIClientLLM(ready)


REMOTE_CONCURRENCY = RunConfig.model_fields["concurrency"].default
LOCAL_CONCURRENCY = 1


def default_concurrency(options: dict[str, Any]) -> int:
    """1 when every role runs on the embedded model (one llama.cpp slot: interleaved dialogues evict each
    other's prompt prefixes), else RunConfig's default. A role with its own endpoint counts as remote."""
    if LLM_FACTORY is not None:
        return REMOTE_CONCURRENCY
    try:
        settings = llm_settings(options)
    except Exception:  # noqa: BLE001 - bad settings are reported where the LLM is built
        return REMOTE_CONCURRENCY
    return LOCAL_CONCURRENCY if settings.needs_local_server() else REMOTE_CONCURRENCY


def llm_options(opts: dict[str, Any]) -> dict[str, Any]:
    """The LLM-related CLI options (shared and per role) as the dict `open_llm` takes."""
    return {
        "base_url": opts["base_url"], "model": opts["model"], "temperature": opts["temperature"],
        "roles": {r: {"model": opts.get(f"{r}_model"), "base_url": opts.get(f"{r}_base_url")} for r in AGENT_ROLES},
    }


def llm_cli_options(f: Callable | None = None, *, many_base_urls: bool = False) -> Callable:
    """--base-url/--model/--temperature and --<role>-model/--<role>-base-url for every agent role
    (`many_base_urls`: --base-url repeatable, for commands that spread endpoints over workers)."""
    if f is None:
        return lambda g: llm_cli_options(g, many_base_urls=many_base_urls)
    for role in reversed(AGENT_ROLES):
        f = click.option(f"--{role}-base-url", default=None, help=f"Endpoint for the {role} agent only.")(f)
        f = click.option(f"--{role}-model", default=None, help=f"Model for the {role} agent only.")(f)
    f = click.option("--temperature", type=float, default=None, help="Sampling temperature for all roles.")(f)
    f = click.option("--model", default=None, help="Model for all roles (else TOOLFLOW_MODEL / local model).")(f)
    f = click.option("--base-url", default=None, multiple=many_base_urls,
                     help="OpenAI-compatible endpoint for all roles (else env / the embedded local model)."
                     + (" Repeat it to spread Ray workers over several endpoints." if many_base_urls else ""))(f)
    return f


#: Dialogues in an --estimate pilot: enough to see the plan/repair mix, few enough to be cheap.
PILOT_DIALOGUES = 4


def _estimate(llm: LLM, source: SampleSource, config: RunConfig, console: Console,
              prices: dict[str, tuple[float, float]]) -> None:
    """Run the job's first dialogues into a temporary folder and project tokens (and cost) to -n."""
    pilot_n = min(config.n, PILOT_DIALOGUES)
    with tempfile.TemporaryDirectory(prefix="toolflow-estimate-") as tmp:
        pilot = config.model_copy(update={"n": pilot_n, "out": Path(tmp) / "pilot.jsonl", "rejects": None,
                                          "shard": (0, 1), "budget_tokens": None})
        summary = asyncio.run(_run(llm, source, pilot, console, False))
    finished = summary.finished or 1
    scale = config.n / finished
    projected = {role: u.model_copy(update={f: int(getattr(u, f) * scale) for f in Usage.model_fields})
                 for role, u in summary.usage.by_role.items()}
    report = {
        "pilot_dialogues": summary.finished, "pilot_kept": summary.kept, "n": config.n,
        "projected_kept": round(summary.kept / finished * config.n),
        "projected_tokens": sum(u.tokens for u in projected.values()),
        "projected_tokens_by_role": {r: u.tokens for r, u in sorted(projected.items())},
    }
    if prices:
        report["projected_cost_usd"] = cost_of(projected, summary.models, prices)
    console.print(summary_table(summary, prices))
    click.echo(json.dumps(report))


async def _run(llm: LLM, source: SampleSource, config: RunConfig, console: Console, progress: bool,
               live: dict[str, Any] | None = None) -> RunSummary:
    try:
        async with live_tools(live or {}, config.out, console):  # --execute: real tools for this run
            return await run_synthesis(llm, source, config, console=console, show_progress=progress)
    finally:
        await llm.aclose()


@click.command("synth")
@click.option("-n", "n", type=click.IntRange(min=0), required=True,
              help="Dialogues in the whole job (all shards together).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Kept dialogues, JSONL, appended to (and resumed from).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Rejected dialogues with reasons. Default: <out>.rejects.jsonl beside --out.")
@click.option("--tools", "tools_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tool definitions (any format `toolflow` loads, or JSONL of Tool records) instead of a graph.")
@click.option("--samples", "samples_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tool combinations (JSONL of Sample records, e.g. from `toolflow sample`) over --tools or "
                   "the --store graph. Without it: drawn by --strategy.")
@store_option
@click.option("--strategy", type=click.Choice(STRATEGIES), default=_default("strategy"), show_default=True,
              help="How tool combinations are drawn: walk (graph random walk), random (the paper's −Graph "
                   "ablation) or category.")
@click.option("--no-plan", is_flag=True, help="Ablation '−Plan': no planner, the user improvises turn by turn.")
@click.option("--intent-only", is_flag=True,
              help="Ablation: the paper's intent-only plans, without the call blueprint that fixes every call "
                   "and where each argument value comes from.")
@click.option("--mix", default="", metavar="NAME=SHARE,…",
              help="Scenario shares, e.g. irrelevance=0.1,tool_error=0.1,missing_function=0.05,"
                   "missing_parameter=0.1,parallel=0.1,multi_step=0.1,long_results=0.05 (aliases: error, "
                   "missing, clarify, multi, long); the rest are standard dialogues. Default: none.")
@click.option("--flag-only", "flag_only", multiple=True, metavar="CODE", callback=known_codes,
              help="Report this check as a flag instead of rejecting (repeatable), e.g. argument_not_sourced, "
                   "follow_up_not_grounded; `toolflow reasons` lists the codes.")
@click.option("--seed", type=click.IntRange(min=0), default=_default("seed"), show_default=True,
              help="Job seed: fixes dialogue ids and sampling.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help=f"Dialogues in flight at once [default: {REMOTE_CONCURRENCY}; {LOCAL_CONCURRENCY} with the embedded "
                   "model, whose single slot loses prefix reuse when dialogues interleave].")
@click.option("--feeds-weight", "feeds_weight", default="auto", show_default=True,
              callback=lambda _c, _p, v: parse_feeds_weight(v), help=FEEDS_WEIGHT_HELP)
@click.option("--turns", default="-".join(map(str, _default("turns"))), show_default=True,
              help="Planned user turns per dialogue: N or LOW-HIGH.")
@click.option("--max-turns", type=click.IntRange(min=1), default=_default("max_turns"), show_default=True,
              help="Hard cap on user turns.")
@click.option("--max-steps", type=click.IntRange(min=1), default=_default("max_steps"), show_default=True,
              help="Assistant messages per user turn before the dialogue is cut (and rejected).")
@click.option("--shard", default="0/1", show_default=True, help="Run part i of n: the indices with index % n == i.")
@click.option("--retries", type=click.IntRange(min=0), default=_default("retries"), show_default=True,
              help="Extra attempts for a dialogue that errors.")
@click.option("--budget-tokens", type=click.IntRange(min=1), default=None,
              help="Stop cleanly once the run has spent this many tokens (dialogues in flight finish; rerun to go on).")
@click.option("--price", "prices", multiple=True, metavar="MODEL=IN/OUT",
              help="USD per 1M prompt/completion tokens of MODEL, for the cost line (repeatable).")
@click.option("--estimate", is_flag=True,
              help="Run a small seeded pilot (the job's first dialogues, into a temporary folder) and print the "
                   "projected tokens (and cost) for -n; the pilot's answers are cached, so the real run reuses them.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes sharing the job (each runs --concurrency dialogues): for fast endpoints, where one "
                   "process's CPU is the limit. Same output, same ids, resumable. With --executor ray: Ray workers "
                   "(--concurrency is then the total over them).")
@click.option("--force", is_flag=True,
              help="Resume even when --out holds a job with other settings (the file then mixes two jobs).")
@execute_options
@ray_cli_options
@llm_cli_options(many_base_urls=True)
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
def synth(**opts: Any) -> None:
    """Synthesize multi-turn tool-calling dialogues.

    For each sampled tool combination a planner drafts the dialogue, then a simulated user, the
    assistant (OpenAI tool_calls) and a simulated tool play it out. Dialogues that fail the checks go
    to the rejects file with their reasons. Rerunning the same command continues where it stopped.

    \b
    Examples:
      # 3 dialogues over the graph built by `toolflow graph build`, embedded local model
      toolflow synth -n 3 --out dialogues.jsonl
      # combinations drawn beforehand with `toolflow sample` from the same store
      toolflow sample -n 1000 --seed 7 --out samples.jsonl
      toolflow synth -n 1000 --samples samples.jsonl --out d.jsonl
      # an OpenAI-compatible server, a cheaper model for the tool role
      toolflow synth -n 1000 --out d.jsonl --base-url http://localhost:8000/v1 --model qwen2.5-7b \\
            --tool-model qwen2.5-1.5b
      # tools from a file instead of a graph, random combinations
      toolflow synth -n 100 --tools tools.jsonl --out d.jsonl
      # a Ray cluster: 8 workers over two model servers, one output written here
      toolflow synth -n 10000 --out d.jsonl --executor ray --ray-address auto --workers 8 \\
            --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1
      # 4 machines, one shard each (same -n and --seed everywhere)
      toolflow synth -n 10000 --out d.2.jsonl --shard 2/4
      # the paper's ablations
      toolflow synth -n 200 --out noplan.jsonl --no-plan
      toolflow synth -n 200 --out nograph.jsonl --strategy random
      # real tool results from a running MCP server (read-only tools run, the rest is simulated)
      toolflow synth -n 10 --out d.jsonl --execute --server mcp+stdio:"uvx mcp-server-time"

    Credentials and per-role settings come from the environment (TOOLFLOW_API_KEY or OPENAI_API_KEY,
    TOOLFLOW_<ROLE>_MODEL, ...). Exit status 1 means some dialogues errored: rerun to retry them.
    """
    console = Console(stderr=True)
    live_specs(opts)  # --execute's options checked before anything starts
    base_urls = check_base_urls(opts)
    if opts["concurrency"] is None:
        opts["concurrency"] = default_concurrency(llm_options(opts))
    try:
        config = RunConfig(
            n=opts["n"], out=opts["out"], rejects=opts["rejects"], seed=opts["seed"], strategy=opts["strategy"],
            plan=not opts["no_plan"], turns=parse_turns(opts["turns"]), max_turns=opts["max_turns"],
            max_steps=opts["max_steps"], concurrency=opts["concurrency"], shard=parse_shard(opts["shard"]),
            retries=opts["retries"], force=opts["force"], budget_tokens=opts["budget_tokens"],
            blueprint=not opts["intent_only"], flag_only=list(opts["flag_only"]), mix=parse_mix(opts["mix"]),
            inputs=[p for p in (opts["tools_path"], opts["samples_path"]) if p is not None],
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    prices = parse_prices(opts["prices"])
    store = None if opts["tools_path"] is not None else open_store_or_fail(opts["store_spec"])
    try:
        source = open_source(opts["tools_path"], opts["samples_path"], store, opts["feeds_weight"])
        with open_llm(llm_options(opts)) as llm:
            config = config.model_copy(update=llm.result_limits())
            if opts["estimate"]:
                _estimate(llm, source, config, console, prices)
                return
            if opts["executor"] == "ray":
                summary = run_on_ray(llm, source, config, opts, base_urls, console)
            elif opts["workers"] > 1:
                summary = run_with_workers(llm, source, config, opts["workers"], console=console)
            else:
                summary = asyncio.run(_run(llm, source, config, console, opts["progress"], opts))
    except (JobConflict, JsonlError, LLMSettingsError) as exc:
        raise Fail(str(exc)) from exc
    except StoreUnavailable as exc:  # before OSError, which it is: every dialogue written so far is kept
        raise Fail(f"{exc}; the run stopped: rerun the same command to resume") from exc
    except OSError as exc:  # an output folder that is read-only, a full disk
        raise Fail(f"cannot write {exc.filename or config.out}: {exc.strerror or exc}") from exc
    finally:
        if store is not None:
            store.close()
    console.print(summary_table(summary, prices))
    click.echo(json.dumps({"kept": summary.kept, "rejected": summary.rejected_total,
                           "errored": sum(summary.errors.values()), "skipped": summary.skipped,
                           "out": str(config.out), "rejects": str(config.rejects_path)}))
    if summary.errors:
        sys.exit(1)


if __name__ == "__main__":
    synth()
