"""`eval` and `ablate` click commands (registered in the main CLI); the use cases are engine/api/evaluate.py.

LLM options are the synth command's (env settings + per-role overrides, the embedded local server for roles
without an endpoint), plus `--judge-model/--judge-base-url` for the judge role (LLM judge and LLM entailment).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from toolflow.engine.api.config import AblateConfig, EvalConfig, format_range, parse_turns
from toolflow.engine.cli.llm_options import llm_cli_options, llm_options
from toolflow.engine.cli.options import Fail, config_option, open_store_or_fail, store_option, usage_errors
from toolflow.engine.eval.records import EvalInputError
from toolflow.engine.synth.job import AGENT_ROLES


def _judge_options(f: Callable) -> Callable:
    options = [
        click.option("--judge-model", default=None, help="Model for the judge role (LLM judge, LLM entailment)."),
        click.option("--judge-base-url", default=None, help="Endpoint for the judge role only."),
        config_option(EvalConfig, "judge", "--no-judge", invert=True,
                      help="Skip the LLM judge (no naturalness/coherence/... scores)."),
        config_option(EvalConfig, "nli_model", "--nli-model", type=click.Path(exists=True, file_okay=False),
                      help="Local NLI cross-encoder folder (sentence-transformers CrossEncoder) for EnR. "
                           "Without it the judge LLM labels entailment with engine/eval/prompts/nli.md."),
        config_option(EvalConfig, "sample", "--sample", "sample_n",
                      help="Dialogues the LLM judge scores, drawn with --seed (the paper: 200)."),
        config_option(EvalConfig, "rubric", "--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                      help="Judge rubric prompt file (default: engine/eval/prompts/judge.md)."),
        config_option(EvalConfig, "concurrency", "--eval-concurrency",
                      help="Judge / entailment requests in flight at once."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _eval_config(opts: dict[str, Any], seed: int) -> EvalConfig:
    return EvalConfig(judge=not opts["no_judge"], sample=opts["sample_n"], seed=seed, nli_model=opts["nli_model"],
                      rubric=opts["rubric"], concurrency=opts["eval_concurrency"])


@click.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_judge_options
@config_option(EvalConfig, "seed", "--seed", help="Seed of the judge's subsample.")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint for the judge (else env/local model).")
@click.option("--model", default=None, help="Model for the judge (else TOOLFLOW_MODEL / local model).")
@click.option("--temperature", type=float, default=None, help="Sampling temperature of the judge.")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: one object per file (a list for several files).")
@click.option("--progress/--no-progress", default=True, help="Show progress bars.")
def eval_cmd(files: tuple[Path, ...], as_json: bool, **opts: Any) -> None:
    """Measure dialogue files the way the ToolFlow paper does, plus our own structural metrics.

    \b
    Per file (kept dialogues as `synth` writes them; rejects read from <stem>.rejects.jsonl beside it):
      SS          mean cosine (all-MiniLM-L6-v2) of consecutive rounds (round = request + replies)
      EnR         share of consecutive rounds where the previous round entails the next request
      H           Shannon entropy (bits) of pooled user-turn unigrams, tokens = \\w+ of lowercased text
      Distinct-3  distinct / total user trigrams (within each message, pooled)
      judge       naturalness, coherence, helpfulness, accuracy 1-5 on a seeded subsample (--sample)
      ours        argument sourcing, grounded follow-ups, FEEDS share, tool coverage, call validity, ...
    `--json` keeps SS as a cosine (0-1) and EnR as a share (0-1); the paper prints both x100.

    \b
    Examples:
      toolflow eval data/dialogues.jsonl --judge-model gpt-4o-mini --base-url https://api.openai.com/v1
      toolflow eval d.jsonl --no-judge --nli-model ./nli-deberta-v3-base --json
    """
    from toolflow.engine.api.evaluate import evaluate
    from toolflow.engine.eval.evaluate import report_table

    console, out = Console(stderr=True), Console()
    try:
        reports = evaluate(files, _eval_config(opts, opts["seed"]), llm=llm_options(opts, ("judge",)),
                           console=console, progress=opts["progress"])
    except (EvalInputError, FileNotFoundError, ValueError) as exc:
        raise Fail(str(exc)) from exc
    if as_json:
        data = [r.summary() for r in reports]
        click.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False))
        return
    for r in reports:
        out.print(report_table(r))


def _ablate_meta(n: int, seed: int, opts: dict[str, Any], eval_config: EvalConfig) -> dict[str, Any]:
    """What table.json records about the run (the LLM overrides actually given)."""
    options = llm_options(opts, (*AGENT_ROLES, "judge")).as_dict()
    roles = {r: {k: v for k, v in o.items() if v} for r, o in options["roles"].items()}
    llm_meta = {**{k: v for k, v in options.items() if k != "roles" and v is not None},
                "roles": {r: o for r, o in roles.items() if o}}
    return {"n": n, "seed": seed, "store": opts["store_spec"], "llm": llm_meta,
            "judge": eval_config.judge, "nli_model": eval_config.nli_model}


def _print_ablation(paths: dict[str, Path], as_json: bool, console: Console) -> None:
    if as_json:
        click.echo(paths["json"].read_text(encoding="utf-8"))
    else:  # Markdown: readable at any terminal width and pastable as is
        click.echo("Ablation, Table 2 style (SS and EnR x100 as in the paper):\n")
        click.echo(paths["md"].read_text(encoding="utf-8"))
        console.print(f"wrote {paths['md']}, {paths['json']}, {paths['png']}")


@click.command("ablate")
@config_option(AblateConfig, "n", "-n", "n", type=click.IntRange(1), required=True)
@config_option(AblateConfig, "seed", "--seed", type=int)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for each setting's dialogues, table.md, table.json and plot.png (resumed from).")
@store_option(purpose="The tool graph of every setting. ")
@config_option(AblateConfig, "turns", "--turns", text=lambda t: format_range(t, "-"), to_config=parse_turns,
               help="Planned user turns per dialogue: N or LOW-HIGH.")
@config_option(AblateConfig, "max_turns", "--max-turns", type=int, help="Hard cap on user turns.")
@config_option(AblateConfig, "max_steps", "--max-steps", type=int, help="Assistant messages per user turn.")
@config_option(AblateConfig, "concurrency", "--concurrency", type=int, help="Dialogues in flight at once.")
@config_option(AblateConfig, "retries", "--retries", type=int, help="Extra attempts for a dialogue that errors.")
@llm_cli_options(roles=AGENT_ROLES)
@_judge_options
@click.option("--json", "as_json", is_flag=True, help="Print table.json instead of the table.")
@click.option("--progress/--no-progress", default=True, help="Show progress bars.")
def ablate(n: int, seed: int, out_dir: Path, as_json: bool, **opts: Any) -> None:
    """Run the paper's ablation (Table 2) on your graph and LLM: Graph+Plan, −Plan, −Graph, −Both.

    All four settings use the same -n, --seed, LLM settings and graph; −Graph draws tool combinations
    uniformly at random instead of by graph walks, −Plan lets the user improvise without a planner. Each
    setting is synthesized into DIR/<setting>/dialogues.jsonl (rerun the command to resume), evaluated
    like `toolflow eval`, and compared with the paper's rows. Writes DIR/table.md, table.json, plot.png.

    \b
    Example (embedded graph and local model; a real model for real numbers):
      toolflow graph build tools.jsonl --store ./graph
      toolflow ablate -n 50 --seed 1 --out ablation --store ./graph --judge-model gpt-4o-mini
    """
    from toolflow.engine.api.evaluate import ablate as run_ablation
    from toolflow.engine.eval.ablate import write_outputs

    console = Console(stderr=True)
    config = usage_errors(lambda: AblateConfig(
        n=n, seed=seed, turns=parse_turns(opts["turns"]), max_turns=opts["max_turns"], max_steps=opts["max_steps"],
        concurrency=opts["concurrency"], retries=opts["retries"]))
    eval_config = _eval_config(opts, seed)
    open_store_or_fail(opts["store_spec"]).close()  # a store that cannot be opened fails before the LLM starts
    try:
        rows = run_ablation(config, out_dir, store=opts["store_spec"], eval_config=eval_config,
                            llm=llm_options(opts, (*AGENT_ROLES, "judge")), console=console,
                            progress=opts["progress"])
    except (EvalInputError, ValueError) as exc:
        raise Fail(str(exc)) from exc
    _print_ablation(write_outputs(rows, out_dir, _ablate_meta(n, seed, opts, eval_config)), as_json, console)
    if any(r.errored for r in rows):
        console.print("[yellow]some dialogues errored: rerun the same command to retry them")
        sys.exit(1)
