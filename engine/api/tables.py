"""Rich tables of a run's results (the CLI prints them; a notebook can too)."""

from __future__ import annotations

from rich.table import Table

from toolflow.engine.api.synth import Prices, cost_of
from toolflow.engine.llm.base import Usage
from toolflow.engine.synth.job import RunSummary


def summary_table(summary: RunSummary, prices: Prices | None = None) -> Table:
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


