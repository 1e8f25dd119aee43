"""The LLM judge: naturalness, coherence, helpfulness and accuracy on 1–5 for a seeded subsample.

The rubric is the editable prompt file ``prompts/judge.md`` (pass another with ``rubric=``); answers are
structured (a JSON schema of four integers 1–5 through the LLM's ``structured_json``). The paper judges
200 dialogues; the subsample is ``random.Random(seed).sample`` over the file, so the same seed judges the
same dialogues on every rerun and in every ablation setting of the same size.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.llm.errors import StructuredOutputError

CRITERIA = ("naturalness", "coherence", "helpfulness", "accuracy")
JUDGE_PROMPT = Path(__file__).parent / "prompts" / "judge.md"
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    # an enum, not minimum/maximum: llama.cpp turns enums into its grammar but ignores integer bounds, and
    # SmolLM2-135M then answered accuracy 7 on every re-ask (3 of 3 in our first local ablation run)
    "properties": {c: {"type": "integer", "enum": [1, 2, 3, 4, 5]} for c in CRITERIA},
    "required": list(CRITERIA),
    "additionalProperties": False,
}
#: Tool results are cut in the transcript: the judge needs their gist, not 5 kB of JSON per call.
RESULT_CHARS = 600


class JudgeResult(BaseModel):
    means: dict[str, float | None] = Field(default_factory=dict)
    judged: int = 0
    failed: int = 0
    sampled_ids: list[str] = Field(default_factory=list)
    scores: dict[str, dict[str, int]] = Field(default_factory=dict, description="Per dialogue id.")
    model: str | None = None
    rubric: str = str(JUDGE_PROMPT)


def subsample(dialogues: Sequence[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """`n` dialogues drawn with Random(seed), in file order; all of them when the file has fewer."""
    if n >= len(dialogues):
        return list(dialogues)
    picked = sorted(random.Random(seed).sample(range(len(dialogues)), n))
    return [dialogues[i] for i in picked]


def transcript(dialogue: dict[str, Any]) -> str:
    """The dialogue as the judge reads it: tools offered, then the turns (no system prompt)."""
    lines = ["TOOLS:"]
    for t in dialogue.get("tools", []):
        fn = t.get("function", t)
        lines.append(f"- {fn.get('name')}: {(fn.get('description') or '').strip()[:200]}")
    lines.append("")
    lines.append("DIALOGUE:")
    for m in dialogue.get("messages", []):
        role = m.get("role")
        content = m.get("content") if isinstance(m.get("content"), str) else ""
        if role == "user":
            lines.append(f"USER: {content}")
        elif role == "assistant":
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                lines.append(f"ASSISTANT calls {fn.get('name')}({fn.get('arguments')})")
            if content.strip():
                lines.append(f"ASSISTANT: {content}")
        elif role == "tool":
            text = content if len(content) <= RESULT_CHARS else content[:RESULT_CHARS] + " …"
            lines.append(f"TOOL {m.get('name') or ''} result: {text}")
    return "\n".join(lines)


def _scores(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object with the four scores")
    out = {}
    for c in CRITERIA:
        v = value.get(c)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5:
            raise ValueError(f"{c} must be an integer from 1 to 5, got {v!r}")
        out[c] = v
    return out


async def judge_dialogues(
    llm: LLM,
    dialogues: Sequence[dict[str, Any]],
    *,
    rubric: Path | None = None,
    concurrency: int = 4,
    tracker: UsageTracker | None = None,
    on_done: Callable[[], None] | None = None,
    model: str | None = None,
) -> JudgeResult:
    """Score each dialogue; one whose answer stays unusable counts in `failed` and is left out of the means."""
    path = rubric or JUDGE_PROMPT
    system = path.read_text(encoding="utf-8")
    gate = asyncio.Semaphore(concurrency)

    async def one(d: dict[str, Any]) -> dict[str, int] | None:
        async with gate:
            try:
                return await llm.structured_json(
                    "judge", [{"role": "system", "content": system}, {"role": "user", "content": transcript(d)}],
                    JUDGE_SCHEMA, validate=_scores, name="judgement", tracker=tracker)
            except StructuredOutputError:
                return None
            finally:
                if on_done:
                    on_done()

    results = await asyncio.gather(*(one(d) for d in dialogues))
    scores = {str(d.get("id")): s for d, s in zip(dialogues, results, strict=True) if s is not None}
    means = {c: (sum(s[c] for s in scores.values()) / len(scores) if scores else None) for c in CRITERIA}
    return JudgeResult(means=means, judged=len(scores), failed=len(results) - len(scores),
                       sampled_ids=[str(d.get("id")) for d in dialogues], scores=scores, model=model,
                       rubric=str(path))
