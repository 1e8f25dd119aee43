"""The worker side of `--executor ray`: one dialogue in, one outcome out, nothing written.

A :class:`SynthWorker` becomes a Ray actor (the driver wraps it with ``ray.remote``, so this module never
imports Ray). Each holds its own async LLM client, built once from a picklable factory, and plays the
dialogues the driver sends with the same retry rule as a local run. It writes no file and reads no
store: the driver resolved the sample's tools and alone writes the outputs, so a worker that dies loses
nothing but the dialogues in flight, which the driver hands to another worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import BaseModel, Field

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Dialogue, Sample, Tool
from toolflow.engine.synth.loop import SynthConfig, synthesize


class DialogueTask(BaseModel):
    """Everything a worker needs for one dialogue: the driver's choices, shipped whole."""

    index: int
    sample: Sample
    tools: list[Tool]
    config: SynthConfig
    retries: int = Field(ge=0)


class AttemptError(BaseModel):
    """An attempt that raised: the exception's type name and message (the run reports each name once)."""

    name: str
    message: str


class Outcome(BaseModel):
    """What became of one task: the dialogue (kept or not, the driver decides dedup) or only errors."""

    index: int
    dialogue: Dialogue | None = None
    usage: UsageTracker = Field(default_factory=UsageTracker, description="Every attempt's tokens.")
    wasted: UsageTracker = Field(default_factory=UsageTracker, description="Tokens of attempts that raised.")
    errors: list[AttemptError] = Field(default_factory=list)


class SynthWorker:
    """A Ray actor's body: an LLM client per worker, dialogues played concurrently on its event loop."""

    def __init__(self, llm_factory: Callable[[], LLM]) -> None:
        self.llm = llm_factory()

    def pid(self) -> int:
        """The worker's process id (the driver names it when a worker dies; tests kill it)."""
        return os.getpid()

    async def run(self, task: DialogueTask) -> Outcome:
        """Play one dialogue, retrying one that raises `task.retries` times, as a local run does."""
        outcome = Outcome(index=task.index)
        for _ in range(task.retries + 1):
            tracker = UsageTracker()
            try:
                outcome.dialogue = await synthesize(self.llm, task.sample, task.tools, index=task.index,
                                                    config=task.config, tracker=tracker)
            except Exception as exc:  # noqa: BLE001 - a dialogue that raises must not end the worker
                outcome.wasted.merge(tracker)
                outcome.errors.append(AttemptError(name=type(exc).__name__, message=str(exc)[:500]))
                continue
            finally:
                outcome.usage.merge(tracker)
            return outcome
        return outcome
