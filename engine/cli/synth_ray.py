"""`toolflow synth --executor ray`: the CLI's options for the Ray executor (the run is engine/api/synth.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from toolflow.engine.api.config import ExecutorConfig
from toolflow.engine.cli.options import config_option


def ray_cli_options(f: Callable) -> Callable:
    """--executor and --ray-address (the worker count is --workers)."""
    f = config_option(ExecutorConfig, "ray_address", "--ray-address", metavar="auto|HOST:PORT")(f)
    return config_option(ExecutorConfig, "executor", "--executor")(f)


def check_base_urls(opts: dict[str, Any]) -> list[str]:
    """The repeated --base-url values; the first one stays the shared endpoint. Several only with Ray."""
    urls = list(opts.get("base_url") or ())
    if len(urls) > 1 and opts["executor"] != "ray":
        raise click.UsageError("several --base-url are spread over Ray workers: add --executor ray",
                               ctx=click.get_current_context(silent=True))
    opts["base_url"] = urls[0] if urls else None
    return urls


def executor_config(opts: dict[str, Any], base_urls: list[str]) -> ExecutorConfig:
    return ExecutorConfig(workers=opts["workers"], executor=opts["executor"], ray_address=opts["ray_address"],
                          base_urls=base_urls)
