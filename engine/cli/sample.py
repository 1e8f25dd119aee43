"""`toolflow sample`: draw tool combinations from the graph, or compare the strategies (`--report`).

The command object is ``sample``; the root group registers it. The draw is `toolflow.engine.api.sample`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from toolflow.engine.api.config import SampleConfig
from toolflow.engine.api.stores import StoreOpenError
from toolflow.engine.cli.options import Fail, config_option, store_option
from toolflow.engine.errors import ConfigError
from toolflow.engine.progress import counter
from toolflow.engine.sampling.walk import DEFAULT_TYPES

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


feeds_weight_option = config_option(SampleConfig, "feeds_weight", "--feeds-weight", "feeds_weight",
                                    callback=lambda _c, _p, v: parse_feeds_weight(v), to_config=parse_feeds_weight)


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


def _config(opts: dict[str, Any]) -> SampleConfig:
    if opts["as_json"] and not opts["report"]:
        raise click.UsageError("--json goes with --report")
    fields = {k: opts[k] for k in ("strategy", "seed", "min_tools", "max_tools", "coverage", "strict", "any_start",
                                   "batch_size", "feeds_weight")}
    try:
        return SampleConfig(n=opts["n"] or (REPORT_N if opts["report"] else SampleConfig().n),
                            types=_types(opts["types_opt"]), **fields)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc


def _report(store_spec: str | None, config: SampleConfig, as_json: bool) -> None:
    from toolflow.engine.api.sample import relatedness
    from toolflow.engine.sampling import STRATEGIES

    total = config.n * len(STRATEGIES)
    with counter(total, "sampling", total >= PROGRESS_FROM) as tick:
        result = relatedness(store_spec, config, progress=tick)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_report(result, config.n, config.seed)


def _draw(store_spec: str | None, config: SampleConfig, out: str) -> None:
    from toolflow.engine.api.sample import sample as draw
    from toolflow.engine.sampling import write_samples

    if config.strategy != "walk" and config.walk_only_set():
        raise click.UsageError("--types, --coverage, --strict, --any-start and --feeds-weight apply to --strategy walk only")
    with counter(config.n, f"sampling ({config.strategy})", config.n >= PROGRESS_FROM) as tick:
        try:
            drawn = draw(store_spec, config, progress=tick)
        except ConfigError as exc:
            raise click.BadParameter(str(exc)) from exc
        except StoreOpenError as exc:
            raise Fail(str(exc)) from exc
    samples = drawn.samples
    if out == "-":
        for s in samples:
            sys.stdout.write(s.model_dump_json() + "\n")
    else:
        try:
            write_samples(out, samples)
        except OSError as exc:
            raise Fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    short = sum(len(s.tool_ids) < config.min_tools for s in samples)
    msg = f"{len(samples)} {config.strategy} samples → {out} ({drawn.round_trips} store round trips)"
    if short:
        msg += f"; {short} with fewer than {config.min_tools} tools"
    click.echo(msg, err=True)


@click.command("sample")
@click.option("-n", "--num", "n", type=click.IntRange(min=1), default=None,
              help=f"Samples to draw (default {SampleConfig().n}; with --report {REPORT_N} per strategy).")
@config_option(SampleConfig, "strategy", "--strategy")
@config_option(SampleConfig, "seed", "--seed", help=None)
@config_option(SampleConfig, "min_tools", "--min-tools", help=None)
@config_option(SampleConfig, "max_tools", "--max-tools", help=None)
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="samples.jsonl",
              show_default=True, help="JSONL output, one sample per line ('-' for stdout).")
@store_option
@click.option("--types", "types_opt", default=None,
              help=f"Walk relationship types, comma-separated [default: {','.join(DEFAULT_TYPES)}].")
@config_option(SampleConfig, "coverage", "--coverage")
@config_option(SampleConfig, "strict", "--strict")
@config_option(SampleConfig, "any_start", "--any-start")
@config_option(SampleConfig, "batch_size", "--batch-size")
@feeds_weight_option
@click.option("--report", is_flag=True, help="Compare walk, random and category on the same graph instead.")
@click.option("--json", "as_json", is_flag=True, help="With --report: print JSON instead of a table.")
def sample(**opts: Any) -> None:
    """Sample related tool combinations from the tool graph (random walks, or a baseline)."""
    config = _config(opts)
    if opts["report"]:
        try:
            _report(opts["store_spec"], config, opts["as_json"])
        except StoreOpenError as exc:
            raise Fail(str(exc)) from exc
        return
    _draw(opts["store_spec"], config, opts["out"])


if __name__ == "__main__":
    sample()
