"""What every command shares: the consoles, the one-line failure, the `--store` option and its opener."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from toolflow.engine.errors import ERROR_KINDS, ToolFlowError, exit_code_for, one_line
from toolflow.engine.secrets import redact
from toolflow.engine.stores import GraphStore, open_store, resolve_store_spec

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=True)  # progress, tables and summaries
out = Console()  # results (JSON, query rows) on stdout

STORE_HELP = (
    "Where the graph lives: a Bolt URI (bolt://host:7687, neo4j://…; credentials from NEO4J_USER / "
    "NEO4J_PASSWORD) or a directory for the embedded Ladybug store. Default: $TOOLFLOW_STORE or a "
    "directory under your user data dir."
)


class Fail(click.ClickException):
    """A clean one-line error instead of a traceback (secrets masked: URI passwords, API keys)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(redact(message))
        self.exit_code = exit_code


#: The --help epilog: the exit code of each kind of failure (docs/errors.md says more).
EXIT_CODES_HELP = (
    "\b\nExit codes:\n  0  success\n  1  other failure\n  2  usage (a bad option or argument)\n"
    + "".join(f"  {kind.exit_code}  {kind.kind}: {(kind.__doc__ or '').strip()}\n" for kind in ERROR_KINDS)
)


class ToolFlowGroup(click.Group):
    """The root group: a ToolFlowError that reaches it prints as one line and exits with its kind's code.

    Commands still raise `Fail` where they add context; this catches the ones that escape from the engine,
    so a bad file or a lost store never ends in a traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolFlowError as exc:
            raise Fail(one_line(exc), exit_code_for(exc)) from exc


def store_option(f: F) -> F:
    """``--store SPEC`` (passed to the command as ``store_spec``)."""
    return click.option("--store", "store_spec", default=None, help=STORE_HELP)(f)


def open_store_or_fail(store_spec: str | None, *, read_only: bool = True) -> GraphStore:
    """The store, or a one-line error naming the store that could not be opened."""
    try:
        return open_store(store_spec, read_only=read_only)
    except (FileNotFoundError, ConnectionError) as exc:
        raise Fail(str(exc)) from None
    except Exception as exc:  # a locked or foreign directory, a driver error: say which store we tried
        raise Fail(f"cannot open the graph store {resolve_store_spec(store_spec)}: {exc}") from None


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))
