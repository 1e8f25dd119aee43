"""`toolflow reasons`: the codes a rejected or flagged dialogue's reasons start with, one line each."""

from __future__ import annotations

import click

from toolflow.engine.synth.reasons import reasons_table, unknown_codes


@click.command("reasons")
def reasons_cmd() -> None:
    """List the rejection/flag reason codes with what each means (the names --flag-only accepts)."""
    click.echo(reasons_table())


def known_codes(_ctx: click.Context, _param: click.Parameter, codes: tuple[str, ...]) -> tuple[str, ...]:
    """The --flag-only callback: refuse a code no check emits (a typo would otherwise flag nothing)."""
    if bad := unknown_codes(codes):
        raise click.BadParameter(f"unknown reason code(s) {', '.join(bad)}; `toolflow reasons` lists them")
    return codes
