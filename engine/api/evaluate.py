"""Evaluation as a use case: measure dialogue files (`toolflow.evaluate`), or run the paper's ablation.

The LLM is opened only when something needs it (no local server for ``judge=False`` with an NLI model).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from toolflow.engine.api.config import AblateConfig, EvalConfig
from toolflow.engine.api.console import quiet_console
from toolflow.engine.api.llm import LLMOptions, open_llm
from toolflow.engine.api.stores import open_graph_store
from toolflow.engine.llm.base import LLM

#: Test seam: when set, replaces the project embedder (a callable list[str] -> np.ndarray) for SS.
EMBED_FACTORY: Callable[[], Callable[[list[str]], Any]] | None = None


def embedder() -> Callable[[list[str]], Any]:
    """The embedder SS is measured with (all-MiniLM-L6-v2, or the test seam's)."""
    if EMBED_FACTORY is not None:
        return EMBED_FACTORY()
    from toolflow.engine.eval.evaluate import project_embedder

    return project_embedder()


@contextlib.contextmanager
def maybe_llm(needed: bool, options: LLMOptions | Mapping[str, Any] | None) -> Iterator[LLM | None]:
    """The LLM only when something needs it."""
    if not needed:
        yield None
        return
    with open_llm(options) as llm:
        yield llm


async def closing(llm: LLM | None, coro: Any) -> Any:
    """Await `coro`, then close `llm`'s connections."""
    try:
        return await coro
    finally:
        if llm is not None:
            await llm.aclose()


def judge_model_name(llm: LLM | None) -> str | None:
    """The judge role's model name, as recorded in a report (None when unknown)."""
    if llm is None:
        return None
    from toolflow.engine.synth.loop import models_of

    name = models_of(llm).get("judge")
    return None if name in (None, "unknown") else name


def evaluate(files: Sequence[str | Path] | str | Path, config: EvalConfig | None = None, *,
             llm: LLMOptions | Mapping[str, Any] | None = None, console: Console | None = None,
             progress: bool = False) -> list[Any]:
    """Measure each dialogue file as the paper does (SS, EnR, H, Distinct-3, the LLM judge) plus ToolFlow's
    structural metrics; one `EvalReport` per file (rejects are read from ``<stem>.rejects.jsonl`` beside it)."""
    from toolflow.engine.eval.evaluate import evaluate_file, needs_llm

    config = config or EvalConfig()
    paths = [Path(files)] if isinstance(files, (str, Path)) else [Path(f) for f in files]
    console = console or quiet_console()
    embed = embedder()

    async def run_all(model: LLM | None) -> list[Any]:
        name = judge_model_name(model)
        return [await evaluate_file(f, llm=model, options=config, embed=embed, console=console,
                                    show_progress=progress, judge_model=name) for f in paths]

    with maybe_llm(needs_llm(config), llm) as model:
        return asyncio.run(closing(model, run_all(model)))


def ablate(config: AblateConfig, out_dir: Path, *, store: str | None = None, eval_config: EvalConfig | None = None,
           llm: LLMOptions | Mapping[str, Any] | None = None, console: Console | None = None,
           progress: bool = False) -> list[Any]:
    """The paper's ablation (Graph+Plan, −Plan, −Graph, −Both) synthesized and evaluated into `out_dir`;
    one row per setting (``write_outputs`` turns them into table.md, table.json and plot.png)."""
    from toolflow.engine.eval.ablate import run_ablation
    from toolflow.engine.sampling.sources import StoreSampleSource

    eval_config = eval_config or EvalConfig(seed=config.seed)
    console = console or quiet_console()
    embed = embedder()
    with open_graph_store(store) as graph, open_llm(llm) as model:
        return asyncio.run(closing(model, run_ablation(
            model, StoreSampleSource(graph), n=config.n, seed=config.seed, out_dir=out_dir,
            run_options=config.run_options(), eval_options=eval_config, embed=embed, console=console,
            show_progress=progress, judge_model=judge_model_name(model))))
