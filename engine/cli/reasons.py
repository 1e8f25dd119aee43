"""`toolflow reasons`: the codes a rejected or flagged dialogue's reasons start with, one line each."""

from __future__ import annotations

import click

from toolflow.engine.synth.reasons import reasons_table


@click.command("reasons")
def reasons_cmd() -> None:
    """List the rejection/flag reason codes with what each means (the names --flag-only accepts)."""
    click.echo(reasons_table())
