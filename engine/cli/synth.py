"""`toolflow synth`: plan and play out dialogues over sampled tool combinations, resumably.

Parsing and printing only: the run is `toolflow.engine.api.synth` (the same code as `toolflow.synthesize`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from toolflow.engine.api import synth as api_synth
from toolflow.engine.api.config import ExecutorConfig, format_range, parse_shard, parse_turns
from toolflow.engine.api.llm import LOCAL_CONCURRENCY, REMOTE_CONCURRENCY, default_concurrency, open_llm
from toolflow.engine.api.tables import summary_table
from toolflow.engine.cli.llm_options import llm_cli_options, llm_options
from toolflow.engine.cli.options import Fail, config_option, open_store_or_fail, store_option, usage_errors
from toolflow.engine.cli.reasons import known_codes
from toolflow.engine.cli.sample import feeds_weight_option
from toolflow.engine.cli.synth_live import execute_config, execute_options, live_specs
from toolflow.engine.cli.synth_ray import check_base_urls, executor_config, ray_cli_options
from toolflow.engine.llm.errors import LLMSettingsError
from toolflow.engine.stores.base import StoreUnavailable
from toolflow.engine.synth.guard import JobConflict
from toolflow.engine.synth.job import AGENT_ROLES, RunConfig, RunSummary
from toolflow.engine.synth.jsonl import JsonlError
from toolflow.engine.synth.live_session import ServerUnavailable
from toolflow.engine.synth.scenarios import parse_mix
from toolflow.loaders.errors import LoadError

#: What a run reports as one line (exit 1): a job conflict, a torn output, unusable LLM settings, a live tool
#: server that fails, an executor that cannot run. Other ToolFlowErrors reach the root group (their kind's code).
RUN_FAILURES = (JobConflict, JsonlError, LLMSettingsError, LoadError, ServerUnavailable, api_synth.ExecutorError)


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


def job_options(f: Callable) -> Callable:
    """The options of `RunConfig` (the job's knobs), each declared by its field."""
    options = [
        config_option(RunConfig, "n", "-n", "n", required=True),
        config_option(RunConfig, "out", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True),
        config_option(RunConfig, "rejects", "--rejects", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--tools", "tools_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Tool definitions (any format `toolflow` loads, or JSONL of Tool records) instead of a "
                          "graph."),
        click.option("--samples", "samples_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Tool combinations (JSONL of Sample records, e.g. from `toolflow sample`) over --tools or "
                          "the --store graph. Without it: drawn by --strategy."),
        store_option,
        config_option(RunConfig, "strategy", "--strategy"),
        config_option(RunConfig, "plan", "--no-plan", invert=True,
                      help="Ablation '−Plan': no planner, the user improvises turn by turn."),
        config_option(RunConfig, "blueprint", "--intent-only", invert=True,
                      help="Ablation: the paper's intent-only plans, without the call blueprint that fixes every "
                           "call and where each argument value comes from."),
        config_option(RunConfig, "mix", "--mix", metavar="NAME=SHARE,…", text=lambda m: "", to_config=parse_mix,
                      show_default=False,
                      help="Scenario shares, e.g. irrelevance=0.1,tool_error=0.1,missing_function=0.05,"
                           "missing_parameter=0.1,parallel=0.1,multi_step=0.1,long_results=0.05 (aliases: error, "
                           "missing, clarify, multi, long); the rest are standard dialogues. Default: none."),
        config_option(RunConfig, "flag_only", "--flag-only", "flag_only", multiple=True, metavar="CODE",
                      callback=known_codes, to_config=list,
                      help="Report this check as a flag instead of rejecting (repeatable), e.g. argument_not_sourced, "
                           "follow_up_not_grounded; `toolflow reasons` lists the codes."),
        config_option(RunConfig, "seed", "--seed", help="Job seed: fixes dialogue ids and sampling."),
        click.option("--concurrency", type=click.IntRange(min=1), default=None,
                     help=f"Dialogues in flight at once [default: {REMOTE_CONCURRENCY}; {LOCAL_CONCURRENCY} with the "
                          "embedded model, whose single slot loses prefix reuse when dialogues interleave]."),
        feeds_weight_option,
        config_option(RunConfig, "turns", "--turns", text=lambda t: format_range(t, "-"), to_config=parse_turns,
                      help="Planned user turns per dialogue: N or LOW-HIGH."),
        config_option(RunConfig, "max_turns", "--max-turns"),
        config_option(RunConfig, "max_steps", "--max-steps"),
        config_option(RunConfig, "shard", "--shard", text=lambda t: format_range(t, "/"), to_config=parse_shard),
        config_option(RunConfig, "retries", "--retries"),
        config_option(RunConfig, "budget_tokens", "--budget-tokens"),
        config_option(RunConfig, "result_items", "--result-items"),
        config_option(RunConfig, "result_chars", "--result-chars"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def run_config(opts: dict[str, Any]) -> RunConfig:
    """The job's RunConfig from the parsed options (a bad value is a usage error)."""
    return usage_errors(lambda: RunConfig(
        n=opts["n"], out=opts["out"], rejects=opts["rejects"], seed=opts["seed"], strategy=opts["strategy"],
        plan=not opts["no_plan"], turns=parse_turns(opts["turns"]), max_turns=opts["max_turns"],
        max_steps=opts["max_steps"], concurrency=opts["concurrency"], shard=parse_shard(opts["shard"]),
        retries=opts["retries"], force=opts["force"], budget_tokens=opts["budget_tokens"],
        blueprint=not opts["intent_only"], flag_only=list(opts["flag_only"]), mix=parse_mix(opts["mix"]),
        result_items=opts["result_items"], result_chars=opts["result_chars"],
        inputs=[p for p in (opts["tools_path"], opts["samples_path"]) if p is not None]))


def print_estimate(report: api_synth.Estimate, summary: RunSummary, prices: dict[str, tuple[float, float]],
                   console: Console) -> None:
    console.print(summary_table(summary, prices))
    click.echo(json.dumps(report.model_dump(exclude=set() if prices else {"projected_cost_usd"})))


def print_summary(summary: RunSummary, config: RunConfig, prices: dict[str, tuple[float, float]],
                  console: Console) -> None:
    """The run's table on stderr, its one JSON line on stdout; exit 1 when some dialogues errored."""
    console.print(summary_table(summary, prices))
    click.echo(json.dumps({"kept": summary.kept, "rejected": summary.rejected_total,
                           "errored": sum(summary.errors.values()), "skipped": summary.skipped,
                           "out": str(config.out), "rejects": str(config.rejects_path)}))
    if summary.errors:
        sys.exit(1)


def run_command(opts: dict[str, Any], config: RunConfig, executor: ExecutorConfig,
                prices: dict[str, tuple[float, float]], console: Console) -> RunSummary | None:
    """Open the source and the LLM, then run the job (or its --estimate pilot); None after a pilot."""
    store = None if opts["tools_path"] is not None else open_store_or_fail(opts["store_spec"])
    try:
        try:
            source = api_synth.open_source(opts["tools_path"], opts["samples_path"], store, opts["feeds_weight"])
        except ValueError as exc:  # loaders and sample files name the file, line and field
            raise Fail(str(exc)) from exc
        with open_llm(llm_options(opts, AGENT_ROLES)) as llm:
            if opts["estimate"]:
                print_estimate(*api_synth.estimate(llm, source, config, prices=prices, console=console), prices,
                               console)
                return None
            return api_synth.run_job(llm, source, config, executor=executor, execute=execute_config(opts),
                                     console=console, progress=opts["progress"])
    except StoreUnavailable as exc:  # before OSError, which it is: every dialogue written so far is kept
        raise Fail(f"{exc}; the run stopped: rerun the same command to resume") from exc
    except RUN_FAILURES as exc:
        raise Fail(str(exc)) from exc
    except OSError as exc:  # an output folder that is read-only, a full disk
        raise Fail(f"cannot write {exc.filename or config.out}: {exc.strerror or exc}") from exc
    finally:
        if store is not None:
            store.close()


@click.command("synth")
@job_options
@click.option("--price", "prices", multiple=True, metavar="MODEL=IN/OUT",
              help="USD per 1M prompt/completion tokens of MODEL, for the cost line (repeatable).")
@click.option("--estimate", is_flag=True,
              help="Run a small seeded pilot (the job's first dialogues, into a temporary folder) and print the "
                   "projected tokens (and cost) for -n; the pilot's answers are cached, so the real run reuses them.")
@config_option(ExecutorConfig, "workers", "--workers")
@config_option(RunConfig, "force", "--force")
@execute_options
@ray_cli_options
@llm_cli_options(roles=AGENT_ROLES, many_base_urls=True)
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
    executor = executor_config(opts, check_base_urls(opts))
    if opts["concurrency"] is None:
        opts["concurrency"] = default_concurrency(llm_options(opts, AGENT_ROLES))
    config = run_config(opts)
    prices = parse_prices(opts["prices"])
    summary = run_command(opts, config, executor, prices, console)
    if summary is not None:
        print_summary(summary, config, prices, console)


if __name__ == "__main__":
    synth()
