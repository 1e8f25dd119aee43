"""Sampling as a use case: tool combinations from the graph, or the strategies compared on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toolflow.engine.api.config import SampleConfig
from toolflow.engine.api.stores import open_graph_store
from toolflow.engine.errors import ConfigError
from toolflow.engine.models import Sample


@dataclass
class Samples:
    """The drawn samples and what the draw cost the store."""

    samples: list[Sample]
    round_trips: int


def sample(store: str | None = None, config: SampleConfig | None = None, *,
           progress: Callable[[int], None] | None = None) -> Samples:
    """Draw `config.n` tool combinations from the graph in `store` by `config.strategy` (same seed, same
    samples). `progress` is called with the number of samples drawn since its last call."""
    from toolflow.engine.sampling import make_sampler

    config = config or SampleConfig()
    if config.strategy != "walk" and config.walk_only_set():
        raise ConfigError("--types, --coverage, --strict, --any-start and --feeds-weight apply to --strategy walk "
                          "only")
    with open_graph_store(store) as graph:
        try:
            sampler = make_sampler(config.strategy, graph, **config.sampler_options())
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        drawn = sampler.sample(config.n, config.seed, progress=progress)
        return Samples(samples=drawn, round_trips=sampler.round_trips)


def relatedness(store: str | None = None, config: SampleConfig | None = None, *,
                progress: Callable[[int], None] | None = None) -> dict[str, dict[str, Any]]:
    """How related the tool sets of each strategy are on this graph (`config.n` samples per strategy)."""
    from toolflow.engine.sampling import STRATEGIES
    from toolflow.engine.sampling.report import relatedness_report

    config = config or SampleConfig()
    sizes = {"min_tools": config.min_tools, "max_tools": config.max_tools}
    opts: dict[str, dict[str, Any]] = {name: dict(sizes) for name in STRATEGIES}
    opts["walk"].update(config.walk_options())
    with open_graph_store(store) as graph:
        return relatedness_report(graph, config.n, config.seed, sampler_options=opts, progress=progress)
