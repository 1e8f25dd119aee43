"""What every command shares: the consoles, the one-line failure, config-backed options, the `--store` option."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from rich.console import Console

from toolflow.engine.errors import ERROR_KINDS, ToolFlowError, exit_code_for, one_line
from toolflow.engine.secrets import redact

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


class ConfigOption(click.Option):
    """An option declared by a config field: its default and help come from the field.

    `to_config` turns the option's value into the field's (e.g. '3-5' → (3, 5), or a ``--no-x`` flag into
    ``x = not value``); tests/unit/api/test_config_wiring.py checks every such option's default against its field.
    """

    def __init__(self, *args: Any, config: tuple[type[BaseModel], str], to_config: Callable[[Any], Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config_model, self.config_field = config
        self.to_config = to_config or (lambda v: v)


def field_default(model: type[BaseModel], name: str) -> Any:
    """The default of `model.name` (None for a required field)."""
    info = model.model_fields[name]
    if info.default_factory is not None:
        return info.default_factory()
    return None if info.default is PydanticUndefined else info.default


def _click_type(model: type[BaseModel], name: str) -> Any:
    """The click type of a field: a Choice for a Literal, a range for a bounded number, else None."""
    info = model.model_fields[name]
    kind = info.annotation
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is typing.Literal:
        return click.Choice(list(typing.get_args(kind)))
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(args) == 1:  # X | None
        kind = args[0]
    bounds: dict[str, Any] = {}
    for m in info.metadata:  # pydantic's bound markers (annotated_types Ge, Gt, Le)
        if getattr(m, "ge", None) is not None:
            bounds["min"] = m.ge
        elif getattr(m, "gt", None) is not None:
            bounds.update(min=m.gt, min_open=True)
        elif getattr(m, "le", None) is not None:
            bounds["max"] = m.le
    if kind is int:
        bounds.pop("min_open", None)
        return click.IntRange(**bounds) if bounds else int
    if kind is float:
        return click.FloatRange(**bounds) if bounds else float
    return None


def config_option(model: type[BaseModel], name: str, *decls: str, text: Callable[[Any], Any] | None = None,
                  to_config: Callable[[Any], Any] | None = None, invert: bool = False, **kwargs: Any) -> Callable[[F], F]:
    """A click option for field `name` of `model`: default, help and type (Choice, IntRange …) from the field.

    `text` renders the field's default as the option's text form and `to_config` parses it back; `invert`
    declares a ``--no-x`` flag for a boolean field ``x`` whose default is True."""
    default = field_default(model, name)
    kwargs.setdefault("help", model.model_fields[name].description)
    if invert:
        kwargs.update(is_flag=True, default=not default)
        to_config = lambda v: not v  # noqa: E731
    elif isinstance(default, bool) and not any("/" in d for d in decls):
        kwargs.update(is_flag=True, default=default)
    else:
        kwargs.setdefault("default", text(default) if text and default is not None else default)
        if "type" not in kwargs and kwargs.get("nargs", 1) == 1 and not kwargs.get("multiple"):
            kind = _click_type(model, name)
            if kind is not None:
                kwargs["type"] = kind
        kwargs.setdefault("show_default", kwargs["default"] not in (None, (), [], "", {}))
    return click.option(*decls, cls=ConfigOption, config=(model, name), to_config=to_config, **kwargs)


def store_option(f: F | None = None, *, purpose: str = "") -> Any:
    """``--store SPEC`` (passed to the command as ``store_spec``); `purpose` prefixes the help (what the command
    reads the graph for)."""
    if f is None:
        return lambda g: store_option(g, purpose=purpose)
    return click.option("--store", "store_spec", default=None, help=f"{purpose}{STORE_HELP}")(f)


def open_store_or_fail(store_spec: str | None, *, read_only: bool = True) -> Any:
    """The store, or a one-line error naming the store that could not be opened."""
    from toolflow.engine.api.stores import StoreOpenError, open_graph_store

    try:
        return open_graph_store(store_spec, read_only=read_only)
    except StoreOpenError as exc:
        raise Fail(str(exc)) from None


def usage_errors(call: Callable[[], Any]) -> Any:
    """`call()`, with a bad value (ValueError, ConfigError) reported as a usage error (exit 2)."""
    try:
        return call()
    except (ValueError, ToolFlowError) as exc:
        raise click.UsageError(str(exc)) from exc


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))
