"""Optional LLM verification of uncertain FEEDS edges (`graph build --verify-edges`).

The graph build stays pure (no model in it); this step runs after it and before the write. Edges whose
calibrated `probability` (`toolflow.engine.graph.edge_scorer`) falls in an uncertain band are asked once
each to a capable model through the engine's LLM client, which caches every answer on disk (a rebuild
asks nothing again) and counts tokens. The answer is recorded on the edge as `verified: true/false`; no
edge is dropped, so a user chooses in Cypher whether to trust it. A token budget stops asking once spent:
the edges not asked keep `verified` unset and are counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from toolflow.engine.llm.base import LLM, UsageTracker
from toolflow.engine.models import Tool

SYSTEM = ("You check data flows between API tools. Answer whether a value returned by the first tool is the "
          "kind of value the second tool's parameter takes (the same thing, not just a similar word), so a "
          "caller would pass it on.")


class EdgeVerdict(BaseModel):
    """The model's answer for one edge."""

    flows: bool = Field(description="true when the returned value can fill the parameter")
    reason: str = Field(description="one short sentence")


class VerifyReport(BaseModel):
    """What verification asked and spent."""

    in_band: int = 0
    asked: int = 0
    confirmed: int = 0
    rejected: int = 0
    over_budget: int = 0
    tokens: int = 0
    cached: int = 0


def _tool_text(t: Tool) -> str:
    return f"{t.name}: {' '.join(t.description.split())[:400]}"


def edge_messages(edge: dict, src: Tool, dst: Tool) -> list[dict[str, str]]:
    user = (f"First tool  {_tool_text(src)}\nReturned value: {edge.get('from_field')}\n\n"
            f"Second tool {_tool_text(dst)}\nParameter: {edge.get('to_param')}\n\n"
            f"Evidence found so far: {edge.get('evidence')}. Does the value flow into the parameter?")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def in_band(feeds: Sequence[dict], low: float, high: float) -> list[dict]:
    """Edges whose probability lies in [low, high] (edges without one are not scored, so not asked)."""
    return [e for e in feeds if e.get("probability") is not None and low <= e["probability"] <= high]


async def verify_edges(feeds: Sequence[dict], tools: Sequence[Tool], llm: LLM, low: float = 0.3,
                       high: float = 0.7, budget_tokens: int = 50_000) -> VerifyReport:
    """Ask the model about each edge in the band, in order, until `budget_tokens` are spent."""
    by_id = {t.id: t for t in tools}
    tracker = UsageTracker()
    band = in_band(feeds, low, high)
    rep = VerifyReport(in_band=len(band))
    for e in band:
        if tracker.total().tokens >= budget_tokens:
            rep.over_budget += 1
            continue
        verdict = await llm.structured("judge", edge_messages(e, by_id[e["src"]], by_id[e["dst"]]), EdgeVerdict,
                                       tracker=tracker)
        e["verified"] = bool(verdict.flows)
        rep.asked += 1
        rep.confirmed += int(verdict.flows)
        rep.rejected += int(not verdict.flows)
    total = tracker.total()
    rep.tokens, rep.cached = total.tokens, total.cached
    return rep
