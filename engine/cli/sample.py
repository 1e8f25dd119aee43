"""`toolflow sample`: draw tool combinations from the graph, or compare the strategies (`--report`).

The command object is ``sample``; the root group registers it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from toolflow.engine.cli.options import Fail, open_store_or_fail, store_option
from toolflow.engine.progress import counter
from toolflow.engine.sampling import DEFAULT_MAX_TOOLS, DEFAULT_MIN_TOOLS, DEFAULT_TYPES, STRATEGIES

PROGRESS_FROM = 1000  # show a progress bar from this many samples on
REPORT_N = 1000


def parse_feeds_weight(value: str | float | None) -> float | str:
    """'auto' or a number > 0 (click callback and synth's option share it)."""
    if value is None or str(value).strip().lower() == "auto":
        return "auto"
    try:
        w = float(value)
    except ValueError:
        raise click.BadParameter(f"expected 'auto' or a number > 0, got {value!r}", param_hint="--feeds-weight") from None
    if not w > 0 or w != w or w == float("inf"):
        raise click.BadParameter(f"expected 'auto' or a number > 0, got {value!r}", param_hint="--feeds-weight")
    return w


FEEDS_WEIGHT_HELP = (
    "Walk: factor on FEEDS edge scores over SHARES_INPUT. 'auto' balances the graph's total FEEDS and "
    "SHARES_INPUT score mass (at least 1); 1 = scores alone (earlier versions' walk)."
)


def _types(value: str | None) -> list[str] | None:
    if value is None:
        return None
    types = [t.strip().upper() for t in value.split(",") if t.strip()]
    if not types:
        raise click.BadParameter("give at least one relationship type, e.g. FEEDS,SHARES_INPUT")
    return types


def _print_report(result: dict[str, dict[str, Any]], n: int, seed: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Relatedness of sampled tool sets ({n} per strategy, seed {seed})")
    table.add_column("metric")
    for name in result:
        table.add_column(name, justify="right")
    rows = [
        ("FEEDS between consecutive tools (either direction)", "feeds_pair_share", "{:.1%}"),
        ("samples with a FEEDS chain x→y→z", "chain_share", "{:.1%}"),
        ("SHARES_INPUT between consecutive tools", "shares_pair_share", "{:.1%}"),
        ("distinct SHARES_INPUT pairs walked", "distinct_shares_pairs", "{:d}"),
        ("mean pairwise description similarity", "mean_similarity", "{:.3f}"),
        ("tools covered / all tools", "coverage", "{:.1%}"),
        ("Gini of tool usage (all tools)", "gini", "{:.3f}"),
        ("distinct combinations / samples", "distinct_share", "{:.1%}"),
        ("store round trips", "round_trips", "{:d}"),
    ]
    for label, key, fmt in rows:
        table.add_row(label, *(fmt.format(result[name][key]) for name in result))
    if any("feeds_weight" in r for r in result.values()):
        table.add_row("FEEDS weight", *(f"{r['feeds_weight']:.2f}" if "feeds_weight" in r else "" for r in result.values()))
    Console().print(table)


@click.command("sample")
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=None,
              help=f"Samples to draw (default 100; with --report {REPORT_N} per strategy).")
@click.option("--strategy", type=click.Choice(sorted(STRATEGIES)), default="walk", show_default=True,
              help="walk: graph random walk; random: uniform tool sets; category: tools of one category.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--min-tools", type=click.IntRange(min=1), default=DEFAULT_MIN_TOOLS, show_default=True)
@click.option("--max-tools", type=click.IntRange(min=1), default=DEFAULT_MAX_TOOLS, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="samples.jsonl",
              show_default=True, help="JSONL output, one sample per line ('-' for stdout).")
@store_option
@click.option("--types", "types_opt", default=None,
              help=f"Walk relationship types, comma-separated [default: {','.join(DEFAULT_TYPES)}].")
@click.option("--coverage", is_flag=True, help="Walk: favour tools used less so far (weights 1/(1+uses)).")
@click.option("--strict", is_flag=True, help="Walk: stop short at a dead end instead of jumping to a random tool.")
@click.option("--any-start", is_flag=True,
              help="Walk: start and jump from any tool, not only tools with an edge of the chosen types.")
@click.option("--batch-size", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Walkers served by one query per step.")
@click.option("--feeds-weight", "feeds_weight", default="auto", show_default=True,
              callback=lambda _c, _p, v: parse_feeds_weight(v), help=FEEDS_WEIGHT_HELP)
@click.option("--report", is_flag=True, help="Compare walk, random and category on the same graph instead.")
@click.option("--json", "as_json", is_flag=True, help="With --report: print JSON instead of a table.")
def sample(
    n: int | None, strategy: str, seed: int, min_tools: int, max_tools: int, out: str, store_spec: str | None,
    types_opt: str | None, coverage: bool, strict: bool, any_start: bool, batch_size: int, feeds_weight: float | str,
    report: bool, as_json: bool,
) -> None:
    """Sample related tool combinations from the tool graph (random walks, or a baseline)."""
    if min_tools > max_tools:
        raise click.BadParameter(f"--min-tools {min_tools} is larger than --max-tools {max_tools}")
    if as_json and not report:
        raise click.UsageError("--json goes with --report")
    types = _types(types_opt)
    walk_opts: dict[str, Any] = {
        "coverage": coverage, "strict": strict, "batch_size": batch_size, "starts": "any" if any_start else "connected",
        "feeds_weight": feeds_weight,
    }
    if types:
        walk_opts["types"] = types
    if not report and strategy != "walk" and (coverage or strict or types or any_start or feeds_weight != "auto"):
        raise click.UsageError("--types, --coverage, --strict, --any-start and --feeds-weight apply to --strategy walk only")
    sizes = {"min_tools": min_tools, "max_tools": max_tools}

    store = open_store_or_fail(store_spec)
    try:
        if report:
            from toolflow.engine.sampling.report import relatedness_report

            n = n or REPORT_N
            opts = {name: dict(sizes) for name in STRATEGIES}
            opts["walk"].update(walk_opts)
            with counter(n * len(STRATEGIES), "sampling", n * len(STRATEGIES) >= PROGRESS_FROM) as tick:
                result = relatedness_report(store, n, seed, sampler_options=opts, progress=tick)
            if as_json:
                click.echo(json.dumps(result, indent=2))
            else:
                _print_report(result, n, seed)
            return

        from toolflow.engine.sampling import make_sampler, write_samples

        n = n or 100
        options = dict(sizes, **(walk_opts if strategy == "walk" else {}))
        try:
            sampler = make_sampler(strategy, store, **options)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        with counter(n, f"sampling ({strategy})", n >= PROGRESS_FROM) as tick:
            samples = sampler.sample(n, seed, progress=tick)
        if out == "-":
            for s in samples:
                sys.stdout.write(s.model_dump_json() + "\n")
        else:
            try:
                write_samples(out, samples)
            except OSError as exc:
                raise Fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
        short = sum(len(s.tool_ids) < min_tools for s in samples)
        msg = f"{len(samples)} {strategy} samples → {out} ({sampler.round_trips} store round trips)"
        if short:
            msg += f"; {short} with fewer than {min_tools} tools"
        click.echo(msg, err=True)
    finally:
        store.close()


if __name__ == "__main__":
    sample()
