"""`toolflow synth --executor ray`: the CLI's options for the Ray executor and the call into it.

Kept apart from `cli/synth.py` so the local path never imports Ray, which is an optional extra.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from toolflow.engine.cli.options import Fail
from toolflow.engine.llm.base import LLM
from toolflow.engine.sampling.sources import SampleSource
from toolflow.engine.synth.job import RunConfig, RunSummary

EXECUTORS = ("local", "ray")


def ray_cli_options(f: Callable) -> Callable:
    """--executor and --ray-address (the worker count reuses --workers)."""
    f = click.option("--ray-address", default=None, metavar="auto|HOST:PORT",
                     help="Ray cluster for --executor ray (default: a private cluster on this machine, on loopback).")(f)
    f = click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
                     help="local: this machine (--workers processes); ray: --workers Ray actors on a cluster, "
                          "the outputs written here alone (same ids, same resume).")(f)
    return f


def check_base_urls(opts: dict[str, Any]) -> list[str]:
    """The repeated --base-url values; the first one stays the shared endpoint. Several only with Ray."""
    urls = list(opts.get("base_url") or ())
    if len(urls) > 1 and opts["executor"] != "ray":
        raise click.UsageError("several --base-url are spread over Ray workers: add --executor ray",
                               ctx=click.get_current_context(silent=True))
    opts["base_url"] = urls[0] if urls else None
    return urls


def run_on_ray(llm: LLM, source: SampleSource, config: RunConfig, opts: dict[str, Any], base_urls: list[str],
               console: Console) -> RunSummary:
    """The job on Ray workers (one per --workers), endpoints spread over them."""
    if importlib.util.find_spec("ray") is None:
        raise Fail("--executor ray needs Ray: pip install 'toolflow[ray]'")
    from toolflow.engine.raycluster import RayOptions
    from toolflow.engine.synth.ray_run import run_with_ray, worker_factories

    try:
        factories = worker_factories(llm, opts["workers"], base_urls)
    except ValueError as exc:
        raise Fail(str(exc)) from exc
    options = RayOptions(address=opts["ray_address"], workers=opts["workers"])
    try:
        return run_with_ray(llm, source, config, options, factories=factories, console=console,
                            show_progress=opts["progress"])
    except (ConnectionError, TimeoutError) as exc:  # Ray's GetTimeoutError is a TimeoutError: workers never started
        where = opts["ray_address"] or "a local cluster"
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise Fail(f"--executor ray: cannot run on {where}: {reason}") from exc
