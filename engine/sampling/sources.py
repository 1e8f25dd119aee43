"""Sample sources: where a synthesis job gets its tool combinations (the seam between sampling and synth).

Two sources: a tools file (with an optional samples file, e.g. written by `toolflow sample`), and a graph
store (the graph sampler, tool schemas read from the store). Both are deterministic in (n, seed,
strategy), because sample i belongs to dialogue i across reruns and shards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from toolflow.engine.models import Sample, Tool
from toolflow.engine.sampling.records import read_samples
from toolflow.engine.sampling.walk import DEFAULT_MAX_TOOLS, DEFAULT_MIN_TOOLS
from toolflow.engine.seeds import rng_for
from toolflow.engine.stores.base import GraphStore


@runtime_checkable
class SampleSource(Protocol):
    """Contract: ``samples(n, seed, strategy)`` is deterministic (same arguments → same sequence) and may
    yield fewer than n; ``tools(ids)`` returns the Tool objects for a sample's ``tool_ids``, in that order,
    raising KeyError for an unknown id."""

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]: ...

    def tools(self, ids: Sequence[str]) -> list[Tool]: ...


def _read_tool_records(path: Path) -> list[Tool] | None:
    """The file as JSONL of Tool records (e.g. dumped from a graph store), or None if it is not that."""
    tools = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    tools.append(Tool.model_validate_json(line))
    except (ValueError, UnicodeDecodeError):
        return None
    return tools or None


def load_tool_file(path: Path) -> list[Tool]:
    """Tools from a JSONL of Tool records (ids kept as they are), else via `toolflow.loaders.load_tools`
    (any supported format, format detected from the content)."""
    tools = _read_tool_records(path)
    if tools is not None:
        return tools
    from toolflow.loaders import load_tools

    return list(load_tools(path).tools)


class FileSampleSource:
    """SampleSource over a tools file and, optionally, a samples file.

    With samples: the i-th record is sample i (at most n). Without: sample i is a reproducible uniform
    random combination of DEFAULT_MIN_TOOLS..DEFAULT_MAX_TOOLS tools (the paper's −Graph setting).
    Sample `tool_ids` may name tools by id or, for hand-written files, by function name.
    """

    def __init__(self, tools: list[Tool], samples: list[Sample] | None = None,
                 combo: tuple[int, int] = (DEFAULT_MIN_TOOLS, DEFAULT_MAX_TOOLS)):
        if not tools:
            raise ValueError("no tools to synthesize with")
        self.all_tools = tools
        self._by_key: dict[str, Tool] = {t.name: t for t in tools} | {t.id: t for t in tools}
        self._samples = samples
        self._combo = combo

    @classmethod
    def from_paths(cls, tools: Path, samples: Path | None = None) -> FileSampleSource:
        return cls(load_tool_file(tools), read_samples(samples) if samples else None)

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]:
        if self._samples is not None:
            yield from self._samples[:n]
            return
        ids = [t.id for t in self.all_tools]
        for i in range(n):
            rng = rng_for(seed, i, "sample")
            k = min(len(ids), rng.randint(*self._combo))
            yield Sample(id=f"rnd-{seed}-{i}", tool_ids=rng.sample(ids, k), strategy="file-random", seed=seed)

    def tools(self, ids: Sequence[str]) -> list[Tool]:
        return [self._by_key[i] for i in ids]


class StoreSampleSource:
    """SampleSource over the tool graph: combinations from the graph sampler, tool schemas from the store.

    The sampler is asked for the whole job (n, seed) at once, so sample i is the same on every rerun and shard.
    With `samples` (e.g. a file written by `toolflow sample` from this store) those are used instead.
    """

    def __init__(self, store: GraphStore, *, min_tools: int = DEFAULT_MIN_TOOLS, max_tools: int = DEFAULT_MAX_TOOLS,
                 samples: list[Sample] | None = None, **walk_options: object) -> None:
        self.store = store
        self._min, self._max = min_tools, max_tools
        self._samples = samples
        self._walk_options = walk_options

    def samples(self, n: int, seed: int, strategy: str) -> Iterator[Sample]:
        if self._samples is not None:
            yield from self._samples[:n]
            return
        from toolflow.engine.sampling import make_sampler

        options = dict(self._walk_options) if strategy == "walk" else {}
        yield from make_sampler(strategy, self.store, min_tools=self._min, max_tools=self._max,
                                **options).sample(n, seed)

    def tools(self, ids: Sequence[str]) -> list[Tool]:
        return self.store.get_tools(list(ids))
