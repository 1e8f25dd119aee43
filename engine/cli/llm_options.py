"""The LLM options every LLM-using command shares: shared endpoint/model/temperature and per-role overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from toolflow.engine.api.llm import LLMOptions, RoleOverride


def llm_cli_options(f: Callable | None = None, *, roles: tuple[str, ...], many_base_urls: bool = False) -> Callable:
    """--base-url/--model/--temperature and --<role>-model/--<role>-base-url for each of `roles`
    (`many_base_urls`: --base-url repeatable, for commands that spread endpoints over workers)."""
    if f is None:
        return lambda g: llm_cli_options(g, roles=roles, many_base_urls=many_base_urls)
    shared = LLMOptions.model_fields
    for role in reversed(roles):
        f = click.option(f"--{role}-base-url", default=None, help=f"Endpoint for the {role} agent only.")(f)
        f = click.option(f"--{role}-model", default=None, help=f"Model for the {role} agent only.")(f)
    f = click.option("--temperature", type=float, default=None, help=shared["temperature"].description)(f)
    f = click.option("--model", default=None, help=shared["model"].description)(f)
    f = click.option("--base-url", default=None, multiple=many_base_urls,
                     help=str(shared["base_url"].description)
                     + (" Repeat it to spread Ray workers over several endpoints." if many_base_urls else ""))(f)
    return f


def llm_options(opts: dict[str, Any], roles: tuple[str, ...]) -> LLMOptions:
    """The LLM-related option values (shared and per role) as the API's `LLMOptions`."""
    return LLMOptions(
        base_url=opts.get("base_url"), model=opts.get("model"), temperature=opts.get("temperature"),
        roles={r: RoleOverride(model=opts.get(f"{r}_model"), base_url=opts.get(f"{r}_base_url")) for r in roles})
