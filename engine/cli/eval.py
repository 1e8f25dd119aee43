"""`eval` and `ablate` click commands (registered in the main CLI; see engine/eval/ for the logic).

LLM construction is the synth command's: the same `open_llm` (env settings + CLI overrides, the embedded
local server for roles without an endpoint, the `LLM_FACTORY` test hook) and the same per-role options,
plus `--judge-model/--judge-base-url` for the judge role (LLM judge and LLM entailment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from toolflow.engine.cli.options import Fail, open_store_or_fail
from toolflow.engine.cli.synth import AGENT_ROLES, llm_cli_options, open_llm, parse_turns
from toolflow.engine.llm.base import LLM
from toolflow.engine.sampling.sources import StoreSampleSource

#: Test hook: when set, replaces the project embedder (a callable list[str] -> np.ndarray) for SS.
EMBED_FACTORY: Callable[[], Callable[[list[str]], Any]] | None = None


def _embedder() -> Callable[[list[str]], Any]:
    if EMBED_FACTORY is not None:
        return EMBED_FACTORY()
    from toolflow.engine.eval.evaluate import project_embedder

    return project_embedder()


def _judge_options(f: Callable) -> Callable:
    options = [
        click.option("--judge-model", default=None, help="Model for the judge role (LLM judge, LLM entailment)."),
        click.option("--judge-base-url", default=None, help="Endpoint for the judge role only."),
        click.option("--no-judge", is_flag=True, help="Skip the LLM judge (no naturalness/coherence/... scores)."),
        click.option("--nli-model", type=click.Path(exists=True, file_okay=False), default=None,
                     help="Local NLI cross-encoder folder (sentence-transformers CrossEncoder) for EnR. "
                          "Without it the judge LLM labels entailment with engine/eval/prompts/nli.md."),
        click.option("--sample", "sample_n", type=click.IntRange(1), default=200, show_default=True,
                     help="Dialogues the LLM judge scores, drawn with --seed (the paper: 200)."),
        click.option("--rubric", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="Judge rubric prompt file (default: engine/eval/prompts/judge.md)."),
        click.option("--eval-concurrency", type=click.IntRange(1), default=4, show_default=True,
                     help="Judge / entailment requests in flight at once."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _eval_options(opts: dict[str, Any], seed: int) -> Any:
    from toolflow.engine.eval.evaluate import EvalOptions

    return EvalOptions(judge=not opts["no_judge"], sample=opts["sample_n"], seed=seed, nli_model=opts["nli_model"],
                       rubric=opts["rubric"], concurrency=opts["eval_concurrency"])


def _llm_options(opts: dict[str, Any], roles: tuple[str, ...]) -> dict[str, Any]:
    return {
        "base_url": opts.get("base_url"), "model": opts.get("model"), "temperature": opts.get("temperature"),
        "roles": {r: {"model": opts.get(f"{r}_model"), "base_url": opts.get(f"{r}_base_url")} for r in roles},
    }


@contextlib.contextmanager
def _maybe_llm(needed: bool, options: dict[str, Any]) -> Iterator[LLM | None]:
    """The LLM only when something needs it (no local server started for `--no-judge --nli-model`)."""
    if not needed:
        yield None
        return
    with open_llm(options) as llm:
        yield llm


async def _closing(llm: LLM | None, coro: Any) -> Any:
    try:
        return await coro
    finally:
        if llm is not None:
            await llm.aclose()


def _judge_model_name(llm: LLM | None) -> str | None:
    if llm is None:
        return None
    from toolflow.engine.synth.loop import models_of

    name = models_of(llm).get("judge")
    return None if name in (None, "unknown") else name


@click.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_judge_options
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the judge's subsample.")
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
    from toolflow.engine.eval.evaluate import EvalInputError, evaluate_file, needs_llm, report_table

    console, out = Console(stderr=True), Console()
    options = _eval_options(opts, opts["seed"])
    embed = _embedder()
    llm_options = _llm_options(opts, ("judge",))

    async def run_all(llm: LLM | None) -> list[Any]:
        name = _judge_model_name(llm)
        return [await evaluate_file(f, llm=llm, options=options, embed=embed, console=console,
                                    show_progress=opts["progress"], judge_model=name) for f in files]

    try:
        with _maybe_llm(needs_llm(options), llm_options) as llm:
            reports = asyncio.run(_closing(llm, run_all(llm)))
    except (EvalInputError, FileNotFoundError, ValueError) as exc:
        raise Fail(str(exc)) from exc
    if as_json:
        data = [r.summary() for r in reports]
        click.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False))
        return
    for r in reports:
        out.print(report_table(r))


@click.command("ablate")
@click.option("-n", "n", type=click.IntRange(1), required=True, help="Dialogues per setting.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Job seed, the same for every setting (sampling, dialogue ids, judge subsample).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for each setting's dialogues, table.md, table.json and plot.png (resumed from).")
@click.option("--store", "store", default=None,
              help="The tool graph (Bolt URI or directory; default: $TOOLFLOW_STORE or the user data dir).")
@click.option("--turns", default="3-5", show_default=True, help="Planned user turns per dialogue: N or LOW-HIGH.")
@click.option("--max-turns", type=int, default=8, show_default=True, help="Hard cap on user turns.")
@click.option("--max-steps", type=int, default=6, show_default=True, help="Assistant messages per user turn.")
@click.option("--concurrency", type=int, default=4, show_default=True, help="Dialogues in flight at once.")
@click.option("--retries", type=int, default=1, show_default=True, help="Extra attempts for a dialogue that errors.")
@llm_cli_options
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
    from toolflow.engine.eval.ablate import run_ablation, write_outputs
    from toolflow.engine.eval.evaluate import EvalInputError

    console = Console(stderr=True)
    try:
        run_options = {"turns": parse_turns(opts["turns"]), "max_turns": opts["max_turns"],
                       "max_steps": opts["max_steps"], "concurrency": opts["concurrency"],
                       "retries": opts["retries"]}
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    options = _eval_options(opts, seed)
    embed = _embedder()
    store = open_store_or_fail(opts["store"])
    llm_options = _llm_options(opts, (*AGENT_ROLES, "judge"))
    try:
        with open_llm(llm_options) as llm:
            rows = asyncio.run(_closing(llm, run_ablation(
                llm, StoreSampleSource(store), n=n, seed=seed, out_dir=out_dir, run_options=run_options,
                eval_options=options, embed=embed, console=console, show_progress=opts["progress"],
                judge_model=_judge_model_name(llm))))
    except (EvalInputError, ValueError) as exc:
        raise Fail(str(exc)) from exc
    finally:
        store.close()
    roles = {r: {k: v for k, v in o.items() if v} for r, o in llm_options["roles"].items()}
    llm_meta = {**{k: v for k, v in llm_options.items() if k != "roles" and v is not None},
                "roles": {r: o for r, o in roles.items() if o}}
    meta = {"n": n, "seed": seed, "store": opts["store"], "llm": llm_meta,
            "judge": options.judge, "nli_model": options.nli_model}
    paths = write_outputs(rows, out_dir, meta)
    if as_json:
        click.echo(paths["json"].read_text(encoding="utf-8"))
    else:  # Markdown: readable at any terminal width and pastable as is
        click.echo("Ablation, Table 2 style (SS and EnR x100 as in the paper):\n")
        click.echo(paths["md"].read_text(encoding="utf-8"))
        console.print(f"wrote {paths['md']}, {paths['json']}, {paths['png']}")
    if any(r.errored for r in rows):
        console.print("[yellow]some dialogues errored: rerun the same command to retry them")
        sys.exit(1)
