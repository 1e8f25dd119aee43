"""EnR: the share of consecutive round pairs judged *entailment*, premise = the previous round (request +
response), hypothesis = the current request (the paper follows Dziri et al. 2019).

Two judges, and the report says which one was used:

- ``--nli-model PATH``: a local NLI cross-encoder (sentence-transformers ``CrossEncoder``); its label order is
  read from the model's ``id2label`` (models disagree on it: some put entailment first, some second);
- otherwise the judge-role LLM with the fixed prompt ``prompts/nli.md`` and a three-label enum schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError

LABELS = ("entailment", "neutral", "contradiction")
NLI_PROMPT = Path(__file__).parent / "prompts" / "nli.md"
NLI_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": list(LABELS)}},
    "required": ["label"],
    "additionalProperties": False,
}


class EnRResult(BaseModel):
    enr: float | None
    pairs: int
    entailed: int
    failed: int = 0
    method: Literal["cross-encoder", "llm", "none"]
    model: str | None = None


def entailment_index(id2label: dict[Any, str]) -> int:
    """The output column that means entailment, from a model config's id2label."""
    for idx, label in id2label.items():
        if str(label).lower().startswith("entail"):
            return int(idx)
    raise ValueError(f"the NLI model has no entailment label (id2label = {dict(id2label)})")


def cross_encoder_enr(pairs: Sequence[tuple[str, str]], model_path: str, batch_size: int = 32) -> EnRResult:
    """EnR with a local NLI CrossEncoder: a pair is entailed when the entailment logit is the largest."""
    import numpy as np
    from sentence_transformers import CrossEncoder

    path = Path(model_path)
    if not path.exists():
        raise FileNotFoundError(f"--nli-model: {model_path} does not exist (give a local cross-encoder folder)")
    model = CrossEncoder(str(path), device="cpu")
    ent = entailment_index(model.model.config.id2label)
    if not pairs:
        return EnRResult(enr=None, pairs=0, entailed=0, method="cross-encoder", model=str(path))
    scores = np.asarray(model.predict(list(pairs), batch_size=batch_size, show_progress_bar=False))
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"--nli-model: {model_path} is not a multi-label NLI model (output shape {scores.shape})")
    entailed = int(np.sum(scores.argmax(axis=1) == ent))
    return EnRResult(enr=entailed / len(pairs), pairs=len(pairs), entailed=entailed, method="cross-encoder",
                     model=str(path))


def nli_messages(premise: str, hypothesis: str, prompt: str | None = None) -> list[dict[str, Any]]:
    system = prompt if prompt is not None else NLI_PROMPT.read_text(encoding="utf-8")
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"PREMISE:\n{premise}\n\nHYPOTHESIS:\n{hypothesis}"}]


def _label(value: Any) -> str:
    label = value.get("label") if isinstance(value, dict) else None
    if label not in LABELS:
        raise ValueError(f"label must be one of {list(LABELS)}, got {label!r}")
    return label


async def llm_enr(
    llm: LLM,
    pairs: Sequence[tuple[str, str]],
    *,
    concurrency: int = 4,
    tracker: UsageTracker | None = None,
    on_done: Callable[[], None] | None = None,
    model: str | None = None,
) -> EnRResult:
    """EnR with the judge LLM. A pair whose answer stays unusable is counted in `failed` and left out."""
    prompt = NLI_PROMPT.read_text(encoding="utf-8")
    gate = asyncio.Semaphore(concurrency)

    async def one(premise: str, hypothesis: str) -> str | None:
        async with gate:
            try:
                return await llm.structured_json("judge", nli_messages(premise, hypothesis, prompt), NLI_SCHEMA,
                                                 validate=_label, name="nli", tracker=tracker)
            except StructuredOutputError:
                return None
            finally:
                if on_done:
                    on_done()

    labels = await asyncio.gather(*(one(p, h) for p, h in pairs))
    judged = [x for x in labels if x is not None]
    entailed = sum(1 for x in judged if x == "entailment")
    return EnRResult(enr=entailed / len(judged) if judged else None, pairs=len(pairs), entailed=entailed,
                     failed=len(labels) - len(judged), method="llm", model=model)
