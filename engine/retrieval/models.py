"""Pydantic models at the retrieval boundary: what `Retriever.search` returns and the CLI prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Method = Literal["bm25", "dense", "hybrid", "graph"]
METHODS: tuple[Method, ...] = ("bm25", "dense", "hybrid", "graph")


class Reason(BaseModel):
    """Why a tool is in the result (a first-stage hit, or an edge from a top hit) or where it is (an alternative
    of a higher-ranked hit, stepped back in a multi-part request)."""

    kind: Literal["lexical", "dense", "graph", "alternative"]
    score: float = Field(description="BM25 score (lexical), cosine to the query (dense), edge score (graph), "
                                     "share of its score given up (alternative).")
    rank: int | None = Field(default=None, description="1-based rank in that first stage (lexical, dense).")
    via: str | None = Field(default=None, description="graph: the top hit whose edge brought this tool in; "
                                                      "alternative: the higher-ranked hit it is an alternative of.")
    via_name: str | None = Field(default=None, description="The name of the `via` tool.")
    edge: Literal["FEEDS", "SHARES_INPUT"] | None = None
    direction: Literal["out", "in"] | None = Field(
        default=None, description="graph: 'out' when `via` feeds this tool (via → tool), 'in' when this tool feeds `via`.")
    via_field: str | None = Field(default=None, description="graph: the field of `via` on the edge.")
    field: str | None = Field(default=None, description="graph: this tool's field on the edge.")
    contribution: float | None = Field(default=None, description="graph: the edge evidence g; the final score is max(fused score, g).")


class Hit(BaseModel):
    rank: int
    id: str
    name: str
    score: float
    reasons: list[Reason]


class RetrievalResult(BaseModel):
    query: str
    method: Method
    k: int
    hits: list[Hit]
